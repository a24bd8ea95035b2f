/*
 * The side panel of a call: score, findings (deductions and other hits), verdicts, appeals, the
 * reviewer's actions (missed finding, score adjustment, review completion) and the audit trail.
 */
import { api } from '../core/api.js';
import { busy, toast } from '../core/chrome.js';
import { clear, h } from '../core/dom.js';
import { fmtClock, fmtNum, fmtTime, scoreClass } from '../core/format.js';
import { DIMENSIONS, GOOD_CHECKS, label } from '../core/labels.js';
import { canReview, state } from '../core/state.js';
import { enc } from '../core/url.js';
import { badge, dimensionBar, dimensionName, labelled, ruleName } from '../core/widgets.js';
import { auditCard } from './audit.js';

// 重复来电: the other calls of this owner about the same problem (the chain), this call marked.
function chainCard(detail) {
  const chain = detail.repeat_chain;
  return h('div', { class: 'card', id: 'repeat-chain' },
    h('h2', null, `重复来电（${chain.calls.length} 通）`),
    h('div', { class: 'muted small' }, chain.resolved ? '已解决：期限内未再来电' : '未解决：仍在重复来电期限内或有投诉用语'),
    h('ol', { style: { margin: 0, paddingLeft: '18px' } }, chain.calls.map((c) => h('li', null,
      c.call_id === detail.call_id ? h('strong', null, c.call_id)
        : h('a', { href: `#/calls/${enc(c.call_id)}`, class: 'mono' }, c.call_id),
      ' ', h('span', { class: 'muted small' }, `${fmtTime(c.started_at)} · ${(c.topics || []).join('、')}`)))));
}

// The call's findings: from the review view when the API has it, else the analysis' hits.
export function hitsOf(view) {
  if (view.review && Array.isArray(view.review.hits)) return view.review.hits;
  return (view.detail.hits || []).map((hit, index) => ({ ...hit, index, verdict: null, appeal: null }));
}

