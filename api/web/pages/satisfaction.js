/* 满意度分析: which rules and dimensions move CSAT (effect with its interval, 样本不足 below the minimum), the
 * CSAT change per 10 QA points, and the survey CSV import for admins and reviewers. */
import { api } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { h, s } from '../core/dom.js';
import { fmtNum } from '../core/format.js';
import { go } from '../core/router.js';
import { canReview } from '../core/state.js';
import { enc } from '../core/url.js';
import { badge } from '../core/widgets.js';

const SPAN = 1.5; // the interval bar spans −1.5 … +1.5 CSAT points

// The effect and its interval on a small axis around 0 (red: lowers CSAT, green: raises it).
function intervalBar(effect) {
  const width = 180;
  const x = (v) => Math.max(0, Math.min(width, ((Number(v) + SPAN) / (2 * SPAN)) * width));
  const tone = effect.high < 0 ? '#dc2626' : (effect.low > 0 ? '#16a34a' : '#64748b');
  return s('svg', { width, height: 14, class: 'ci-bar', viewBox: `0 0 ${width} 14` },
    s('line', { x1: x(0), x2: x(0), y1: 0, y2: 14, stroke: '#cbd5e1' }),
    s('line', { x1: x(effect.low), x2: x(effect.high), y1: 7, y2: 7, stroke: tone, 'stroke-width': 3 }),
    s('circle', { cx: x(effect.effect), cy: 7, r: 4, fill: tone }));
}

function effectsTable(id, rows, min) {
  if (!rows.length) return h('div', { class: 'empty' }, '暂无数据');
  return h('table', { class: 'table', id },
    h('thead', null, h('tr', null, ['项目', '扣分通话', '扣分时满意度', '未扣分满意度', '影响（已校正）', '置信区间', '']
      .map((t) => h('th', null, t)))),
    h('tbody', null, rows.map((e) => h('tr', { dataset: { key: e.key, enough: String(e.enough) } },
      h('td', null, e.name), h('td', null, fmtNum(e.with_calls)), h('td', null, fmtNum(e.csat_with, 2)),
      h('td', null, fmtNum(e.csat_without, 2)),
      h('td', null, e.enough ? `${e.effect > 0 ? '+' : ''}${fmtNum(e.effect, 2)}` : badge(`样本不足（每侧至少 ${min} 通）`)),
      h('td', null, e.enough ? `[${fmtNum(e.low, 2)}, ${fmtNum(e.high, 2)}]` : '—'),
      h('td', null, e.enough ? intervalBar(e) : '')))));
}

function importCard() {
  const file = h('input', { type: 'file', accept: '.csv,text/csv', 'aria-label': '满意度 CSV 文件' });
  const columns = h('input', { placeholder: '列映射（可选），如 call_id=通话编号,csat=满意度', style: { width: '320px' } });
  const button = h('button', { class: 'btn btn-primary', type: 'button' }, '导入');
  const result = h('div', { id: 'survey-import-result' });
  const error = h('div', { class: 'error small', role: 'alert' });
  button.addEventListener('click', () => busy(button, async () => {
    if (!file.files.length) throw new Error('请选择 CSV 文件');
    const query = columns.value.trim() ? { columns: columns.value.trim() } : undefined;
    const done = await api('/satisfaction/import', { method: 'POST', body: file.files[0], query });
    result.replaceChildren(h('div', null, `导入 ${done.imported} 条（替换原有 ${done.replaced} 条），未导入 ${done.errors.length} 行`),
      done.errors.length ? h('ul', { class: 'small' }, done.errors.slice(0, 50).map((e) => h('li', null, `第 ${e.line} 行：${e.reason}`))) : '');
    toast(`满意度已导入 ${done.imported} 条`);
  }, error));
  return h('div', { class: 'card', id: 'survey-import' }, h('h2', null, '导入满意度回访'),
    h('div', { class: 'muted small' }, 'CSV（UTF-8 或 GBK），默认列 call_id,csat,nps,comment；没有通话编号时可用 caller 与 answered_at 按来电号码和时间匹配。'),
    h('div', { class: 'row', style: { marginTop: '8px' } }, file, columns, button), error, result);
}

export async function pageSatisfaction(ctx, query) {
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  const data = await api('/satisfaction/effects', { query: { from, to } });
  if (!ctx.alive()) return;
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '开始', h('input', { type: 'date', name: 'from', value: from || data.date_from || '' })),
    h('label', { class: 'field' }, '结束', h('input', { type: 'date', name: 'to', value: to || data.date_to || '' })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '查询')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(form).entries());
    go(`#/satisfaction?from=${enc(v.from)}&to=${enc(v.to)}`);
  });
  const slope = data.per_10_points;
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '满意度分析'),
      h('span', { class: 'muted' }, `${data.date_from} 至 ${data.date_to}`)),
    h('div', { class: 'card' }, form),
    h('div', { class: 'kpis', id: 'satisfaction-kpis' },
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, '有评分的回访'), h('div', { class: 'value' }, fmtNum(data.responses))),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, '平均满意度'), h('div', { class: 'value' }, fmtNum(data.mean_csat, 2))),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, '质检每高 10 分，满意度'),
        h('div', { class: 'value' }, slope ? `${slope.effect > 0 ? '+' : ''}${fmtNum(slope.effect, 2)}` : '—'),
        slope ? h('div', { class: 'muted small' }, `${Math.round(data.confidence * 100)}% 区间 [${fmtNum(slope.low, 2)}, ${fmtNum(slope.high, 2)}]`) : '')),
    h('div', { class: 'card' }, h('h2', null, '各规则对满意度的影响'),
      h('div', { class: 'muted small' }, `该规则扣分的通话，满意度平均变化多少分（1–5 分制），已校正同时扣分的其他规则；${Math.round(data.confidence * 100)}% 置信区间。可据此讨论规则分值。`),
      effectsTable('rule-effects', data.rules, data.min_responses)),
    h('div', { class: 'card' }, h('h2', null, '各维度对满意度的影响'), effectsTable('dimension-effects', data.dimensions, data.min_responses)),
    canReview() ? importCard() : null);
}
