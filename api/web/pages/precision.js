/* 规则精度: each rule's precision from the reviewers' verdicts. */
import { api, itemsOf } from '../core/api.js';
import { setMain } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtNum, fmtPct } from '../core/format.js';

export async function pagePrecision(ctx) {
  const data = await api('/rules/precision');
  if (!ctx.alive()) return;
  const items = itemsOf(data).slice().sort((a, b) => {
    const pa = a.precision === null || a.precision === undefined ? 2 : a.precision;
    const pb = b.precision === null || b.precision === undefined ? 2 : b.precision;
    return pa - pb || (b.rejected || 0) - (a.rejected || 0);
  });
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '规则精度'),
      h('span', { class: 'sub' }, '精度 = 确认 ÷（确认 + 驳回），按误报最多排在前面')),
    h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'precision' },
      h('thead', null, h('tr', null, h('th', null, '规则'), h('th', null, '规则编号'), h('th', { class: 'num' }, '确认'),
        h('th', { class: 'num' }, '驳回（误报）'), h('th', { class: 'num' }, '复核次数'), h('th', null, '精度'))),
      h('tbody', null, items.map((rule) => {
        const p = rule.precision;
        const colour = p === null || p === undefined ? '#cbd5e1' : (p < 0.6 ? '#dc2626' : (p < 0.85 ? '#f59e0b' : '#22a05a'));
        return h('tr', { dataset: { ruleId: rule.rule_id } }, h('td', null, rule.name || rule.rule_id),
          h('td', { class: 'mono muted' }, rule.rule_id),
          h('td', { class: 'num' }, fmtNum(rule.confirmed || 0)), h('td', { class: 'num' }, fmtNum(rule.rejected || 0)),
          h('td', { class: 'num' }, fmtNum((rule.confirmed || 0) + (rule.rejected || 0))),
          h('td', null, h('span', { class: 'precision-bar' }, h('span', { style: { width: `${(p || 0) * 100}%`, background: colour } })),
            p === null || p === undefined ? h('span', { class: 'muted' }, '暂无复核') : fmtPct(p)));
      }))) : h('div', { class: 'empty' }, '暂无复核判定数据')));
}
