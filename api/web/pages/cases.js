/* 投诉工单: the case list (filters, SLA clocks, statistics by cause) and one case (its steps 受理 → 关闭,
 * the two clocks, the calls, the history, and the next step for the roles that handle cases). */
import { api, itemsOf } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtNum, fmtPct, fmtTime } from '../core/format.js';
import { label } from '../core/labels.js';
import { go, route } from '../core/router.js';
import { state } from '../core/state.js';
import { enc } from '../core/url.js';
import { agentCell, alertBadge, badge } from '../core/widgets.js';

const STEPS = ['accepted', 'verifying', 'handling', 'feedback', 'revisit', 'closed'];
const HANDLERS = ['admin', 'reviewer', 'team_lead'];
const CLOCK_TEXT = { running: '计时中', overdue: '已超时', met: '按时完成', missed: '超时完成' };
const CLOCK_TONE = { running: 'blue', overdue: 'red', met: 'green', missed: 'yellow' };
const GROUPS = [['topic', '按原因'], ['project', '按项目'], ['agent', '按坐席']];

const statusText = (value) => label('case_status', value, value);
// Who did a step: a user's name, or 系统 for the automatic steps (立案 from a red alert, SLA escalation).
const actorText = (actor) => (String(actor).startsWith('system:') ? '系统' : String(actor).replace(/^user:/, ''));

// "剩 12 分钟" / "超时 3.5 小时": minutes as the unit a person reads at that size.
function span(minutes) {
  const m = Math.abs(minutes);
  if (m < 60) return `${Math.round(m)} 分钟`;
  if (m < 48 * 60) return `${fmtNum(m / 60)} 小时`;
  return `${fmtNum(m / 1440)} 天`;
}

function clockCell(clock, name) {
  const left = clock.state === 'running' ? `剩 ${span(clock.minutes_left)}`
    : clock.state === 'overdue' ? `超时 ${span(clock.minutes_left)}` : '';
  return h('div', { class: 'case-clock', dataset: { clock: name, state: clock.state } },
    badge(CLOCK_TEXT[clock.state] || clock.state, CLOCK_TONE[clock.state]),
    left ? h('span', { class: 'small' }, ` ${left}`) : '',
    h('div', { class: 'muted small' }, `时限 ${fmtTime(clock.due)}`),
    clock.done_at ? h('div', { class: 'muted small' }, `完成 ${fmtTime(clock.done_at)}`) : '');
}

function statusBadge(item) {
  return badge(item.status_label || statusText(item.status), item.status === 'closed' ? 'green' : 'yellow');
}

function statsTable(data) {
  const rows = [data.overall, ...data.groups];
  const keyName = (row, i) => (i === 0 ? '合计' : (row.key || '（未分类）'));
  return h('table', { class: 'table', id: 'case-stats' },
    h('thead', null, h('tr', null, ['分组', '工单', '未关闭', '超时', '首响中位（分）', '首响 P90（分）',
      '办结中位（时）', '首响按时率', '办结按时率', '重开率'].map((t) => h('th', null, t)))),
    h('tbody', null, rows.map((row, i) => h('tr', { dataset: { key: i === 0 ? '' : row.key } },
      h('td', null, keyName(row, i)), h('td', null, row.cases), h('td', null, row.open), h('td', null, row.overdue),
      h('td', null, fmtNum(row.respond_median_min)), h('td', null, fmtNum(row.respond_p90_min)),
      h('td', null, fmtNum(row.close_median_h)), h('td', null, fmtPct(row.respond_sla_rate)),
      h('td', null, fmtPct(row.close_sla_rate)), h('td', null, fmtPct(row.reopen_rate))))));
}