export function renderSide(side, view, rerender) {
  const { detail } = view;
  const review = view.review;
  const hits = hitsOf(view);
  clear(side);

  // Score panel
  const machine = review ? review.machine_score : (detail.score ? detail.score.total : null);
  const reviewed = review ? review.reviewed_score : null;
  const effective = review ? review.effective_score : machine;
  const scoreData = detail.score || {};
  const dims = scoreData.dimensions || {};
  const alert = scoreData.alert;
  side.append(h('div', { class: 'card', id: 'score-panel' },
    h('h2', null, '评分'),
    h('div', { class: 'score-panel' },
      h('div', { class: 'score-box' }, h('div', { class: 'label' }, '机器评分'),
        h('div', { class: ['value', scoreClass(machine)], id: 'machine-score' }, fmtNum(machine))),
      h('div', { class: 'score-box' }, h('div', { class: 'label' }, '复核后评分'),
        h('div', { class: ['value', scoreClass(reviewed)], id: 'reviewed-score' },
          reviewed === null || reviewed === undefined ? '未复核' : fmtNum(reviewed))),
      h('div', { class: 'score-box effective' }, h('div', { class: 'label' }, '当前有效分'),
        h('div', { class: ['value', scoreClass(effective)], id: 'effective-score' }, fmtNum(effective)))),
    Object.keys(dims).length ? h('div', { class: 'bars' }, Object.entries(dims).map(([id, dim]) =>
      dimensionBar(dim.name || dimensionName(id), dim.score, dim.weight))) : null,
    alert && alert !== 'none' ? h('div', { class: ['alert-box', `alert-${alert}`], id: 'alert-box' },
      h('b', null, label('alert_level', alert, alert)), scoreData.fatal ? '（一票否决）' : '',
      h('ul', null, (scoreData.alert_reasons || []).map((reason) => h('li', null, reason)))) : null,
    review && review.review ? h('div', { class: 'muted small', style: { marginTop: '8px' } }, '复核状态：',
      labelled('review_status', review.review.status), review.review.reviewer ? ` 复核人 ${review.review.reviewer}` : '',
      review.review.completed_at ? ` · ${fmtTime(review.review.completed_at)}` : '') : null));

  // Findings
  // An uncertain deduction (heard with low confidence) keeps its points but counts only once confirmed.
  const deductions = hits.filter((hit) => hit.points < 0);
  const deductRules = new Set(deductions.map((hit) => hit.rule_id));
  const others = hits.filter((hit) => !(hit.points < 0) && !deductRules.has(hit.rule_id));
  const added = (review && review.added_findings) || [];
  const hitsCard = h('div', { class: 'card', id: 'hits' },
    h('h2', null, '扣分项', h('span', { class: 'muted small' }, `（${deductions.length + added.length} 项）`)));
  const list = h('div', { class: 'hits' });
  if (!deductions.length && !added.length) list.append(h('div', { class: 'empty' }, '本通话没有扣分项'));
  for (const hit of deductions) {
    const evidence = hits.filter((other) => other.rule_id === hit.rule_id && other !== hit && other.text);
    list.append(hitItem(hit, evidence, view, rerender));
  }
  for (const finding of added) {
    list.append(h('div', { class: 'hit-item deduct' },
      h('div', { class: 'hit-main' }, badge('补充漏检', 'purple'), h('span', { class: 'hit-title' }, finding.description),
        h('span', { class: 'pts' }, `${fmtNum(finding.points)} 分`)),
      h('div', { class: 'verdict-note' }, `${dimensionName(finding.dimension, dims)} · ${finding.reviewer || ''}`,
        finding.at ? ` · ${fmtTime(finding.at)}` : '')));
  }
  hitsCard.append(list);
  if (others.length) {
    const groups = new Map();
    for (const hit of others) {
      if (!groups.has(hit.rule_id)) groups.set(hit.rule_id, []);
      groups.get(hit.rule_id).push(hit);
    }
    const more = h('details', { class: 'more', open: true },
      h('summary', null, `其他命中（${groups.size} 条规则，不扣分）`));
    const box = h('div', { class: 'hits' });
    for (const group of groups.values()) box.append(evidenceItem(group, view, rerender));
    more.append(box);
    hitsCard.append(more);
  }
  side.append(hitsCard);
  if (detail.repeat_chain) side.append(chainCard(detail));

  if (canReview()) side.append(reviewerPanel(view, rerender, dims));
  if (canReview() && review && Array.isArray(review.audit)) side.append(auditCard(review.audit));
  if (view.reviewError && view.reviewError.status !== 404 && view.reviewError.status !== 403) {
    side.append(h('div', { class: 'error-box small' }, `复核信息加载失败：${view.reviewError.message}`));
  }
}

function hitWhen(hit, duration) {
  if (hit.start === null || hit.start === undefined) return '';
  const whole = !hit.text && hit.start <= 0.01 && duration && hit.end >= duration - 0.5;
  return whole ? '全程' : `${fmtClock(hit.start)}–${fmtClock(hit.end)}`;
}

