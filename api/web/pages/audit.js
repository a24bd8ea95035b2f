/* The audit trail of a call (reviewers): who changed what, before → after. */
import { h } from '../core/dom.js';
import { fmtNum, fmtTime } from '../core/format.js';
import { AUDIT_ACTION, AUDIT_FIELD, RULE_NAMES, label } from '../core/labels.js';

export function auditCard(entries) {
  const rows = entries.slice().reverse();
  return h('div', { class: 'card', id: 'audit' }, h('h2', null, '审计记录', h('span', { class: 'muted small' }, `（${entries.length} 条）`)),
    rows.length ? h('table', { class: 'table audit' },
      h('thead', null, h('tr', null, h('th', null, '时间'), h('th', null, '操作人'), h('th', null, '操作'), h('th', null, '变更'))),
      h('tbody', null, rows.map((entry) => h('tr', null,
        h('td', null, fmtTime(entry.at)),
        h('td', null, String(entry.actor || '').replace(/^user:/, ''),
          entry.role ? h('div', { class: 'muted' }, label('user_role', entry.role, entry.role)) : null),
        h('td', null, AUDIT_ACTION[entry.action] || entry.action),
        h('td', { class: 'wrap' }, auditChange(entry), entry.reason ? h('div', { class: 'muted' }, `理由：${entry.reason}`) : null)))))
      : h('div', { class: 'empty' }, '暂无变更记录'));
}

const AUDIT_HIDDEN = new Set(['analysis_id', 'call_id', 'appeal_id', 'review_id']);
const AUDIT_CONTEXT = new Set(['hit_index', 'rule_id']);

function auditChange(entry) {
  const before = entry.before || {};
  const after = entry.after || {};
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((key) => !AUDIT_HIDDEN.has(key));
  const words = { confirmed: '确认', rejected: '驳回', accepted: '接受', open: '待处理', pending: '待复核', done: '已完成',
    red: '红色预警', fatal: '一票否决', lowest: '最低分', random: '随机抽检', appeal: '申诉', manual: '人工指派' };
  const show = (key, value) => {
    if (value === null || value === undefined) return '—';
    if (key === 'rule_id') return RULE_NAMES[value] || String(value);
    if (key === 'hit_index') return `#${value}`;
    if (typeof value === 'number') return fmtNum(value);
    if (typeof value === 'object') return JSON.stringify(value);
    return words[value] || String(value);
  };
  const lines = [];
  for (const key of keys) {
    const label = `${AUDIT_FIELD[key] || key}：`;
    const had = key in before;
    const has = key in after;
    const same = had && has && JSON.stringify(before[key]) === JSON.stringify(after[key]);
    if (same) {
      if (AUDIT_CONTEXT.has(key)) lines.push(h('div', { class: 'muted' }, label, show(key, after[key])));
      continue;
    }
    lines.push(h('div', null, label, had ? `${show(key, before[key])} → ` : '', h('b', null, show(key, has ? after[key] : null))));
  }
  return lines;
}
