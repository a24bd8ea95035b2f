/* 坐席成绩单: an agent's KPIs, score trend, dimensions, checks, most-missed rules, competencies, calls. */
import { ApiError, api, itemsOf, soft } from '../core/api.js';
import { pageError, setMain } from '../core/chrome.js';
import { h, s } from '../core/dom.js';
import { fmtNum, fmtPct, fmtTime, periodLabel } from '../core/format.js';
import { DIMENSIONS, GOOD_CHECKS, label } from '../core/labels.js';
import { go } from '../core/router.js';
import { canCoach, isStaff, state } from '../core/state.js';
import { enc, qs } from '../core/url.js';
import { alertBadge, badge, dimensionBar, dimensionName, scoreSpan } from '../core/widgets.js';

export async function pageScorecard(ctx, agentId, query) {
  if (!agentId) {
    setMain(pageError(new Error('未指定坐席'), '找不到坐席'));
    return;
  }
  const range = { from: query.get('from') || '', to: query.get('to') || '', trend: query.get('trend') || 'week' };
  const path = `/agents/${enc(agentId)}`;
  let card;
  try {
    card = await api(`${path}/scorecard`, { query: range });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      setMain(pageError(error, error.status === 403 ? '无权查看该坐席' : '坐席不存在'));
      return;
    }
    throw error;
  }
  const [competencies, recent] = await Promise.all([
    soft(api(`${path}/competencies`)),
    soft(api('/calls', { query: { agent_id: agentId, page_size: 10, status: 'done' } }))]);
  let dimsMeta = {};
  const recentItems = recent instanceof Error ? [] : itemsOf(recent);
  if (recentItems.length) {
    const sample = await soft(api(`/calls/${enc(recentItems[0].call_id)}`));
    if (!(sample instanceof Error) && sample.score) dimsMeta = sample.score.dimensions || {};
  }
  if (!ctx.alive()) return;

  const own = state.user.role === 'agent';
  const form = h('form', { class: 'row' },
    h('label', { class: 'field' }, '日期从', h('input', { type: 'date', name: 'from', value: card.from || range.from })),
    h('label', { class: 'field' }, '日期到', h('input', { type: 'date', name: 'to', value: card.to || range.to })),
    h('label', { class: 'field' }, '趋势粒度', h('select', { name: 'trend' },
      [['day', '按日'], ['week', '按周'], ['month', '按月']].map(([v, l]) => h('option', { value: v, selected: range.trend === v }, l)))),
    h('button', { class: 'btn', type: 'submit', style: { alignSelf: 'flex-end' } }, '查看'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(`#/agents/${enc(agentId)}${qs(Object.fromEntries(new FormData(form).entries()))}`);
  });

  const alerts = card.alerts || {};
  const checks = card.checks || {};
  const sat = card.satisfaction || {};
  const kpis = h('div', { class: 'kpis', id: 'kpis' },
    kpi('通话数', fmtNum(card.calls), '通'),
    kpi('平均分', fmtNum(card.average_score), '分'),
    kpi('共情话术使用率', fmtPct(checks.empathy)),
    kpi('红色预警', fmtNum(alerts.red || 0), '通', (alerts.red || 0) > 0 ? 'red' : ''),
    kpi('团队百分位', card.team_percentile === null || card.team_percentile === undefined ? '—'
      : fmtNum(card.team_percentile, 0), card.team_percentile === null || card.team_percentile === undefined ? '' : '%'),
    // Findings heard with low confidence deduct nothing until a reviewer confirms them.
    kpi('待确认发现', fmtPct(card.uncertain_share || 0), `${fmtNum(card.uncertain_calls || 0)} 通`),
    // Calls whose owner called again about the same topic within the window (首次未解决).
    kpi('重复来电率', fmtPct(card.repeat_rate || 0), `${fmtNum(card.repeated_calls || 0)} 通`),
    // Post-call surveys (满意度回访) matched to this agent's calls, beside the QA score.
    kpi('满意度', fmtNum(sat.csat, 2), sat.csat_responses ? `/5 · ${fmtNum(sat.csat_responses)} 份` : '暂无回访'),
    kpi('NPS', fmtNum(sat.nps), sat.nps_responses ? `${fmtNum(sat.nps_responses)} 份` : '暂无回访'));

  const dimensions = Object.entries(card.dimensions || {});
  const dimCard = h('div', { class: 'card', id: 'dimensions' }, h('h2', null, '维度得分（平均）'),
    dimensions.length ? h('div', { class: 'bars' }, dimensions.map(([id, value]) => {
      const weight = (dimsMeta[id] && dimsMeta[id].weight) || (DIMENSIONS[id] && DIMENSIONS[id].weight);
      return dimensionBar(dimensionName(id, dimsMeta), value, weight);
    })) : h('div', { class: 'empty' }, '暂无数据'),
    h('div', { class: 'alert-mix' }, h('span', { class: 'muted' }, '预警分布'),
      ['red', 'yellow', 'blue'].map((lv) => h('span', { class: ['badge', `badge-${lv}`] },
        h('span', { class: ['dot', `dot-${lv}`] }, ''), `${label('alert_level', lv, lv)} ${alerts[lv] || 0}`)),
      h('span', { class: ['badge', card.fatal ? 'badge-dark' : ''] }, `一票否决 ${card.fatal || 0}`)));

  const trendCard = h('div', { class: 'card', id: 'trend' }, h('h2', null, '分数趋势',
    h('span', { class: 'muted small' }, `（${{ day: '按日', week: '按周', month: '按月' }[range.trend] || ''}平均分）`)),
  trendChart(card.trend || []));

  const checkRows = Object.entries(checks).sort(([a], [b]) => Number(GOOD_CHECKS.has(b)) - Number(GOOD_CHECKS.has(a)));
  const checkCard = h('div', { class: 'card', id: 'checks' }, h('h2', null, '检查项达成率'),
    checkRows.length ? h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, '检查项'), h('th', null, '类型'), h('th', { class: 'num' }, '发生率'))),
      h('tbody', null, checkRows.map(([category, rate]) => {
        const good = GOOD_CHECKS.has(category);
        const worrying = good ? rate < 0.8 : rate > 0.1;
        return h('tr', null, h('td', null, label('check_category', category, category)),
          h('td', null, good ? badge('应做到', 'green') : badge('应避免', 'yellow')),
          h('td', { class: ['num', worrying ? 'score-bad' : ''] }, fmtPct(rate)));
      }))) : h('div', { class: 'empty' }, '暂无数据'));

  const missed = card.most_missed || [];
  const missedCard = h('div', { class: 'card', id: 'most-missed' }, h('h2', null, '常见扣分项'),
    missed.length ? h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, '规则'), h('th', { class: 'num' }, '扣分通话'), h('th', { class: 'num' }, '占比'))),
      h('tbody', null, missed.map((rule) => h('tr', null, h('td', null, rule.name || rule.rule_id),
        h('td', { class: 'num' }, fmtNum(rule.calls)), h('td', { class: 'num' }, fmtPct(rule.rate))))))
      : h('div', { class: 'empty' }, '所选期间没有扣分项'));

  const compCard = h('div', { class: 'card', id: 'competencies' }, h('h2', null, '能力评估'));
  if (competencies instanceof Error) {
    compCard.append(h('div', { class: 'muted' }, competencies.status === 404 ? '暂无能力评估数据'
      : `能力评估加载失败：${competencies.message}`));
  } else {
    const items = itemsOf(competencies, 'competencies');
    if (competencies.composite !== null && competencies.composite !== undefined) {
      compCard.append(h('div', { class: 'row', id: 'skill-composite', style: { marginBottom: '8px' } },
        h('span', null, '技能综合分 ', scoreSpan(competencies.composite)),
        badge(`建议层级：${competencies.tier_label || competencies.tier}`, 'blue'),
        (competencies.tier_courses || []).length
          ? h('span', { class: 'muted small' }, `推荐：${competencies.tier_courses.map((c) => c.name).join('、')}`) : ''));
    }
    compCard.append(items.length ? h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, '能力项'), h('th', { class: 'num' }, '得分'), h('th', null, '状态'),
        h('th', null, '推荐课程'), h('th', null, '证据通话'), canCoach() ? h('th', null, '') : null)),
      h('tbody', null, items.map((item) => h('tr', { dataset: { competency: item.id } },
        h('td', null, item.name || item.id),
        h('td', { class: 'num' }, scoreSpan(item.score)),
        h('td', null, item.weak ? badge('薄弱', 'red') : badge('达标', 'green')),
        h('td', { class: 'wrap' }, (item.suggested_courses || []).map((c) => c.name || c.id).join('、') || '—'),
        h('td', { class: 'wrap' }, (item.evidence_calls || []).slice(0, 3).map((id) =>
          h('a', { href: `#/calls/${enc(id)}`, class: 'mono', style: { marginRight: '6px' } }, id))),
        canCoach() ? h('td', null, h('a', { class: ['btn', 'btn-sm', item.weak ? 'btn-primary' : ''], dataset: { action: 'assign' },
          href: `#/coaching${qs({ assign: 1, agent_id: agentId, competency: item.id,
            course_id: ((item.suggested_courses || [])[0] || {}).id || '',
            evidence: (item.evidence_calls || []).slice(0, 5).join(',') })}` }, '指派培训')) : null))))
      : h('div', { class: 'empty' }, '暂无能力评估数据'));
  }

  const recentCard = h('div', { class: 'card' }, h('h2', null, '近期通话',
    h('a', { class: 'small', href: `#/calls${qs({ agent_id: own ? '' : agentId })}`, style: { marginLeft: 'auto', fontWeight: 400 } }, '查看全部 →')),
  recentItems.length ? h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '时间'), h('th', { class: 'num' }, '得分'), h('th', null, '预警'))),
    h('tbody', null, recentItems.map((call) => h('tr', null,
      h('td', null, h('a', { href: `#/calls/${enc(call.call_id)}`, class: 'mono' }, call.call_id)),
      h('td', null, fmtTime(call.started_at)), h('td', { class: 'num' }, scoreSpan(call.score)),
      h('td', null, alertBadge(call.alert)))))) : h('div', { class: 'empty' }, '暂无通话'));

  setMain(
    h('div', { class: 'page-head' },
      h('h1', null, own ? '我的成绩单' : '坐席成绩单'),
      h('span', { class: 'sub' }, `${card.agent_name || ''}（工号 ${card.agent_id}）`,
        card.team_id ? ' · 班组 ' : '', card.team_id && isStaff() ? h('a', { href: `#/teams/${enc(card.team_id)}` }, card.team_id)
          : (card.team_id || ''), card.from ? ` · ${card.from} 至 ${card.to}` : ''),
      h('span', { class: 'spacer' }), form),
    kpis,
    h('div', { class: 'grid-2' }, trendCard, dimCard),
    h('div', { class: 'grid-2' }, checkCard, h('div', null, missedCard)),
    compCard,
    recentCard);
}

