/* Small pieces of UI the pages share: badges, scores, agent cells, dimension bars, rule names. */
import { h } from './dom.js';
import { fmtNum, scoreClass } from './format.js';
import { DIMENSIONS, RULE_NAMES, label, tone } from './labels.js';
import { enc } from './url.js';

export function badge(text, colour) {
  return h('span', { class: ['badge', colour ? `badge-${colour}` : ''] }, text);
}

// A value of vocabulary ``name`` as a badge of its tone (the bare value when the vocabulary lacks it).
export function labelled(name, key) {
  const text = label(name, key);
  if (text === undefined) return badge(key || '—');
  return badge(text, tone(name, key));
}

export function alertBadge(level) {
  if (!level || level === 'none') return h('span', { class: 'muted' }, '—');
  return h('span', { class: ['badge', `badge-${level}`] }, h('span', { class: ['dot', `dot-${level}`] }),
    label('alert_level', level, level));
}

export function scoreSpan(score) {
  return h('span', { class: ['score', scoreClass(score)] }, fmtNum(score));
}

export function dimensionName(id, meta) {
  return (meta && meta[id] && meta[id].name) || (DIMENSIONS[id] && DIMENSIONS[id].name) || id || '—';
}

export function ruleName(hit) {
  return hit.name || hit.rule_name || RULE_NAMES[hit.rule_id] || label('check_category', hit.category) || hit.rule_id;
}

// An agent's name (the id when it has none), linked to its scorecard; the id muted beside a name.
export function agentCell(item, link) {
  const label = item.agent_name || item.agent_id;
  return [link ? h('a', { href: `#/agents/${enc(item.agent_id)}` }, label) : label,
    item.agent_name ? h('span', { class: 'muted small' }, ` ${item.agent_id}`) : null];
}

export function dimensionBar(name, score, weight) {
  const ratio = weight ? Math.max(0, Math.min(1, Number(score) / Number(weight))) : 0;
  const cls = ratio < 0.6 ? 'bad' : (ratio < 0.85 ? 'mid' : 'good');
  return h('div', { class: 'bar-row' }, h('span', null, name),
    h('div', { class: 'bar-track' }, h('div', { class: ['bar-fill', cls], style: { width: `${ratio * 100}%` } })),
    h('span', { class: 'val' }, weight ? `${fmtNum(score)} / ${fmtNum(weight)}` : fmtNum(score)));
}
