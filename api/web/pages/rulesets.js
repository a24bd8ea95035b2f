/*
 * 规则集: the stored rule sets; per set not in use a backtest (试运行（回测）: what it would change on the done
 * calls, nothing written) whose result is shown before the admin's 启用 (activate, with confirmation).
 */
import { api, itemsOf } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { append, clear, h } from '../core/dom.js';
import { fmtNum, fmtPct, fmtTime } from '../core/format.js';
import { route } from '../core/router.js';
import { state } from '../core/state.js';
import { enc } from '../core/url.js';
import { alertBadge, badge, scoreSpan } from '../core/widgets.js';

const num = (text) => h('td', { class: 'num' }, text);

function change(before, after) {
  const delta = Number(after) - Number(before);
  if (Math.abs(delta) < 1e-6) return h('span', { class: 'muted' }, '—');
  return h('span', { class: delta > 0 ? 'delta-up' : 'delta-down' }, `${delta > 0 ? '+' : ''}${fmtNum(delta)}`);
}

function rulesTable(rules) {
  return h('table', { class: 'table', id: 'backtest-rules' },
    h('thead', null, h('tr', null, h('th', null, '规则'), h('th', { class: 'num' }, '命中（现在）'),
      h('th', { class: 'num' }, '命中（回测）'), h('th', { class: 'num' }, '变化'), h('th', { class: 'num' }, '确认 / 驳回'),
      h('th', { class: 'num' }, '精度估计'))),
    h('tbody', null, rules.map((r) => h('tr', { dataset: { ruleId: r.rule_id } },
      h('td', null, r.name || r.rule_id, ' ', h('span', { class: 'mono muted small' }, r.rule_id),
        r.in_candidate ? null : [' ', badge('此规则集已删除', 'yellow')]),
      num(`${fmtNum(r.hits_before, 0)}（${fmtPct(r.hit_rate_before)}）`),
      num(`${fmtNum(r.hits_after, 0)}（${fmtPct(r.hit_rate_after)}）`),
      num(change(r.hits_before, r.hits_after)),
      num(`${fmtNum(r.confirmed, 0)} / ${fmtNum(r.rejected, 0)}`),
      num(r.precision_estimate === null || r.precision_estimate === undefined
        ? h('span', { class: 'muted' }, '暂无复核') : fmtPct(r.precision_estimate))))));
}

function agentsTable(agents) {
  return h('table', { class: 'table', id: 'backtest-agents' },
    h('thead', null, h('tr', null, h('th', null, '坐席'), h('th', { class: 'num' }, '通话数'),
      h('th', { class: 'num' }, '平均分（现在）'), h('th', { class: 'num' }, '平均分（回测）'), h('th', { class: 'num' }, '变化'))),
    h('tbody', null, agents.map((a) => h('tr', { dataset: { agentId: a.agent_id } },
      h('td', null, h('a', { href: `#/agents/${enc(a.agent_id)}` }, a.agent_id)), num(fmtNum(a.calls, 0)),
      num(scoreSpan(a.score_before)), num(scoreSpan(a.score_after)), num(change(a.score_before, a.score_after))))));
}

function callsTable(result) {
  const calls = result.calls_changed;
  if (!calls.length) return h('div', { class: 'empty' }, '没有通话的得分或预警等级会变化');
  return [h('table', { class: 'table', id: 'backtest-calls' },
    h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '坐席'), h('th', null, '日期'),
      h('th', { class: 'num' }, '得分（现在 → 回测）'), h('th', null, '预警（现在 → 回测）'))),
    h('tbody', null, calls.map((c) => h('tr', { dataset: { callId: c.call_id } },
      h('td', null, h('a', { href: `#/calls/${enc(c.call_id)}`, class: 'mono' }, c.call_id)), h('td', null, c.agent_id),
      h('td', null, c.day || '—'),
      num([scoreSpan(c.score_before), ' → ', scoreSpan(c.score_after), ' ', change(c.score_before, c.score_after)]),
      h('td', null, alertBadge(c.alert_before), ' → ', alertBadge(c.alert_after)))))),
  result.calls_changed_total > calls.length
    ? h('div', { class: 'muted small' }, `共 ${result.calls_changed_total} 通变化，只列出变化最大的 ${calls.length} 通`) : null];
}