function hitItem(hit, evidence, view, rerender) {
  const duration = view.detail.duration_s || (view.detail.metrics && view.detail.metrics.duration_s);
  const rejected = hit.verdict === 'rejected';
  const pending = hit.uncertain && hit.verdict !== 'confirmed';
  const quote = hit.text ? `「${hit.text}」`
    : (GOOD_CHECKS.has(hit.category) ? `全程未检测到「${ruleName(hit)}」相关话术` : '按整通通话判定（无单句原话）');
  const item = h('div', { class: ['hit-item', 'deduct', rejected ? 'rejected' : ''],
    dataset: { hitIndex: hit.index, ruleId: hit.rule_id } },
  h('div', { class: 'hit-main', title: '点击跳转到该处播放', onclick: () => view.seek(hit.start || 0) },
    h('span', { class: 'hit-title' }, ruleName(hit)),
    badge(label('speaker_role', hit.role, '—')),
    pending ? h('span', { class: 'uncertain', title: `识别置信度 ${fmtNum(hit.confidence)}，低于规则阈值：确认前不扣分、不预警` },
      badge('待确认', 'yellow')) : null,
    h('span', { class: 'muted small' }, `${dimensionName(hit.dimension, (view.detail.score || {}).dimensions)} · ${hitWhen(hit, duration)}`),
    h('span', { class: ['pts', pending ? 'zero' : ''] }, pending ? `暂不扣分（${fmtNum(hit.points)}）` : `${fmtNum(hit.points)} 分`)),
  h('div', { class: 'quote' }, quote),
  evidence.length ? h('div', { class: 'row small', style: { marginTop: '4px' } }, h('span', { class: 'muted' }, '其他出处：'),
    evidence.map((ev) => h('button', { class: 'link', type: 'button', onclick: () => view.seek(ev.start) },
      `「${ev.text}」${fmtClock(ev.start)}`))) : null);
  if (hit.verdict) {
    item.append(h('div', { class: 'verdict-note' }, labelled('verdict', hit.verdict),
      hit.verdict_by ? ` ${hit.verdict_by}` : '', hit.verdict_comment ? `：${hit.verdict_comment}` : ''));
  }
  if (hit.appeal) item.append(appealBox(hit, view, rerender));
  if (canReview()) item.append(verdictControls(hit, view, rerender));
  if (state.user.role === 'agent' && !hit.appeal && !rejected && view.review) item.append(appealControls(hit, view, rerender));
  return item;
}

function evidenceItem(group, view, rerender) {
  const first = group[0];
  const withText = group.filter((hit) => hit.text);
  const item = h('div', { class: ['hit-item', first.verdict === 'rejected' ? 'rejected' : ''],
    dataset: { hitIndex: first.index, ruleId: first.rule_id } },
  h('div', { class: 'hit-main', onclick: () => view.seek(first.start || 0), title: '点击跳转到该处播放' },
    h('span', { class: 'hit-title' }, ruleName(first)),
    badge(label('check_category', first.category) || first.category || '命中', 'blue'),
    h('span', { class: 'pts zero' }, '不扣分')),
  withText.length ? h('div', { class: 'row small', style: { marginTop: '4px' } }, withText.map((hit) =>
    h('button', { class: 'link', type: 'button', onclick: () => view.seek(hit.start) },
      `「${hit.text}」${fmtClock(hit.start)}`))) : null);
  if (first.verdict) item.append(h('div', { class: 'verdict-note' }, labelled('verdict', first.verdict),
    first.verdict_comment ? `：${first.verdict_comment}` : ''));
  if (canReview() && view.review) {
    const confirm = h('button', { class: 'btn btn-sm btn-success', type: 'button' }, '确认');
    const reject = h('button', { class: 'btn btn-sm btn-danger', type: 'button' }, '误报');
    const send = (verdict, button) => busy(button, async () => {
      await api(`/calls/${enc(view.callId)}/hits/${first.index}/verdict`, { method: 'POST',
        body: { verdict, comment: verdict === 'rejected' ? '误报' : '' } });
      toast(verdict === 'rejected' ? '已标记为误报' : '已确认命中');
      await rerender();
    });
    confirm.addEventListener('click', () => send('confirmed', confirm));
    reject.addEventListener('click', () => send('rejected', reject));
    item.append(h('div', { class: 'controls' }, confirm, reject));
  }
  return item;
}