export async function pageCases(ctx, query) {
  const status = query.has('status') ? query.get('status') : 'open';
  const level = query.get('level') || '';
  const overdue = query.get('overdue') || '';
  const project = query.get('project') || '';
  const by = query.get('by') || 'topic';
  const [data, stats] = await Promise.all([
    api('/cases', { query: { status, level, overdue, project } }),
    api('/cases/stats', { query: { by, project } }),
  ]);
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  const select = (name, options, value) => h('select', { name },
    options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '状态', select('status',
      [['open', '未关闭'], ...STEPS.map((s) => [s, statusText(s)]), ['', '全部']], status)),
    h('label', { class: 'field' }, '级别', select('level',
      [['', '全部'], ['red', '红色'], ['yellow', '黄色'], ['blue', '蓝色']], level)),
    h('label', { class: 'field' }, '时限', select('overdue', [['', '全部'], ['true', '已超时'], ['false', '未超时']], overdue)),
    h('label', { class: 'field' }, '项目', h('input', { name: 'project', value: project, placeholder: '项目编号' })),
    h('label', { class: 'field' }, '统计', select('by', GROUPS, by)),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '筛选')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(form).entries());
    go(`#/cases?status=${enc(v.status)}&level=${enc(v.level)}&overdue=${enc(v.overdue)}&project=${enc(v.project.trim())}&by=${enc(v.by)}`);
  });
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '投诉工单'),
      h('span', { class: 'muted' }, `共 ${data.total} 件`)),
    h('div', { class: 'card' }, form),
    h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'cases' },
      h('thead', null, h('tr', null, ['工单', '级别', '标题', '环节', '坐席', '项目', '原因', '首次响应', '办结', '升级']
        .map((t) => h('th', null, t)))),
      h('tbody', null, items.map((item) => h('tr', { dataset: { caseId: item.id, status: item.status } },
        h('td', null, h('a', { href: `#/cases/${item.id}`, class: 'mono' }, `#${item.id}`)),
        h('td', null, alertBadge(item.level)),
        h('td', { class: 'wrap', title: item.title }, item.title.length > 60 ? `${item.title.slice(0, 60)}…` : item.title),
        h('td', null, statusBadge(item)),
        h('td', null, agentCell(item, true)),
        h('td', null, item.project || '—'),
        h('td', null, item.topic || '—'),
        h('td', null, clockCell(item.respond, 'respond')),
        h('td', null, clockCell(item.close, 'close')),
        h('td', null, item.escalated_to || '—'))))) : h('div', { class: 'empty' }, '暂无投诉工单')),
    h('div', { class: 'card' }, h('h2', null, `工单统计（${GROUPS.find(([k]) => k === by)?.[1] || by}，${stats.date_from} 至 ${stats.date_to}）`),
      statsTable(stats)));
}

// The six steps as a row; the current one marked, the passed ones done.
function stepsBar(item) {
  const at = STEPS.indexOf(item.status);
  return h('ol', { class: 'case-steps', id: 'case-steps' }, STEPS.map((s, i) => h('li', {
    class: [i < at || item.status === 'closed' ? 'done' : '', i === at ? 'current' : ''],
    dataset: { step: s },
  }, statusText(s))));
}

function actionsCard(item) {
  if (item.status === 'closed' || !HANDLERS.includes(state.user.role)) return null;
  const note = h('textarea', { id: 'case-note', rows: 2, placeholder: '处理说明（记入处理记录）', 'aria-label': '处理说明' });
  const error = h('div', { class: 'error small', role: 'alert' });
  const send = (button, body, done) => busy(button, async () => {
    await api(`/cases/${item.id}/advance`, { method: 'POST', body: { ...body, status: item.status === 'revisit' ? undefined : item.next_status, note: note.value.trim() || undefined } });
    toast(done);
    route();
  }, error);
  const buttons = [];
  if (item.status === 'revisit') {
    const ok = h('button', { class: 'btn btn-primary', type: 'button' }, '回访满意，关闭工单');
    const bad = h('button', { class: 'btn', type: 'button' }, '回访不满意，重新处理');
    ok.addEventListener('click', () => send(ok, { outcome: 'satisfied' }, '工单已关闭'));
    bad.addEventListener('click', () => send(bad, { outcome: 'unsatisfied' }, '工单已退回处理'));
    buttons.push(ok, bad);
  } else if (item.next_status) {
    const next = h('button', { class: 'btn btn-primary', type: 'button', id: 'case-next' }, `转入${statusText(item.next_status)}`);
    next.addEventListener('click', () => send(next, {}, `工单已转入${statusText(item.next_status)}`));
    buttons.push(next);
  }
  return h('div', { class: 'card', id: 'case-actions' }, h('h2', null, '处理'), note,
    h('div', { class: 'row', style: { marginTop: '8px' } }, buttons), error);
}