function activateButton(ruleset) {
  if (state.user.role !== 'admin') return h('div', { class: 'muted small' }, '启用规则集需要管理员操作');
  const button = h('button', { class: 'btn btn-primary', type: 'button', id: 'activate' }, `启用「${ruleset.name}」v${ruleset.version}`);
  const error = h('div', { class: 'form-error', role: 'alert' });
  button.addEventListener('click', () => {
    const question = `确定启用规则集「${ruleset.name}」v${ruleset.version}？启用后所有已完成的通话将按新规则重新评分。`;
    if (!window.confirm(question)) return;
    busy(button, async () => {
      const done = await api(`/rulesets/${ruleset.id}/activate`, { method: 'POST' });
      toast(`已启用，${done.scheduled} 通通话排队重新评分`);
      route();
    }, error);
  });
  return h('div', { class: 'row backtest-actions' }, button, error);
}

function showResult(box, result) {
  const r = result.ruleset;
  const range = result.date_from || result.date_to ? `${result.date_from || '最早'} 至 ${result.date_to || '今天'}` : '全部日期';
  append(clear(box), [
    h('h2', null, `回测结果：${r.name} v${r.version}`),
    h('div', { class: 'muted', id: 'backtest-summary' },
      `${range}，回测 ${result.calls} 通已完成通话（跳过 ${result.skipped} 通），${result.calls_changed_total} 通得分或预警会变化，用时 ${fmtNum(result.seconds, 2)} 秒。不写入任何数据。`),
    h('h3', null, '各规则命中'), rulesTable(result.rules),
    h('h3', null, '各坐席得分'), result.agents.length ? agentsTable(result.agents) : h('div', { class: 'empty' }, '没有可回测的通话'),
    h('h3', null, '会变化的通话'), callsTable(result),
    activateButton(r)]);
  box.hidden = false;
  box.scrollIntoView({ block: 'start' });
}

export async function pageRulesets(ctx) {
  const data = await api('/rulesets');
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  const from = h('input', { type: 'date', name: 'date_from', 'aria-label': '回测开始日期' });
  const to = h('input', { type: 'date', name: 'date_to', 'aria-label': '回测结束日期' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'card', id: 'backtest', hidden: true });

  function backtestButton(ruleset) {
    const button = h('button', { class: 'btn btn-sm', type: 'button' }, '试运行（回测）');
    button.addEventListener('click', () => busy(button, async () => {
      clear(result);
      result.hidden = true;
      const body = {};
      if (from.value) body.date_from = from.value;
      if (to.value) body.date_to = to.value;
      const answer = await api(`/rulesets/${ruleset.id}/backtest`, { method: 'POST', body });
      if (ctx.alive()) showResult(result, answer);
    }, error));
    return button;
  }

  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '规则集'),
      h('span', { class: 'sub' }, '启用前先试运行：用已存转写重新评分已完成的通话，对比现有结果')),
    h('div', { class: 'card' },
      h('div', { class: 'filters' },
        h('label', { class: 'field' }, '回测开始日期', from), h('label', { class: 'field' }, '回测结束日期', to),
        h('span', { class: 'muted small' }, '不填：全部日期')),
      error,
      items.length ? h('table', { class: 'table', id: 'rulesets' },
        h('thead', null, h('tr', null, h('th', null, '编号'), h('th', null, '名称'), h('th', null, '版本'),
          h('th', { class: 'num' }, '规则数'), h('th', null, '状态'), h('th', null, '创建时间'), h('th', null, '操作'))),
        h('tbody', null, items.map((r) => h('tr', { dataset: { rulesetId: r.id } },
          h('td', { class: 'mono' }, r.id), h('td', null, r.name), h('td', null, `v${r.version}`), num(r.rule_count),
          h('td', null, r.active ? badge('启用中', 'green') : h('span', { class: 'muted' }, '未启用')),
          h('td', null, fmtTime(r.created_at)),
          h('td', null, r.active ? h('span', { class: 'muted small' }, `启用于 ${fmtTime(r.activated_at)}`) : backtestButton(r))))))
        : h('div', { class: 'empty' }, '还没有规则集')),
    result);
}