function verdictControls(hit, view, rerender) {
  const comment = h('input', { placeholder: '判定说明（驳回时必填）', value: '', 'aria-label': '判定说明' });
  const error = h('div', { class: 'form-error' });
  const confirm = h('button', { class: 'btn btn-sm btn-success', type: 'button', dataset: { action: 'confirm' } }, '确认');
  const reject = h('button', { class: 'btn btn-sm btn-danger', type: 'button', dataset: { action: 'reject' } }, '驳回');
  const send = (verdict, button) => {
    if (verdict === 'rejected' && !comment.value.trim()) {
      error.textContent = '驳回命中需要填写理由';
      comment.focus();
      return;
    }
    busy(button, async () => {
      await api(`/calls/${enc(view.callId)}/hits/${hit.index}/verdict`, { method: 'POST',
        body: { verdict, comment: comment.value.trim() } });
      toast(verdict === 'rejected' ? '已驳回该命中，分数已重新计算' : '已确认该命中');
      await rerender();
    }, error);
  };
  confirm.addEventListener('click', () => send('confirmed', confirm));
  reject.addEventListener('click', () => send('rejected', reject));
  return h('div', null, h('div', { class: 'controls' }, comment, confirm, reject), error);
}

function appealBox(hit, view, rerender) {
  const appeal = hit.appeal;
  const box = h('div', { class: 'appeal-box', dataset: { appealId: appeal.id } },
    h('div', { class: 'row' }, h('b', null, '申诉'), h('span', { class: 'appeal-status' }, labelled('appeal_status', appeal.status))),
    appeal.comment ? h('div', null, '申诉理由：', appeal.comment) : null,
    appeal.resolution ? h('div', null, '处理意见：', appeal.resolution) : null);
  if (canReview() && appeal.status === 'open') {
    const resolution = h('textarea', { placeholder: '处理意见（必填）', rows: 2, 'aria-label': '处理意见' });
    const error = h('div', { class: 'form-error' });
    const accept = h('button', { class: 'btn btn-sm btn-success', type: 'button' }, '接受申诉');
    const reject = h('button', { class: 'btn btn-sm btn-danger', type: 'button' }, '驳回申诉');
    const send = (decision, button) => {
      if (!resolution.value.trim()) { error.textContent = '请填写处理意见'; return; }
      busy(button, async () => {
        await api(`/appeals/${appeal.id}/resolve`, { method: 'POST',
          body: { decision, resolution: resolution.value.trim() } });
        toast(decision === 'accepted' ? '已接受申诉，该扣分已撤销' : '已驳回申诉');
        await rerender();
      }, error);
    };
    accept.addEventListener('click', () => send('accepted', accept));
    reject.addEventListener('click', () => send('rejected', reject));
    box.append(resolution, h('div', { class: 'row' }, accept, reject), error);
  }
  return box;
}

function appealControls(hit, view, rerender) {
  const open = h('button', { class: 'btn btn-sm', type: 'button', dataset: { action: 'appeal' } }, '申诉');
  const comment = h('textarea', { placeholder: '请说明申诉理由（必填）', rows: 2, 'aria-label': '申诉理由' });
  const error = h('div', { class: 'form-error' });
  const submit = h('button', { class: 'btn btn-sm btn-primary', type: 'button' }, '提交申诉');
  const cancel = h('button', { class: 'btn btn-sm', type: 'button' }, '取消');
  const form = h('div', { class: 'appeal-box', hidden: true }, comment, h('div', { class: 'row' }, submit, cancel), error);
  open.addEventListener('click', () => { form.hidden = false; open.hidden = true; comment.focus(); });
  cancel.addEventListener('click', () => { form.hidden = true; open.hidden = false; });
  submit.addEventListener('click', () => {
    if (!comment.value.trim()) { error.textContent = '请填写申诉理由'; return; }
    busy(submit, async () => {
      await api(`/calls/${enc(view.callId)}/hits/${hit.index}/appeal`, { method: 'POST',
        body: { comment: comment.value.trim() } });
      toast('申诉已提交，等待质检员处理');
      await rerender();
    }, error);
  });
  return h('div', { class: 'controls' }, open, form);
}

