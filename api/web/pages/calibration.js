/*
 * 质检校准 (#/calibration, #/calibration/<id>): rounds in which several reviewers judge the same calls'
 * hits blind. The list (an admin also creates rounds); a round: an assigned reviewer confirms or rejects
 * each hit and sees only their own verdicts while it is open; the admin sees progress and closes it; after
 * closing, the agreement per rule (percent, Cohen's / Fleiss' kappa) and the hits the reviewers disagree on.
 */
import { api, itemsOf } from '../core/api.js';
import { busy, setMain, toast } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtNum, fmtPct, fmtTime } from '../core/format.js';
import { go, route } from '../core/router.js';
import { state } from '../core/state.js';
import { enc } from '../core/url.js';
import { labelled } from '../core/widgets.js';

const VERDICT_TEXT = { confirmed: '确认', rejected: '驳回（误报）' };

export async function pageCalibration(ctx, id) {
  if (id) await pageRound(ctx, id);
  else await pageList(ctx);
}

function splitList(text) {
  return text.split(/[\s,，、]+/).map((part) => part.trim()).filter(Boolean);
}

function createForm() {
  const name = h('input', { placeholder: '校准名称', 'aria-label': '校准名称' });
  const reviewers = h('input', { placeholder: '质检员用户名，逗号分隔（至少 2 名）', 'aria-label': '质检员' });
  const calls = h('input', { placeholder: '通话编号，逗号分隔（留空则按日期抽样）', 'aria-label': '通话编号' });
  const from = h('input', { type: 'date', 'aria-label': '起始日期' });
  const to = h('input', { type: 'date', 'aria-label': '结束日期' });
  const count = h('input', { type: 'number', min: '1', max: '200', value: '10', 'aria-label': '抽样通话数' });
  const error = h('div', { class: 'form-error' });
  const submit = h('button', { class: 'btn btn-primary', type: 'button' }, '创建校准');
  submit.addEventListener('click', () => {
    const body = { name: name.value.trim(), reviewers: splitList(reviewers.value) };
    const ids = splitList(calls.value);
    if (ids.length) body.call_ids = ids;
    else body.sample = { date_from: from.value, date_to: to.value, count: Number(count.value) };
    busy(submit, async () => {
      const created = await api('/calibrations', { method: 'POST', body });
      toast('已创建校准');
      go(`#/calibration/${created.id}`);
    }, error);
  });
  return h('div', { class: 'card', id: 'calibration-create' }, h('h2', null, '新建校准'),
    h('div', { class: 'row' }, name, reviewers), h('div', { class: 'row' }, calls),
    h('div', { class: 'row' }, '或抽样：', from, '至', to, '共', count, '通'), h('div', { class: 'row' }, submit), error);
}

async function pageList(ctx) {
  const data = await api('/calibrations');
  if (!ctx.alive()) return;
  const items = itemsOf(data);
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '质检校准'),
      h('span', { class: 'sub' }, '多名质检员盲评同一批通话，衡量判定是否一致（校准结论不影响任何分数）')),
    state.user && state.user.role === 'admin' ? createForm() : null,
    h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'calibrations' },
      h('thead', null, h('tr', null, h('th', null, '名称'), h('th', null, '状态'), h('th', { class: 'num' }, '通话数'),
        h('th', null, '质检员'), h('th', null, '创建时间'), h('th', null, ''))),
      h('tbody', null, items.map((item) => h('tr', { dataset: { calibrationId: item.id } },
        h('td', null, item.name), h('td', null, labelled('calibration_status', item.status)),
        h('td', { class: 'num' }, fmtNum(item.calls, 0)), h('td', null, item.reviewers.join('、')),
        h('td', null, fmtTime(item.created_at)),
        h('td', null, h('a', { class: 'btn btn-sm', href: `#/calibration/${enc(item.id)}` }, '查看')))))) :
      h('div', { class: 'empty' }, '暂无校准')));
}

function kappa(value) {
  return value === null || value === undefined ? h('span', { class: 'muted' }, '无法计算') : fmtNum(value, 3);
}

function verdictCell(verdicts) {
  const names = Object.keys(verdicts).sort();
  return names.length ? names.map((name) => h('div', null, `${name}：${VERDICT_TEXT[verdicts[name]] || verdicts[name]}`)) : '—';
}

