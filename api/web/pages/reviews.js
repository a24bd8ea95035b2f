/* 复核队列: the review queue (pending, by priority; or done). */
import { api, itemsOf } from '../core/api.js';
import { setMain } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtTime } from '../core/format.js';
import { enc } from '../core/url.js';
import { agentCell, alertBadge, labelled, scoreSpan } from '../core/widgets.js';

export async function pageReviews(ctx, query) {
  const status = query.get('status') || 'pending';
  const data = await api('/reviews', { query: { status } });
  if (!ctx.alive()) return;
  const done = status === 'done';
  const priority = { fatal: 0, red: 1, appeal: 2, manual: 3, lowest: 4, random: 5 };
  const items = done ? itemsOf(data) : itemsOf(data).slice().sort((a, b) =>
    ((priority[a.reason] ?? 9) - (priority[b.reason] ?? 9)) || ((a.machine_score ?? 100) - (b.machine_score ?? 100)));
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '复核队列'),
      h('span', { class: 'sub' }, done ? `已完成 ${data.total ?? items.length} 条` : `待复核 ${data.total ?? items.length} 条`)),
    h('div', { class: 'tabs' },
      h('a', { href: '#/reviews?status=pending', class: done ? '' : 'active' }, '待复核'),
      h('a', { href: '#/reviews?status=done', class: done ? 'active' : '' }, '已完成')),
    h('div', { class: 'card' }, items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'review-queue' },
      h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '坐席'), h('th', null, '入队原因'),
        h('th', { class: 'num' }, '机器评分'), h('th', { class: 'num' }, '复核后评分'), h('th', null, '预警'),
        h('th', null, '通话时间'), h('th', null, '入队时间'), done ? h('th', null, '复核人') : null,
        done ? h('th', null, '完成时间') : null, h('th', null, ''))),
      h('tbody', null, items.map((item) => h('tr', { dataset: { callId: item.call_id, reviewId: item.id } },
        h('td', null, h('a', { href: `#/calls/${enc(item.call_id)}`, class: 'mono' }, item.call_id)),
        h('td', null, agentCell(item, true)),
        h('td', null, reasonBadges(item.reason)),
        h('td', { class: 'num' }, scoreSpan(item.machine_score)),
        h('td', { class: 'num' }, item.score === item.machine_score && !done ? '—' : scoreSpan(item.score)),
        h('td', null, alertBadge(item.alert)),
        h('td', null, fmtTime(item.started_at)),
        h('td', null, fmtTime(item.created_at)),
        done ? h('td', null, item.reviewer || '—') : null,
        done ? h('td', null, fmtTime(item.completed_at)) : null,
        h('td', null, h('a', { class: ['btn', 'btn-sm', done ? '' : 'btn-primary'], href: `#/calls/${enc(item.call_id)}` },
          done ? '查看' : '开始复核'))))))) : h('div', { class: 'empty' }, done ? '暂无已完成的复核' : '复核队列已清空，暂无待复核通话')));
}

function reasonBadges(reason) {
  const reasons = Array.isArray(reason) ? reason : String(reason || '').split(/[,，\s]+/).filter(Boolean);
  return reasons.map((r) => h('span', { style: { marginRight: '4px' } }, labelled('review_reason', r)));
}
