/* 培训辅导: the coaching board (running, overdue, done) and the assignment form (trainers). */
import { api, itemsOf, soft } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { clear, h } from '../core/dom.js';
import { fmtNum, fmtTime, isoDate } from '../core/format.js';
import { go, route } from '../core/router.js';
import { canCoach, state } from '../core/state.js';
import { enc } from '../core/url.js';
import { badge, dimensionName } from '../core/widgets.js';

export async function pageCoaching(ctx, query) {
  const coach = canCoach();
  const agentFilter = query.get('agent_id') && !query.get('assign') ? query.get('agent_id') : '';
  const [data, competencies, courses, agents] = await Promise.all([
    api('/coaching', { query: { agent_id: agentFilter } }),
    coach ? soft(api('/competencies')) : null,
    coach ? soft(api('/courses')) : null,
    coach ? soft(api('/agents')) : null]);
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  const columns = [
    ['进行中', items.filter((t) => t.status === 'assigned' && !t.overdue), 'assigned'],
    ['已逾期', items.filter((t) => t.status === 'assigned' && t.overdue), 'overdue'],
    ['已完成', items.filter((t) => t.status === 'done'), 'done'],
  ];
  const compList = competencies && !(competencies instanceof Error) ? itemsOf(competencies, 'competencies') : [];
  const courseList = courses && !(courses instanceof Error) ? itemsOf(courses, 'courses') : [];
  const board = h('div', { class: 'board', id: 'coaching-board' }, columns.map(([title, tasks, key]) =>
    h('div', { class: 'column', dataset: { column: key } },
      h('h3', null, title, badge(String(tasks.length), key === 'overdue' && tasks.length ? 'red' : '')),
      tasks.length ? tasks.map((task) => coachingCard(task, compList)) : h('div', { class: 'empty small' }, '暂无'))));
  const cancelled = items.filter((t) => t.status === 'cancelled').length;
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, state.user.role === 'agent' ? '我的培训' : '培训辅导'),
      h('span', { class: 'sub' }, `共 ${items.length} 项`, cancelled ? `（其中已取消 ${cancelled} 项）` : ''),
      agentFilter ? h('span', null, badge(`坐席 ${agentFilter}`, 'blue'), ' ', h('a', { href: '#/coaching', class: 'small' }, '清除筛选')) : null),
    coach ? assignForm(query, compList, courseList, agents && !(agents instanceof Error) ? itemsOf(agents) : []) : null,
    board);
}

function coachingCard(task, compList) {
  const effect = task.effect;
  const me = state.user;
  const mayFinish = task.status === 'assigned' && (me.role === 'agent' || canCoach());
  const finish = mayFinish ? h('button', { class: 'btn btn-sm btn-primary', type: 'button', dataset: { action: 'done' } }, '标记完成') : null;
  if (finish) {
    finish.addEventListener('click', () => busy(finish, async () => {
      await api(`/coaching/${task.id}/done`, { method: 'POST' });
      toast('已标记完成');
      route();
    }));
  }
  const compName = task.competency_name || (compList.find((c) => c.id === task.competency) || {}).name || task.competency;
  return h('div', { class: ['task', task.overdue && task.status === 'assigned' ? 'overdue' : ''], dataset: { coachingId: task.id } },
    h('div', { class: 'title' }, state.user.role === 'agent' ? null
      : h('a', { href: `#/agents/${enc(task.agent_id)}` }, task.agent_name || task.agent_id), badge(compName, 'purple'),
    task.overdue && task.status === 'assigned' ? badge('已逾期', 'red') : null),
    h('div', { class: 'line' }, '课程：', task.course_name || task.course_id || '—'),
    h('div', { class: 'line' }, '截止：', task.due_date || '—', task.done_at ? ` · 完成于 ${fmtTime(task.done_at)}` : ''),
    h('div', { class: 'line' }, '指派：', task.trainer ? String(task.trainer).replace(/^user:/, '') : '—',
      task.created_at ? ` · ${fmtTime(task.created_at)}` : ''),
    task.evidence && task.evidence.length ? h('div', { class: 'line' }, '证据通话：', task.evidence.map((id) =>
      h('a', { href: `#/calls/${enc(id)}`, class: 'mono', style: { marginRight: '6px' } }, id))) : null,
    task.note ? h('div', { class: 'line' }, '备注：', task.note) : null,
    effect ? effectBox(effect) : null,
    finish ? h('div', { style: { marginTop: '8px' } }, finish) : null);
}