export async function pageCase(ctx, id) {
  const item = await api(`/cases/${enc(id)}`);
  if (!ctx.alive()) return;
  const facts = [
    ['级别', alertBadge(item.level)],
    ['来源', label('case_source', item.source, item.source)],
    ['坐席', agentCell(item, true)],
    ['项目', item.project || '—'],
    ['原因', item.topic || '—'],
    ['立案', `${fmtTime(item.opened_at)} · ${actorText(item.opened_by)}`],
    ['升级', item.escalated_to ? `已升级至${item.escalated_to}（第 ${item.escalation} 级）` : '未升级'],
    ['重开', item.reopened ? `${item.reopened} 次` : '无'],
    ['回访结果', item.revisit_outcome ? label('revisit_outcome', item.revisit_outcome, item.revisit_outcome) : '—'],
  ];
  if (item.chain_id) facts.push(['重复来电', h('a', { href: `#/calls/${enc(item.chain_id)}`, class: 'mono' }, item.chain_id)]);
  if (item.cluster_alert_id) facts.push(['群体性投诉', `预警 #${item.cluster_alert_id}`]);
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, `投诉工单 #${item.id}`), statusBadge(item),
      h('a', { class: 'btn btn-sm', href: '#/cases' }, '返回列表')),
    h('div', { class: 'card' }, h('div', { class: 'case-title' }, item.title), stepsBar(item)),
    h('div', { class: 'grid-2' },
      h('div', { class: 'card' }, h('h2', null, '工单信息'), h('table', { class: 'table kv' },
        h('tbody', null, facts.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))))),
      h('div', { class: 'card' }, h('h2', null, '时限'),
        h('div', { class: 'row' }, h('div', null, h('div', { class: 'muted small' }, '首次响应（受理 → 核实）'), clockCell(item.respond, 'respond')),
          h('div', null, h('div', { class: 'muted small' }, '办结（回访满意后关闭）'), clockCell(item.close, 'close'))),
        h('h2', { style: { marginTop: '14px' } }, `涉及通话（${item.call_ids.length}）`),
        h('ul', { id: 'case-calls' }, item.call_ids.map((cid) => h('li', null,
          h('a', { href: `#/calls/${enc(cid)}`, class: 'mono' }, cid)))))),
    actionsCard(item),
    (item.notices || []).length ? h('div', { class: 'card' }, h('h2', null, '超时升级通知'),
      h('table', { class: 'table', id: 'case-notices' },
        h('thead', null, h('tr', null, ['时间', '时限', '升级至', '推送', '次数', '错误'].map((t) => h('th', null, t)))),
        h('tbody', null, item.notices.map((n) => h('tr', { dataset: { status: n.status } },
          h('td', null, fmtTime(n.created_at)), h('td', null, n.deadline === 'respond' ? '首次响应' : '办结'),
          h('td', null, n.role), h('td', null, label('delivery_status', n.status, n.status)), h('td', null, n.attempts),
          h('td', { class: 'wrap small' }, n.error || '')))))) : null,
    h('div', { class: 'card' }, h('h2', null, '处理记录'), h('table', { class: 'table', id: 'case-history' },
      h('thead', null, h('tr', null, ['时间', '操作', '处理人', '环节', '说明'].map((t) => h('th', null, t)))),
      h('tbody', null, item.history.map((e) => h('tr', { dataset: { action: e.action } },
        h('td', null, fmtTime(e.at)), h('td', null, e.label),
        h('td', null, `${actorText(e.actor)}${e.role && e.role !== 'system' ? `（${label('user_role', e.role, e.role)}）` : ''}`),
        h('td', null, e.from_status || e.to_status ? `${e.from_status ? statusText(e.from_status) : ''} → ${e.to_status ? statusText(e.to_status) : ''}` : '—'),
        h('td', { class: 'wrap' }, e.note || '')))))));
}
