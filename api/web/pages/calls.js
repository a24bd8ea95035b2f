/* 通话列表: the calls with filters, exports (staff) and paging. */
import { API, api, itemsOf } from '../core/api.js';
import { setMain, toast } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtDuration, fmtTime } from '../core/format.js';
import { label } from '../core/labels.js';
import { go } from '../core/router.js';
import { isStaff } from '../core/state.js';
import { enc, qs } from '../core/url.js';
import { alertBadge, badge, labelled, scoreSpan } from '../core/widgets.js';

const CALL_FILTERS = ['agent_id', 'team', 'from', 'to', 'alert', 'min_score', 'max_score', 'status'];

export async function pageCalls(ctx, query) {
  const page = Math.max(1, Number(query.get('page')) || 1);
  const pageSize = 20;
  const filters = {};
  for (const key of CALL_FILTERS) filters[key] = query.get(key) || '';
  const data = await api('/calls', { query: { ...filters, page, page_size: pageSize } });
  if (!ctx.alive()) return;

  const staff = isStaff();
  const input = (name, attrs = {}) => h('input', { name, value: filters[name], ...attrs });
  const select = (name, options) => h('select', { name },
    options.map(([value, label]) => h('option', { value, selected: filters[name] === value }, label)));
  const form = h('form', { class: 'filters', autocomplete: 'off' },
    staff ? h('label', { class: 'field' }, '坐席工号', input('agent_id', { placeholder: '全部坐席', size: 10 })) : null,
    staff ? h('label', { class: 'field' }, '班组', input('team', { placeholder: '全部班组', size: 8 })) : null,
    h('label', { class: 'field' }, '日期从', input('from', { type: 'date' })),
    h('label', { class: 'field' }, '日期到', input('to', { type: 'date' })),
    h('label', { class: 'field' }, '预警', select('alert',
      [['', '全部'], ...['red', 'yellow', 'blue', 'none'].map((v) => [v, label('alert_level', v, v)])])),
    h('label', { class: 'field' }, '分数区间', h('div', { class: 'row' },
      input('min_score', { type: 'number', min: 0, max: 100, step: 1, placeholder: '最低' }), '–',
      input('max_score', { type: 'number', min: 0, max: 100, step: 1, placeholder: '最高' }))),
    h('label', { class: 'field' }, '状态', select('status',
      [['', '全部'], ...['done', 'processing', 'queued', 'failed'].map((v) => [v, label('call_status', v, v)])])),
    h('div', { class: 'actions' },
      h('button', { class: 'btn btn-primary', type: 'submit' }, '查询'),
      h('button', { class: 'btn', type: 'button', onclick: () => go('#/calls') }, '重置')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    if (values.min_score && values.max_score && Number(values.min_score) > Number(values.max_score)) {
      toast('最低分不能高于最高分', 'error');
      return;
    }
    go(`#/calls${qs(values)}`);
  });

  const exportQuery = qs(filters);
  const exports = staff ? h('div', { class: 'row' },
    h('a', { class: 'btn', href: `${API}/exports/calls.csv${exportQuery}`, download: '' }, '导出 CSV'),
    h('a', { class: 'btn', href: `${API}/exports/calls.xlsx${exportQuery}`, download: '' }, '导出 Excel')) : null;

  const items = itemsOf(data);
  const table = items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'calls-table' },
    h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '开始时间'), h('th', null, '坐席'),
      h('th', null, '班组'), h('th', null, '方向'), h('th', null, '主叫号码'), h('th', { class: 'num' }, '时长'),
      h('th', { class: 'num' }, '得分'), h('th', null, '预警'), h('th', null, '状态'))),
    h('tbody', null, items.map((call) => h('tr', { dataset: { callId: call.call_id } },
      h('td', null, h('a', { href: `#/calls/${enc(call.call_id)}`, class: 'mono' }, call.call_id)),
      h('td', null, fmtTime(call.started_at)),
      h('td', null, staff ? h('a', { href: `#/agents/${enc(call.agent_id)}` }, call.agent_name || call.agent_id)
        : (call.agent_name || call.agent_id), h('span', { class: 'muted small' }, ` ${call.agent_id}`)),
      h('td', null, call.team_id || '—'),
      h('td', null, label('call_direction', call.direction, '—')),
      h('td', { class: 'mono' }, call.caller || '—'),
      h('td', { class: 'num' }, fmtDuration(call.duration_s)),
      h('td', { class: 'num' }, scoreSpan(call.score), call.fatal ? h('span', null, ' ', badge('一票否决', 'dark')) : null),
      h('td', null, alertBadge(call.alert)),
      h('td', null, labelled('call_status', call.status))))))) : h('div', { class: 'empty' }, '没有符合条件的通话');

  const pages = Math.max(1, Math.ceil((data.total || 0) / pageSize));
  const pageLink = (n) => `#/calls${qs({ ...filters, page: n })}`;
  // Past the server's count limit the total is a lower bound: say so, and keep "next" while pages are full.
  const exact = data.total_exact !== false;
  const more = !exact && items.length >= pageSize;
  const pager = h('div', { class: 'pager' },
    exact ? `共 ${data.total || 0} 条 · 第 ${page} / ${pages} 页` : `超过 ${data.total} 条 · 第 ${page} 页`,
    h('a', { class: 'btn btn-sm', href: pageLink(page - 1), hidden: page <= 1 }, '上一页'),
    h('a', { class: 'btn btn-sm', href: pageLink(page + 1), hidden: !more && page >= pages }, '下一页'));

  setMain(
    h('div', { class: 'page-head' }, h('h1', null, staff ? '通话列表' : '我的通话'),
      h('span', { class: 'sub' }, '按开始时间倒序'), h('span', { class: 'spacer' }), exports),
    h('div', { class: 'card' }, form),
    h('div', { class: 'card' }, table, pager));
}