function reviewerPanel(view, rerender, dims) {
  const review = view.review;
  const callPath = `/calls/${enc(view.callId)}`;
  const card = h('div', { class: 'card', id: 'review-panel' }, h('h2', null, '复核操作'));
  if (!review) {
    card.append(h('div', { class: 'muted' }, '复核信息暂不可用'));
    return card;
  }
  // 补充漏检
  const description = h('input', { placeholder: '漏检问题描述，如：未核实业主身份', 'aria-label': '漏检描述' });
  const points = h('input', { type: 'number', min: 0.5, max: 100, step: 0.5, value: '5', 'aria-label': '扣分', style: { width: '80px' } });
  const dimension = h('select', { 'aria-label': '维度' }, Object.keys(Object.keys(dims).length ? dims : DIMENSIONS)
    .map((id) => h('option', { value: id }, dimensionName(id, dims))));
  const findingError = h('div', { class: 'form-error' });
  const addFinding = h('button', { class: 'btn btn-sm', type: 'button' }, '补充漏检');
  addFinding.addEventListener('click', () => {
    const value = Number(points.value);
    if (!description.value.trim()) { findingError.textContent = '请填写漏检问题描述'; return; }
    if (!(value > 0)) { findingError.textContent = '扣分应为正数'; return; }
    busy(addFinding, async () => {
      await api(`${callPath}/findings`, { method: 'POST',
        body: { description: description.value.trim(), points: -Math.abs(value), dimension: dimension.value } });
      toast('已补充漏检项');
      await rerender();
    }, findingError);
  });
  // 调整分数
  const newScore = h('input', { type: 'number', min: 0, max: 100, step: 0.5, 'aria-label': '调整后分数',
    placeholder: '0–100', style: { width: '90px' } });
  const reason = h('input', { placeholder: '调整理由（必填）', 'aria-label': '调整理由' });
  const scoreError = h('div', { class: 'form-error' });
  const adjust = h('button', { class: 'btn btn-sm', type: 'button' }, '调整分数');
  adjust.addEventListener('click', () => {
    const value = Number(newScore.value);
    if (newScore.value === '' || Number.isNaN(value) || value < 0 || value > 100) {
      scoreError.textContent = '分数应在 0 到 100 之间';
      return;
    }
    if (!reason.value.trim()) { scoreError.textContent = '调整分数必须填写理由'; return; }
    busy(adjust, async () => {
      await api(`${callPath}/score`, { method: 'POST', body: { score: value, reason: reason.value.trim() } });
      toast('分数已调整');
      await rerender();
    }, scoreError);
  });
  card.append(
    h('h3', null, '补充漏检'),
    h('div', { class: 'row' }, description, dimension, h('span', { class: 'muted small' }, '扣'), points, addFinding),
    findingError,
    h('h3', { style: { marginTop: '6px' } }, '调整分数'),
    h('div', { class: 'row' }, newScore, reason, adjust),
    scoreError);
  // 完成复核
  const record = review.review;
  if (record && record.status === 'pending') {
    const comment = h('input', { placeholder: '复核意见（可选）', 'aria-label': '复核意见', style: { flex: 1 } });
    const completeError = h('div', { class: 'form-error' });
    const complete = h('button', { class: 'btn btn-primary', type: 'button' }, '完成复核');
    complete.addEventListener('click', () => busy(complete, async () => {
      await api(`/reviews/${record.id}/complete`, { method: 'POST', body: { comment: comment.value.trim() } });
      toast('复核已完成');
      await rerender();
    }, completeError));
    card.append(h('h3', { style: { marginTop: '6px' } }, '完成复核'), h('div', { class: 'row' }, comment, complete), completeError);
  } else if (record && record.status === 'done') {
    card.append(h('div', { class: 'muted small' }, `已于 ${fmtTime(record.completed_at)} 完成复核`,
      record.comment ? `：${record.comment}` : ''));
  }
  return card;
}
