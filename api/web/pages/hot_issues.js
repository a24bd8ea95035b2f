/* 热点问题: calls per project × topic against each project's own baseline, spikes (突增) marked, and per
 * project a chart of daily calls. Data: GET /insights/hot-issues. */
import { api, soft } from '../core/api.js';
import { setMain } from '../core/chrome.js';
import { h, s } from '../core/dom.js';
import { fmtNum, fmtPct } from '../core/format.js';
import { go } from '../core/router.js';
import { enc, qs } from '../core/url.js';

const UNKNOWN = '未知项目';

// Daily calls of one project (every topic summed), one bar per day of the window.
function projectChart(days, counts) {
  const W = 360, H = 90, pad = 18;
  const max = Math.max(1, ...days.map((d) => counts[d] || 0));
  const step = (W - 2 * pad) / Math.max(1, days.length);
  const svg = s('svg', { class: 'chart hot-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': '每日来电量' });
  svg.append(s('title', null, '每日来电量'));
  days.forEach((d, i) => {
    const n = counts[d] || 0;
    const bh = ((H - 2 * pad) * n) / max;
    svg.append(s('rect', { x: pad + i * step + 1, y: H - pad - bh, width: Math.max(1, step - 2), height: bh, class: 'bar' },
      s('title', null, `${d}：${n} 通`)));
  });
  svg.append(s('text', { x: pad, y: H - 4 }, days[0] || ''));
  svg.append(s('text', { x: W - pad, y: H - 4, 'text-anchor': 'end' }, days[days.length - 1] || ''));
  svg.append(s('text', { x: pad, y: 12 }, `最多 ${max} 通/日`));
  return svg;
}

function daysBetween(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export async function pageHotIssues(ctx, query) {
  // Without dates the API answers the 30 days ending today (the call centre's today, not the browser's).
  const range = { from: query.get('from') || '', to: query.get('to') || '' };
  const project = query.get('project') || '';
  const [data, emerging] = await Promise.all([
    api('/insights/hot-issues', { query: { ...range, project } }),
    soft(api('/insights/emerging', { query: { ...range, project } })),
  ]);
  if (!ctx.alive()) return;
  const items = data.items || [];
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '起始', h('input', { type: 'date', name: 'from', value: data.from })),
    h('label', { class: 'field' }, '结束', h('input', { type: 'date', name: 'to', value: data.to })),
    h('label', { class: 'field' }, '项目', h('input', { name: 'project', value: project, placeholder: '全部项目', size: 12 })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '查看')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(`#/insights${qs(Object.fromEntries(new FormData(form).entries()))}`);
  });

  const projects = [...new Set(items.map((i) => i.project ?? UNKNOWN))].sort();
  const topics = [...new Set(items.map((i) => i.topic))].sort();
  const cell = new Map(items.map((i) => [`${i.project ?? UNKNOWN}|${i.topic}`, i]));
  const max = Math.max(1, ...items.map((i) => i.calls));
  const heat = h('table', { class: 'table heat', id: 'heat' },
    h('thead', null, h('tr', null, h('th', null, '项目 \\ 话题'), topics.map((t) => h('th', null, t)))),
    h('tbody', null, projects.map((p) => h('tr', { dataset: { project: p } }, h('th', null, p), topics.map((t) => {
      const item = cell.get(`${p}|${t}`);
      if (!item) return h('td', { class: 'muted' }, '—');
      const alpha = 0.12 + 0.6 * (item.calls / max);
      const change = item.change === null ? '新出现' : `${item.change >= 0 ? '+' : ''}${fmtPct(item.change)}`;
      return h('td', {
        class: ['heat-cell', item.spike ? 'spike' : ''], dataset: { topic: t, spike: String(item.spike) },
        style: { background: item.spike ? `rgba(220, 38, 38, ${alpha})` : `rgba(37, 99, 235, ${alpha})` },
        title: `${item.calls} 通，${item.callers} 位来电人；基线期望 ${fmtNum(item.expected)} 通（${change}）；p=${item.p_value.toPrecision(2)}`,
      }, h('strong', null, String(item.calls)), item.spike ? h('span', { class: 'badge badge-red' }, '突增') : '',
      h('div', { class: 'small' }, change));
    })))));

  const days = daysBetween(data.from, data.to);
  const charts = projects.map((p) => {
    const counts = {};
    for (const item of items.filter((i) => (i.project ?? UNKNOWN) === p)) {
      for (const d of item.daily) counts[d.day] = (counts[d.day] || 0) + d.calls;
    }
    const spikes = items.filter((i) => (i.project ?? UNKNOWN) === p && i.spike);
    return h('div', { class: 'card hot-project', dataset: { project: p } }, h('h3', null, p),
      projectChart(days, counts),
      spikes.length ? h('ul', { class: 'small' }, spikes.map((i) => h('li', null, `突增：${i.topic} ${i.calls} 通（基线期望 ${fmtNum(i.expected)}）`,
        ' ', i.example_call_ids.slice(0, 3).map((id) => h('a', { href: `#/calls/${enc(id)}`, class: 'mono', style: { marginLeft: '6px' } }, id)))))
        : '');
  });

  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '热点问题'),
      h('span', { class: ['badge', data.spikes ? 'badge-red' : ''] }, `突增 ${data.spikes} 项`),
      h('a', { class: 'btn btn-sm', href: `#/forecast${qs({ project })}` }, '需求预测 →')),
    h('div', { class: 'card' }, form,
      h('div', { class: 'muted small' }, `基线：${data.baseline_from} 至 ${data.baseline_to} 的日均来电；突增 = 按基线泊松分布出现该来电量的概率低于阈值`)),
    h('div', { class: 'card' }, items.length ? heat : h('div', { class: 'empty' }, '该期间没有涉及话题的来电')),
    h('div', { class: 'hot-grid' }, charts),
    emergingCard(emerging));
}

// 新出现的说法: phrases owners say far more than in the baseline weeks (or never did before).
function emergingCard(found) {
  const card = h('div', { class: 'card', id: 'emerging' }, h('h2', null, '新出现的说法'));
  if (found instanceof Error) {
    card.append(h('div', { class: 'muted' }, `加载失败：${found.message}`));
    return card;
  }
  card.append(h('div', { class: 'muted small' },
    `客户话语中的词语，与基线期（${found.baseline_from} 至 ${found.baseline_to}）相比突然增多或首次出现；`
    + `统计期读取 ${found.window_calls} 通，基线期 ${found.baseline_calls} 通${found.capped ? '（已达读取上限，只读最新的通话）' : ''}。`));
  const items = found.items || [];
  card.append(items.length ? h('table', { class: 'table' },
    h('thead', null, h('tr', null, ['说法', '通话数', '基线期', '预期', '', '示例通话'].map((t) => h('th', null, t)))),
    h('tbody', null, items.map((e) => h('tr', { dataset: { phrase: e.phrase } },
      h('td', null, e.phrase), h('td', null, e.calls), h('td', null, e.baseline_calls), h('td', null, fmtNum(e.expected)),
      h('td', null, h('span', { class: ['badge', e.new ? 'badge-red' : 'badge-yellow'] }, e.new ? '首次出现' : '突增')),
      h('td', null, e.example_call_ids.map((id) => h('a', { href: `#/calls/${enc(id)}`, class: 'mono', style: { marginRight: '6px' } }, id)))))))
    : h('div', { class: 'empty' }, '没有新出现的说法'));
  return card;
}