async function agreementCard(id) {
  const data = await api(`/calibrations/${enc(id)}/agreement`);
  const rows = [data.overall, ...data.rules];
  return h('div', { class: 'card', id: 'calibration-agreement' }, h('h2', null, '一致性'),
    h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, '规则'), h('th', { class: 'num' }, '命中数'), h('th', { class: 'num' }, '一致'),
        h('th', { class: 'num' }, '一致率'), h('th', { class: 'num' }, "Cohen's kappa"), h('th', { class: 'num' }, "Fleiss' kappa"))),
      h('tbody', null, rows.map((rule) => h('tr', { dataset: { ruleId: rule.rule_id } },
        h('td', null, rule.name || rule.rule_id), h('td', { class: 'num' }, fmtNum(rule.hits, 0)),
        h('td', { class: 'num' }, fmtNum(rule.agreed, 0)),
        h('td', { class: 'num' }, rule.percent === null ? '—' : fmtPct(rule.percent)),
        h('td', { class: 'num' }, kappa(rule.cohen_kappa)), h('td', { class: 'num' }, kappa(rule.fleiss_kappa)))))),
    h('h3', null, `分歧（${data.disagreements.length} 条）`),
    data.disagreements.length ? h('table', { class: 'table', id: 'calibration-disagreements' },
      h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '命中'), h('th', null, '规则'), h('th', null, '命中内容'),
        h('th', null, '各质检员结论'))),
      h('tbody', null, data.disagreements.map((d) => h('tr', null,
        h('td', null, h('a', { href: `#/calls/${enc(d.call_id)}`, class: 'mono' }, d.call_id)), h('td', null, `#${d.hit_index}`),
        h('td', { class: 'mono' }, d.rule_id), h('td', { class: 'wrap' }, d.text ? `「${d.text}」` : '—'),
        h('td', null, verdictCell(d.verdicts)))))) : h('div', { class: 'empty' }, '所有质检员结论一致'));
}

function judgeButtons(id, call, hit, mine) {
  const error = h('div', { class: 'form-error' });
  const buttons = ['confirmed', 'rejected'].map((verdict) => {
    const button = h('button', { class: ['btn', 'btn-sm', mine === verdict ? 'btn-primary' : ''], type: 'button' },
      VERDICT_TEXT[verdict]);
    button.addEventListener('click', () => busy(button, async () => {
      await api(`/calibrations/${enc(id)}/verdicts`, { method: 'POST',
        body: { call_id: call.call_id, hit_index: hit.index, verdict } });
      route();
    }, error));
    return button;
  });
  return [h('div', { class: 'row' }, buttons), error];
}

async function pageRound(ctx, id) {
  const round = await api(`/calibrations/${enc(id)}`);
  if (!ctx.alive()) return;
  const open = round.status === 'open';
  const admin = state.user && state.user.role === 'admin';
  const me = state.user ? state.user.username : '';
  const judging = open && round.assigned;
  let close = null;
  if (admin && open) {
    close = h('button', { class: 'btn btn-danger', type: 'button' }, '结束校准');
    close.addEventListener('click', () => busy(close, async () => {
      await api(`/calibrations/${enc(id)}/close`, { method: 'POST' });
      toast('校准已结束');
      route();
    }));
  }
  const progress = round.progress.length ? h('div', { class: 'card', id: 'calibration-progress' }, h('h2', null, '进度'),
    h('table', { class: 'table' }, h('thead', null, h('tr', null, h('th', null, '质检员'), h('th', { class: 'num' }, '已判定'),
      h('th', { class: 'num' }, '命中总数'))),
    h('tbody', null, round.progress.map((p) => h('tr', null, h('td', null, p.reviewer), h('td', { class: 'num' }, fmtNum(p.judged, 0)),
      h('td', { class: 'num' }, fmtNum(p.total, 0))))))) : null;
  const calls = round.call_list.map((call) => h('div', { class: 'card', dataset: { callId: call.call_id } },
    h('h3', null, h('a', { href: `#/calls/${enc(call.call_id)}`, class: 'mono' }, call.call_id), ` · 坐席 ${call.agent_id}`),
    call.hits.length ? h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, '规则'), h('th', null, '命中内容'), h('th', { class: 'num' }, '扣分'),
        h('th', null, judging ? '我的结论' : '结论'))),
      h('tbody', null, call.hits.map((hit) => h('tr', { dataset: { hitIndex: hit.index } },
        h('td', null, `${hit.index}`), h('td', null, hit.name || hit.rule_id),
        h('td', { class: 'wrap' }, hit.text ? `「${hit.text}」` : '—'),
        h('td', { class: 'num' }, hit.points === null ? '—' : fmtNum(hit.points)),
        h('td', null, judging ? judgeButtons(id, call, hit, hit.verdicts[me]) : verdictCell(hit.verdicts)))))) :
      h('div', { class: 'empty' }, '该通话没有命中')));
  let agreement = null;
  if (!open || admin) agreement = await agreementCard(id);
  if (!ctx.alive()) return;
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, round.name), labelled('calibration_status', round.status),
      h('span', { class: 'sub' }, `质检员：${round.reviewers.join('、')} · ${round.calls} 通通话`), close),
    h('div', { class: 'row' }, h('a', { href: '#/calibration' }, '← 返回校准列表')),
    judging ? h('div', { class: 'muted' }, '盲评：进行中只显示你自己的结论；结束后可查看一致性与分歧。') : null,
    open && !round.assigned && !admin ? h('div', { class: 'muted' }, '你未被指派参加本轮校准。') : null,
    progress, agreement, calls);
}
