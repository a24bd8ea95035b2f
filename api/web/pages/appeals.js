/* 申诉: an agent's own appeals, or the appeals to resolve (reviewers). */
import { api, itemsOf } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { clear, h } from '../core/dom.js';
import { fmtNum, fmtTime } from '../core/format.js';
import { RULE_NAMES } from '../core/labels.js';
import { route } from '../core/router.js';
import { canReview, isStaff, state } from '../core/state.js';
import { enc } from '../core/url.js';
import { agentCell, labelled } from '../core/widgets.js';

export async function pageAppeals(ctx, query) {
  const agent = state.user.role === 'agent';
  const status = query.has('status') ? query.get('status') : (agent ? '' : 'open');
  const data = await api('/appeals', { query: { status } });
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  const reviewer = canReview();
  const tab = (value, label) => h('a', { href: `#/appeals?status=${enc(value)}`, class: status === value ? 'active' : '' }, label);
  const rows = items.map((item) => {
    const cells = [
      h('td', null, h('a', { href: `#/calls/${enc(item.call_id)}`, class: 'mono' }, item.call_id)),
      agent ? null : h('td', null, agentCell(item, isStaff())),
      h('td', null, item.rule_name || RULE_NAMES[item.rule_id] || item.rule_id),
      h('td', { class: 'wrap' }, item.text ? `「${item.text}」` : '—'),
      h('td', { class: 'num score-bad' }, fmtNum(item.points)),
      h('td', { class: 'wrap' }, item.comment || '—'),
      h('td', null, labelled('appeal_status', item.status)),
      h('td', null, fmtTime(item.created_at)),
    ];
    const result = h('td', { class: 'wrap' }, item.resolution || (item.status === 'open' ? '等待处理' : '—'),
      item.resolver ? h('div', { class: 'muted small' }, `${item.resolver} · ${fmtTime(item.resolved_at)}`) : null);
    if (reviewer && item.status === 'open') {
      const resolution = h('input', { placeholder: '处理意见（必填）', 'aria-label': '处理意见' });
      const error = h('div', { class: 'form-error' });
      const accept = h('button', { class: 'btn btn-sm btn-success', type: 'button' }, '接受');
      const reject = h('button', { class: 'btn btn-sm btn-danger', type: 'button' }, '驳回');
      const send = (decision, button) => {
        if (!resolution.value.trim()) { error.textContent = '请填写处理意见'; return; }
        busy(button, async () => {
          await api(`/appeals/${item.id}/resolve`, { method: 'POST', body: { decision, resolution: resolution.value.trim() } });
          toast(decision === 'accepted' ? '已接受申诉' : '已驳回申诉');
          route();
        }, error);
      };
      accept.addEventListener('click', () => send('accepted', accept));
      reject.addEventListener('click', () => send('rejected', reject));
      clear(result).append(h('div', { class: 'row' }, resolution, accept, reject), error);
    }
    return h('tr', { dataset: { appealId: item.id, callId: item.call_id } }, cells, result);
  });
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, agent ? '我的申诉' : '申诉处理'),
      h('span', { class: 'sub' }, `共 ${items.length} 条`)),
    agent ? null : h('div', { class: 'tabs' }, tab('open', '待处理'), tab('accepted', '已接受'), tab('rejected', '已驳回'), tab('', '全部')),
    h('div', { class: 'card' }, items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'appeals' },
      h('thead', null, h('tr', null, h('th', null, '通话编号'), agent ? null : h('th', null, '坐席'), h('th', null, '规则'),
        h('th', null, '命中内容'), h('th', { class: 'num' }, '扣分'), h('th', null, '申诉理由'), h('th', null, '状态'),
        h('th', null, '提交时间'), h('th', null, '处理结果'))),
      h('tbody', null, rows))) : h('div', { class: 'empty' }, agent
      ? '暂无申诉。对扣分有异议时，可在通话详情页对扣分项提出申诉。' : '暂无申诉')));
}