const VERDICT_COLOURS = { improved: 'green', declined: 'red', unclear: 'blue', insufficient: 'yellow' };

const signed = (value) => (value === null || value === undefined ? '—' : `${value > 0 ? '+' : ''}${fmtNum(value)}`);

// The interval as "[low, high]"; null when it could not be computed (fewer than two calls a side).
function interval(low, high) {
  return low === null || low === undefined || high === null || high === undefined ? null
    : `${fmtNum(low)} ~ ${fmtNum(high)}`;
}

function effectBox(effect) {
  const delta = effect.delta;
  const cls = delta > 0 ? 'delta-up' : (delta < 0 ? 'delta-down' : '');
  const count = (value) => (Array.isArray(value) ? value.length : Number(value) || 0);
  const hasAfter = count(effect.after_calls) > 0;
  const level = `${Math.round((effect.level || 0.95) * 100)}%`;
  const own = interval(effect.ci_low, effect.ci_high);
  const did = interval(effect.did_low, effect.did_high);
  const day = (iso) => (iso ? fmtTime(iso).slice(5, 10) : '—');
  const label = effect.label || (effect.enough ? '' : '样本不足');
  const team = effect.team_before_n && effect.team_after_n
    ? h('div', { class: 'team', dataset: { role: 'team' } },
      `团队同期（${effect.team_id || '本组'}其他坐席，${day(effect.before_from)}–${day(effect.before_to)} / `,
      `${day(effect.after_from)}–${day(effect.after_to)}）：${fmtNum(effect.team_before_avg)}（${effect.team_before_n} 通）→ `,
      `${fmtNum(effect.team_after_avg)}（${effect.team_after_n} 通）${signed(effect.team_delta)}`,
      h('br'), '扣除团队变化后 ', h('b', null, signed(effect.did)), did ? `（${level} 区间 ${did}）` : '',
      effect.team_compared ? null : h('span', { class: 'muted' }, ' · 团队通话不足，结论未参考团队'))
    : (hasAfter ? h('div', { class: 'team muted', dataset: { role: 'team' } }, '无团队同期数据，未能排除季节等整体变化') : null);
  return h('div', { class: 'effect', dataset: { verdict: effect.verdict || '' } },
    h('div', null, '培训效果（', dimensionName(effect.dimension), '维度）',
      label ? [' ', badge(label, VERDICT_COLOURS[effect.verdict] || '')] : null),
    h('div', null, `培训前 ${fmtNum(effect.before_avg)}（${count(effect.before_calls)} 通）→ 培训后 `,
      hasAfter ? `${fmtNum(effect.after_avg)}（${count(effect.after_calls)} 通）` : '暂无通话',
      hasAfter && delta !== null && delta !== undefined ? h('span', { class: cls }, ` ${signed(delta)}`) : null,
      hasAfter && own ? h('span', { class: 'muted', dataset: { role: 'interval' } }, `（${level} 区间 ${own}）`) : null),
    hasAfter && !effect.enough
      ? h('div', { class: 'muted small' }, `每侧至少 ${effect.min_calls || 5} 通才下结论`) : null,
    team);
}