function kpi(label, value, unit, cls) {
  return h('div', { class: ['kpi', cls || ''] }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value, unit && value !== '—' ? h('small', null, unit) : null));
}

// The trend as an inline SVG line chart: y = average score, x = period; points carry their value.
function trendChart(points) {
  const data = points.filter((p) => p.average_score !== null && p.average_score !== undefined);
  if (!data.length) return h('div', { class: 'empty' }, '所选期间暂无通话');
  const W = 560; const H = 230;
  const pad = { left: 40, right: 34, top: 22, bottom: 42 };
  const values = data.map((p) => Number(p.average_score));
  let lo = Math.floor((Math.min(...values) - 10) / 10) * 10;
  lo = Math.max(0, Math.min(lo, 60));
  const hi = 100;
  const x = (i) => pad.left + (data.length === 1 ? (W - pad.left - pad.right) / 2
    : i * (W - pad.left - pad.right) / (data.length - 1));
  const y = (v) => pad.top + (hi - v) * (H - pad.top - pad.bottom) / (hi - lo);
  const svg = s('svg', { class: 'chart trend-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': '平均分趋势图' });
  svg.append(s('title', null, '平均分趋势'));
  const step = hi - lo > 40 ? 20 : 10;
  for (let v = lo; v <= hi; v += step) {
    svg.append(s('line', { class: 'grid', x1: pad.left, x2: W - pad.right, y1: y(v), y2: y(v) }));
    svg.append(s('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  svg.append(s('line', { class: 'axis', x1: pad.left, x2: pad.left, y1: pad.top - 6, y2: H - pad.bottom }));
  svg.append(s('line', { class: 'axis', x1: pad.left, x2: W - pad.right, y1: H - pad.bottom, y2: H - pad.bottom }));
  svg.append(s('text', { x: 4, y: 12 }, '分'));
  if (data.length > 1) {
    const line = data.map((p, i) => `${x(i).toFixed(1)},${y(p.average_score).toFixed(1)}`).join(' ');
    svg.append(s('polygon', { class: 'area',
      points: `${x(0).toFixed(1)},${H - pad.bottom} ${line} ${x(data.length - 1).toFixed(1)},${H - pad.bottom}` }));
    svg.append(s('polyline', { class: 'line', points: line }));
  }
  const every = Math.ceil(data.length / 8);
  data.forEach((p, i) => {
    const cx = x(i); const cy = y(p.average_score);
    svg.append(s('circle', { class: 'pt', cx, cy, r: 4 },
      s('title', null, `${periodLabel(p.period)}：平均 ${fmtNum(p.average_score)} 分，${p.calls} 通`)));
    svg.append(s('text', { class: 'val', x: cx, y: cy - 9, 'text-anchor': 'middle' }, fmtNum(p.average_score)));
    if (i % every === 0 || i === data.length - 1) {
      svg.append(s('text', { x: cx, y: H - pad.bottom + 16, 'text-anchor': 'middle' }, periodLabel(p.period)));
      svg.append(s('text', { x: cx, y: H - pad.bottom + 30, 'text-anchor': 'middle' }, `${p.calls} 通`));
    }
  });
  return svg;
}
