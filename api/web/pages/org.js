/* 组织架构: 集团 → 区域 → 项目 → 班组. One node at a time: its path, its figures over the period, one row per
 * child node (click to drill down), and the agents under it ranked by average score. A team lead or project
 * manager starts at (and cannot leave) its scope. */
import { api, itemsOf } from '../core/api.js';
import { setMain } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtNum, fmtPct } from '../core/format.js';
import { label } from '../core/labels.js';
import { go } from '../core/router.js';
import { enc, qs } from '../core/url.js';
import { badge, scoreSpan } from '../core/widgets.js';

const levelName = (level) => label('org_level', level, level);

function kpi(label, value, extra) {
  return h('div', { class: ['kpi', extra || ''] }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

function figuresRow(node, range) {
  const link = h('a', { href: `#/org/${enc(node.id)}${qs(range)}` }, node.name);
  return h('tr', { dataset: { node: node.id } },
    h('td', null, badge(levelName(node.level), 'blue'), ' ', link,
      node.name !== node.id ? h('span', { class: 'muted small' }, ` ${node.id}`) : null),
    h('td', { class: 'num' }, fmtNum(node.calls)),
    h('td', { class: 'num' }, fmtNum(node.agents)),
    h('td', null, scoreSpan(node.average_score)),
    h('td', { class: ['num', node.red ? 'score-bad' : ''] }, `${fmtNum(node.red)}（${fmtPct(node.red_rate)}）`),
    h('td', { class: 'num' }, fmtPct(node.repeat_rate)),
    h('td', { class: 'num' }, fmtPct((node.checks || {}).greeting)),
    h('td', { class: 'num' }, fmtPct((node.checks || {}).empathy)),
    h('td', null, node.level === 'team' ? h('a', { href: `#/teams/${enc(node.id)}${qs(range)}` }, '班组排行') : ''));
}

function childrenTable(children, range) {
  if (!children.length) return h('div', { class: 'empty' }, '没有下级节点');
  return h('table', { class: 'table', id: 'org-children' },
    h('thead', null, h('tr', null, h('th', null, '下级'), h('th', { class: 'num' }, '通话数'), h('th', { class: 'num' }, '坐席'),
      h('th', null, '平均分'), h('th', { class: 'num' }, '红色预警'), h('th', { class: 'num' }, '重复来电率'),
      h('th', { class: 'num' }, '开场问候'), h('th', { class: 'num' }, '共情'), h('th', null, ''))),
    h('tbody', null, children.map((c) => figuresRow(c, range))));
}

function leaderboardTable(items) {
  if (!items.length) return h('div', { class: 'empty' }, '所选期间没有上榜坐席');
  return h('table', { class: 'table', id: 'org-leaderboard' },
    h('thead', null, h('tr', null, h('th', { class: 'num' }, '排名'), h('th', null, '坐席'), h('th', { class: 'num' }, '通话数'),
      h('th', null, '平均分'), h('th', { class: 'num' }, '红色预警'))),
    h('tbody', null, items.slice(0, 20).map((e) => h('tr', null,
      h('td', { class: 'num' }, String(e.rank)),
      h('td', null, h('a', { href: `#/agents/${enc(e.agent_id)}` }, e.agent_name || e.agent_id), h('span', { class: 'muted small' }, ` ${e.agent_id}`)),
      h('td', { class: 'num' }, fmtNum(e.calls)), h('td', null, scoreSpan(e.average_score)),
      h('td', { class: 'num' }, fmtNum(e.red || 0))))));
}

export async function pageOrg(ctx, nodeId, query) {
  const range = { from: query.get('from') || '', to: query.get('to') || '' };
  const tree = await api('/org');
  if (!ctx.alive()) return;
  if (!tree.root) {
    setMain(h('div', { class: 'page-head' }, h('h1', null, '组织架构')),
      h('div', { class: 'card empty', id: 'org-empty' }, tree.configured
        ? '您的管辖范围不在组织架构中'
        : '尚未配置组织架构：管理员可用 inspector org import 组织架构.yaml 导入（集团 → 区域 → 项目 → 班组）'));
    return;
  }
  if (!nodeId) { location.replace(`#/org/${enc(tree.root.id)}${qs(range)}`); return; }
  const [card, board] = await Promise.all([
    api(`/org/${enc(nodeId)}/scorecard`, { query: range }),
    api(`/org/${enc(nodeId)}/leaderboard`, { query: range }),
  ]);
  if (!ctx.alive()) return;
  const node = card.node;
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '日期从', h('input', { type: 'date', name: 'from', value: card.from })),
    h('label', { class: 'field' }, '日期到', h('input', { type: 'date', name: 'to', value: card.to })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '查看')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(`#/org/${enc(nodeId)}${qs(Object.fromEntries(new FormData(form).entries()))}`);
  });
  const visibleFrom = tree.root.id;
  const path = card.path.slice(Math.max(0, card.path.findIndex((p) => p.id === visibleFrom)));
  const crumbs = h('nav', { class: 'crumbs', id: 'org-path' }, path.map((p, i) => [
    i ? ' › ' : '',
    p.id === nodeId ? h('strong', null, p.name) : h('a', { href: `#/org/${enc(p.id)}${qs(range)}` }, p.name)]));
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '组织架构'), h('span', { class: 'sub' }, `${levelName(node.level)} ${node.name} · ${card.from} 至 ${card.to}`)),
    h('div', { class: 'card' }, crumbs, form),
    h('div', { class: 'kpis', id: 'org-kpis' },
      kpi('通话数', fmtNum(node.calls)), kpi('坐席', fmtNum(node.agents)), kpi('平均分', fmtNum(node.average_score)),
      kpi('红色预警', `${fmtNum(node.red)}（${fmtPct(node.red_rate)}）`, node.red ? 'red' : ''), kpi('重复来电率', fmtPct(node.repeat_rate))),
    h('div', { class: 'card' }, h('h2', null, '下级节点'), childrenTable(card.children, range)),
    h('div', { class: 'card' }, h('h2', null, `坐席排行（${fmtNum(itemsOf(board).length)} 人，前 20 名）`), leaderboardTable(itemsOf(board))));
}