function assignForm(query, compList, courseList, agentList) {
  const open = query.get('assign') === '1';
  const prefillEvidence = new Set((query.get('evidence') || '').split(',').filter(Boolean));
  const prefillAgent = query.get('agent_id') || '';
  const agentLabel = (a) => `${a.name || a.agent_id}（${a.agent_id}${a.team_id ? ` · ${a.team_id}` : ''}）`;
  // A list from GET /agents; typing the id stays possible when the list could not be loaded.
  const agentInput = agentList.length
    ? h('select', { name: 'agent_id', required: true },
      h('option', { value: '' }, '请选择坐席'),
      prefillAgent && !agentList.some((a) => a.agent_id === prefillAgent)
        ? h('option', { value: prefillAgent, selected: true }, prefillAgent) : null,
      agentList.map((a) => h('option', { value: a.agent_id, selected: a.agent_id === prefillAgent }, agentLabel(a))))
    : h('input', { name: 'agent_id', value: prefillAgent, placeholder: '如 8001', required: true });
  const compSelect = h('select', { name: 'competency', required: true },
    h('option', { value: '' }, '请选择能力项'),
    compList.map((c) => h('option', { value: c.id, selected: c.id === query.get('competency') }, c.name || c.id)));
  const courseSelect = h('select', { name: 'course_id' });
  const fillCourses = () => {
    const wanted = compSelect.value;
    const current = courseSelect.value || query.get('course_id') || '';
    const matching = courseList.filter((c) => !wanted || !(c.competencies || []).length || (c.competencies || []).includes(wanted));
    clear(courseSelect).append(h('option', { value: '' }, '请选择课程'),
      ...(matching.length ? matching : courseList).map((c) => h('option', { value: c.id, selected: c.id === current },
        `${c.name || c.id}${c.duration_min ? `（${c.duration_min} 分钟）` : ''}`)));
  };
  compSelect.addEventListener('change', fillCourses);
  fillCourses();
  const due = new Date();
  due.setDate(due.getDate() + 14);
  const dueInput = h('input', { type: 'date', name: 'due_date', value: query.get('due_date') || isoDate(due), required: true });
  const note = h('input', { name: 'note', placeholder: '可选，如：重点练习情绪安抚话术' });
  const evidenceBox = h('div', { class: 'checklist', id: 'evidence-list' }, h('span', { class: 'muted small' }, '选择坐席后列出其近期通话'));
  const extra = h('input', { name: 'evidence_extra', placeholder: '其他通话编号，逗号分隔' });
  const loadCalls = async () => {
    const agentId = agentInput.value.trim();
    if (!agentId) return;
    const data = await soft(api('/calls', { query: { agent_id: agentId, status: 'done', page_size: 12 } }));
    clear(evidenceBox);
    const calls = data instanceof Error ? [] : itemsOf(data);
    if (!calls.length) {
      evidenceBox.append(h('span', { class: 'muted small' }, data instanceof Error ? data.message : '该坐席暂无已完成的通话'));
    }
    for (const call of calls) {
      evidenceBox.append(h('label', null, h('input', { type: 'checkbox', name: 'evidence', value: call.call_id,
        checked: prefillEvidence.has(call.call_id) }), h('span', { class: 'mono' }, call.call_id),
      h('span', { class: 'muted small' }, `${fmtTime(call.started_at).slice(5)} · ${fmtNum(call.score)}分`)));
      prefillEvidence.delete(call.call_id);
    }
    if (prefillEvidence.size) extra.value = [...prefillEvidence].join(',');
  };
  agentInput.addEventListener('change', loadCalls);
  const error = h('div', { class: 'form-error' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, '指派培训');
  const form = h('form', { id: 'assign-form', novalidate: true },
    h('div', { class: 'form-grid' },
      h('label', { class: 'field' }, '坐席工号', agentInput),
      h('label', { class: 'field' }, '能力项', compSelect),
      h('label', { class: 'field' }, '课程', courseSelect),
      h('label', { class: 'field' }, '截止日期', dueInput),
      h('label', { class: 'field', style: { gridColumn: 'span 2' } }, '备注', note),
      h('div', { class: 'field wide' }, h('span', { class: 'muted small' }, '证据通话（勾选）'), evidenceBox),
      h('label', { class: 'field wide' }, '', extra)),
    error, h('div', { class: 'row' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const evidence = [...form.querySelectorAll('input[name="evidence"]:checked')].map((el) => el.value)
      .concat(extra.value.split(/[,，\s]+/).filter(Boolean));
    if (!agentInput.value.trim()) { error.textContent = '请选择坐席'; return; }
    if (!compSelect.value) { error.textContent = '请选择能力项'; return; }
    if (!dueInput.value) { error.textContent = '请选择截止日期'; return; }
    busy(submit, async () => {
      await api('/coaching', { method: 'POST', body: { agent_id: agentInput.value.trim(), competency: compSelect.value,
        course_id: courseSelect.value || null, evidence: [...new Set(evidence)], due_date: dueInput.value,
        note: note.value.trim() } });
      toast('已指派培训');
      go('#/coaching');
    }, error);
  });
  if (agentInput.value) loadCalls();
  return h('details', { class: 'card', open, id: 'assign' }, h('summary', { style: { cursor: 'pointer', fontWeight: 600 } }, '指派培训'),
    h('div', { style: { marginTop: '12px' } }, form));
}
