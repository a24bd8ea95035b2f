/* 预警: the alerts with level / status filters and acknowledgement. */
import { api, itemsOf } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtTime } from '../core/format.js';
import { ALERT_SHORT, label } from '../core/labels.js';
import { go, route } from '../core/router.js';
import { isStaff, state } from '../core/state.js';
import { enc } from '../core/url.js';
import { agentCell, alertBadge, labelled } from '../core/widgets.js';

const KIND_NAMES = { cluster: '群体性投诉', repeat: '重复来电' };

// The call of a call's alert; for a cluster or repeat alert, its kind, project / topic and every call in it.
function callsCell(item) {
  const link = (id) => h('a', { href: `#/calls/${enc(id)}`, class: 'mono' }, id);
  if (!item.kind || item.kind === 'call') return link(item.call_id);
  const ids = item.call_ids || [item.call_id];
  return h('div', { class: 'alert-group', dataset: { kind: item.kind } },
    h('span', { class: 'badge' }, KIND_NAMES[item.kind] || item.kind),
    item.project || item.topic ? h('div', { class: 'small' }, [item.project, item.topic].filter(Boolean).join(' · ')) : '',
    h('div', { class: 'muted small' }, `${ids.length} 通通话`),
    h('ul', { style: { margin: 0, paddingLeft: '16px' } }, ids.map((id) => h('li', null, link(id)))));
}

export async function pageAlerts(ctx, query) {
  const status = query.has('status') ? query.get('status') : 'open';
  const level = query.get('level') || '';
  const data = await api('/alerts', { query: { status, level } });
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '状态', h('select', { name: 'status' },
      [...['open', 'acknowledged'].map((v) => [v, label('alert_status', v, v)]), ['', '全部']]
        .map(([v, l]) => h('option', { value: v, selected: v === status }, l)))),
    h('label', { class: 'field' }, '级别', h('select', { name: 'level' },
      [['', '全部'], ['red', '红色'], ['yellow', '黄色'], ['blue', '蓝色']].map(([v, l]) => h('option', { value: v, selected: v === level }, l)))),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '筛选')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    go(`#/alerts?status=${enc(values.status)}&level=${enc(values.level)}`);
  });
  const counts = { red: 0, yellow: 0, blue: 0 };
  for (const item of items) if (item.level in counts) counts[item.level] += 1;
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '预警'),
      ['red', 'yellow', 'blue'].map((lv) => h('span', { class: ['badge', `badge-${lv}`] }, h('span', { class: ['dot', `dot-${lv}`] }),
        `${ALERT_SHORT[lv]} ${counts[lv]}`))),
    h('div', { class: 'card' }, form),
    h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'alerts' },
      h('thead', null, h('tr', null, h('th', null, '级别'), h('th', null, '通话编号'), h('th', null, '坐席'), h('th', null, '原因'),
        h('th', null, '时间'), h('th', null, '推送'), h('th', null, '状态'), h('th', null, '处理'))),
      h('tbody', null, items.map((item) => {
        const cell = h('td', null);
        if (item.status === 'open' && ['admin', 'reviewer', 'team_lead'].includes(state.user.role)) {
          const note = h('input', { placeholder: '处理说明', 'aria-label': '处理说明', style: { width: '140px' } });
          const ack = h('button', { class: 'btn btn-sm btn-primary', type: 'button' }, '确认处理');
          ack.addEventListener('click', () => busy(ack, async () => {
            await api(`/alerts/${item.id}/ack`, { method: 'POST', body: { note: note.value.trim() } });
            toast('预警已确认处理');
            route();
          }));
          const open = h('button', { class: 'btn btn-sm', type: 'button' }, '立案');
          open.addEventListener('click', () => busy(open, async () => {
            const made = await api('/cases', { method: 'POST', body: { call_id: item.call_id, alert_id: item.id, note: note.value.trim() || undefined } });
            toast(`已立案：投诉工单 #${made.id}`);
            go(`#/cases/${made.id}`);
          }));
          cell.append(h('div', { class: 'row' }, note, ack, open));
        } else {
          cell.append(item.handled_by ? `${String(item.handled_by).replace(/^user:/, '')}` : '—',
            item.note ? h('div', { class: 'muted small' }, item.note) : '');
        }
        return h('tr', { dataset: { alertId: item.id, level: item.level } },
          h('td', null, alertBadge(item.level)),
          h('td', null, callsCell(item)),
          h('td', null, agentCell(item, isStaff())),
          h('td', { class: 'wrap' }, h('ul', { style: { margin: 0, paddingLeft: '16px' } },
            (item.reasons || []).map((reason) => h('li', null, reason)))),
          h('td', null, fmtTime(item.created_at)),
          h('td', null, label('delivery_status', item.delivery) || item.delivery || '—'),
          h('td', null, labelled('alert_status', item.status)),
          cell);
      }))) : h('div', { class: 'empty' }, '暂无预警')));
}
