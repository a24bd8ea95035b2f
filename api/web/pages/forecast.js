/* 需求预测: weekly calls of a project and topic, the last year of history and the weeks ahead with the model's
 * interval, the backtest error beside the naive forecast's, and the CSV for staff planning.
 * Data: GET /insights/forecast (and .csv). */
import { api } from '../core/api.js';
import { setMain } from '../core/chrome.js';
import { h, s } from '../core/dom.js';
import { fmtNum, fmtPct } from '../core/format.js';
import { go } from '../core/router.js';
import { qs } from '../core/url.js';

const SHOWN_HISTORY = 52; // weeks of history drawn before the forecast

function chart(history, points, level) {
  const W = 900, H = 260, left = 44, right = 12, top = 14, bottom = 28;
  const all = [...history.map((p) => p.calls), ...points.map((p) => p.upper)];
  const max = Math.max(1, ...all);
  const n = history.length + points.length;
  const x = (i) => left + (i * (W - left - right)) / Math.max(1, n - 1);
  const y = (v) => H - bottom - ((H - top - bottom) * v) / max;
  const svg = s('svg', { class: 'chart forecast-chart', id: 'forecast-chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': '每周来电量：历史与预测' });
  for (const frac of [0, 0.5, 1]) {
    svg.append(s('line', { class: 'grid', x1: left, x2: W - right, y1: y(max * frac), y2: y(max * frac) }),
      s('text', { x: left - 6, y: y(max * frac) + 4, 'text-anchor': 'end' }, fmtNum(max * frac, 0)));
  }
  if (points.length) {
    const start = history.length;
    const band = points.map((p, i) => `${x(start + i)},${y(p.upper)}`).concat(
      points.map((p, i) => `${x(start + i)},${y(p.lower)}`).reverse());
    svg.append(s('polygon', { class: 'band', points: band.join(' ') },
      s('title', null, `${Math.round(level * 100)}% 预测区间`)));
  }
  const line = (cls, pts) => s('polyline', { class: cls, points: pts.join(' ') });
  svg.append(line('history', history.map((p, i) => `${x(i)},${y(p.calls)}`)));
  const joined = history.length ? [{ i: history.length - 1, v: history[history.length - 1].calls }] : [];
  svg.append(line('predicted', [...joined, ...points.map((p, i) => ({ i: history.length + i, v: p.predicted }))]
    .map(({ i, v }) => `${x(i)},${y(v)}`)));
  points.forEach((p, i) => svg.append(s('circle', { class: 'predicted-dot', cx: x(history.length + i), cy: y(p.predicted), r: 3 },
    s('title', null, `${p.week}：预测 ${fmtNum(p.predicted, 0)} 通（${fmtNum(p.lower, 0)}–${fmtNum(p.upper, 0)}）`))));
  const label = (i, text, anchor) => s('text', { x: x(i), y: H - 8, 'text-anchor': anchor }, text);
  if (history.length) svg.append(label(0, history[0].week, 'start'));
  if (points.length) svg.append(label(history.length, points[0].week, 'middle'), label(n - 1, points[points.length - 1].week, 'end'));
  return svg;
}

export async function pageForecast(ctx, query) {
  const project = query.get('project') || '';
  const topic = query.get('topic') || '';
  const weeks = query.get('weeks') || '12';
  const params = { project, topic, weeks };
  const data = await api('/insights/forecast', { query: params });
  if (!ctx.alive()) return;
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '项目', h('input', { name: 'project', value: project, placeholder: '全部项目', size: 12 })),
    h('label', { class: 'field' }, '话题', h('input', { name: 'topic', value: topic, placeholder: '全部来电', size: 12 })),
    h('label', { class: 'field' }, '预测周数', h('input', { name: 'weeks', type: 'number', min: 1, max: 26, value: weeks, style: { width: '80px' } })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '预测')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(`#/forecast${qs(Object.fromEntries(new FormData(form).entries()))}`);
  });
  const csv = h('a', { class: 'btn btn-sm', href: `/api/v1/insights/forecast.csv${qs(params)}`, download: '' }, '导出 CSV（排班用）');
  const head = h('div', { class: 'page-head' }, h('h1', null, '需求预测'),
    h('span', { class: 'muted' }, [project || '全部项目', topic || '全部来电'].join(' · ')), csv);
  if (!data.enough) {
    setMain(head, h('div', { class: 'card' }, form),
      h('div', { class: 'card' }, h('div', { class: 'empty', id: 'forecast-refused' }, data.reason || '历史数据不足，暂不预测')));
    return;
  }
  const bt = data.backtest;
  const history = data.history.slice(-SHOWN_HISTORY);
  setMain(head, h('div', { class: 'card' }, form),
    h('div', { class: 'kpis', id: 'forecast-kpis' },
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, '未来周均来电'),
        h('div', { class: 'value' }, fmtNum(data.points.reduce((a, p) => a + p.predicted, 0) / Math.max(1, data.points.length), 0))),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, `回测误差 MAPE（近 ${bt ? bt.holdout_weeks : '—'} 周）`),
        h('div', { class: 'value' }, bt ? fmtPct(bt.mape) : '—'),
        bt ? h('div', { class: 'muted small' }, `${bt.baseline} ${fmtPct(bt.baseline_mape)} · MASE ${fmtNum(bt.mase, 2)}`) : ''),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, '方法'), h('div', { class: 'small' }, data.method),
        h('div', { class: 'muted small' }, `历史 ${data.history_weeks} 周 · ${Math.round(data.level * 100)}% 区间`))),
    h('div', { class: 'card' }, h('h2', null, '每周来电量：历史与预测'), chart(history, data.points, data.level)),
    h('div', { class: 'card' }, h('table', { class: 'table', id: 'forecast-table' },
      h('thead', null, h('tr', null, ['周起始日', '预测来电量', '下限', '上限'].map((t) => h('th', null, t)))),
      h('tbody', null, data.points.map((p) => h('tr', null, h('td', null, p.week), h('td', null, fmtNum(p.predicted, 0)),
        h('td', null, fmtNum(p.lower, 0)), h('td', null, fmtNum(p.upper, 0))))))));
}
