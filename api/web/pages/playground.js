/*
 * 规则试验台: edit one rule's YAML and try it on a stored call or a pasted dialogue (POST
 * /rulesets/playground); the findings are listed and their words highlighted in the transcript. Nothing
 * is saved. The rule starts from one of the active pack's rules (GET /rulesets/playground).
 */
import { api, soft } from '../core/api.js';
import { busy, setMain } from '../core/chrome.js';
import { clear, h } from '../core/dom.js';
import { fmtClock, fmtNum } from '../core/format.js';
import { enc } from '../core/url.js';
import { badge } from '../core/widgets.js';

const ROLE_ZH = { agent: '坐席', customer: '客户' };
const EXAMPLE_DIALOGUE = '坐席：您好，物业客服中心，工号1023，请问有什么可以帮您？\n客户：我家楼上漏水了，你们到底管不管？\n'
  + '坐席：非常抱歉给您添麻烦了，我马上安排维修师傅上门。\n客户：好吧，尽快。\n坐席：感谢您的来电，再见。';

// ``text`` with the spans [start, end) of ``ranges`` wrapped in <mark>.
function marked(text, ranges) {
  const sorted = ranges.slice().sort((a, b) => a[0] - b[0]);
  const out = [];
  let at = 0;
  for (const [start, end] of sorted) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) out.push(text.slice(at, from));
    out.push(h('mark', { class: 'pg-hit' }, text.slice(from, end)));
    at = end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function transcriptView(utterances, findings) {
  const byUtterance = new Map();
  for (const f of findings) {
    if (f.utterance === null || f.utterance === undefined) continue;
    if (!byUtterance.has(f.utterance)) byUtterance.set(f.utterance, []);
    byUtterance.get(f.utterance).push(f);
  }
  return h('div', { class: 'pg-transcript', id: 'pg-transcript' }, utterances.map((u, i) => {
    const index = u.index === undefined ? i : u.index;
    const found = byUtterance.get(index) || [];
    const ranges = [];
    let whole = false;
    for (const f of found) {
      const at = f.text ? u.text.indexOf(f.text) : -1;
      if (at >= 0) ranges.push([at, at + f.text.length]);
      else whole = true; // the words were matched after normalization: mark the sentence
    }
    return h('div', { class: ['pg-line', `pg-${u.role}`, found.length ? 'pg-found' : '', whole ? 'pg-hit-line' : ''],
      dataset: { index } },
    h('span', { class: 'pg-time mono muted small' }, fmtClock(u.start)),
    h('span', { class: 'pg-role' }, `${ROLE_ZH[u.role] || u.role}：`),
    h('span', { class: 'pg-text' }, ranges.length ? marked(u.text, ranges) : u.text));
  }));
}

function findingsTable(findings) {
  if (!findings.length) return h('div', { class: 'empty', id: 'pg-findings' }, '这条规则在这段对话上没有任何发现');
  return h('table', { class: 'table', id: 'pg-findings' },
    h('thead', null, h('tr', null, h('th', null, '结果'), h('th', null, '说话方'), h('th', null, '时间'), h('th', null, '原话'),
      h('th', { class: 'num' }, '分值'), h('th', { class: 'num' }, '置信度'), h('th', null, '说明'))),
    h('tbody', null, findings.map((f) => h('tr', { dataset: { outcome: f.outcome } },
      h('td', null, f.outcome === 'hit' ? badge('命中', 'blue') : badge('未做到', 'red'),
        f.uncertain ? [' ', badge('待确认', 'yellow')] : null),
      h('td', null, ROLE_ZH[f.role] || f.role),
      h('td', { class: 'mono small' }, f.outcome === 'hit' ? `${fmtClock(f.start)} - ${fmtClock(f.end)}` : '整通'),
      h('td', null, f.text || '—'),
      h('td', { class: 'num' }, f.points ? fmtNum(f.points, 0) : '0'),
      h('td', { class: 'num' }, fmtNum(f.confidence, 2)),
      h('td', { class: 'wrap' }, f.reason || '')))));
}

export async function pagePlayground(ctx) {
  const examples = await soft(api('/rulesets/playground'));
  if (!ctx.alive()) return;
  const rules = examples instanceof Error ? [] : examples.rules;

  const ruleText = h('textarea', { id: 'pg-rule', rows: 16, spellcheck: 'false', class: 'mono', 'aria-label': '规则 YAML' });
  ruleText.value = rules.length ? rules[0].yaml : '';
  const picker = h('select', { 'aria-label': '从启用中的规则开始' },
    rules.map((r, i) => h('option', { value: String(i) }, `${r.name}（${r.rule_id}）`)));
  picker.addEventListener('change', () => { ruleText.value = rules[Number(picker.value)].yaml; });

  const mode = h('select', { 'aria-label': '对话来源' },
    h('option', { value: 'dialogue' }, '粘贴对话'), h('option', { value: 'call' }, '已存通话'));
  const dialogue = h('textarea', { id: 'pg-dialogue', rows: 10, 'aria-label': '对话',
    placeholder: '每行一句：「坐席：…」或「客户：…」' });
  dialogue.value = EXAMPLE_DIALOGUE;
  const callId = h('input', { id: 'pg-call', 'aria-label': '通话编号', placeholder: '通话编号' });
  const preview = h('div', { class: 'muted small' });
  const load = h('button', { class: 'btn btn-sm', type: 'button' }, '加载转写');
  const callBox = h('div', { hidden: true }, h('div', { class: 'row' }, callId, load), preview);
  const sourceError = h('div', { class: 'form-error', role: 'alert' });
  mode.addEventListener('change', () => {
    dialogue.hidden = mode.value !== 'dialogue';
    callBox.hidden = mode.value !== 'call';
  });
  load.addEventListener('click', () => busy(load, async () => {
    clear(preview);
    const id = callId.value.trim();
    if (!id) throw new Error('请输入通话编号');
    const data = await api(`/calls/${enc(id)}/transcript`);
    preview.append(h('a', { href: `#/calls/${enc(id)}` }, `通话 ${id}`), `：${(data.utterances || []).length} 句`,
      transcriptView(data.utterances || [], []));
  }, sourceError));

  const run = h('button', { class: 'btn btn-primary', type: 'button', id: 'pg-run' }, '试运行');
  const error = h('div', { class: 'form-error', role: 'alert', id: 'pg-error' });
  const result = h('div', { id: 'pg-result' });
  run.addEventListener('click', () => busy(run, async () => {
    clear(result);
    const body = { rule_yaml: ruleText.value };
    if (mode.value === 'call') body.call_id = callId.value.trim();
    else body.dialogue = dialogue.value;
    const answer = await api('/rulesets/playground', { method: 'POST', body });
    if (!ctx.alive()) return;
    const hits = answer.findings.filter((f) => f.outcome === 'hit').length;
    result.append(
      h('div', { class: 'muted', id: 'pg-summary' }, `规则 ${answer.rule_id}：${answer.findings.length} 条发现（命中 ${hits} 条），`
        + `在「${answer.ruleset.name}」v${answer.ruleset.version} 的维度内校验，未保存任何内容。`),
      findingsTable(answer.findings),
      h('h3', null, '对话（命中的原话已高亮）'), transcriptView(answer.utterances, answer.findings));
  }, error));

  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '规则试验台'),
      h('span', { class: 'sub' }, '修改一条规则，在通话或粘贴的对话上试运行，查看命中与证据；不会保存')),
    h('div', { class: 'pg-grid' },
      h('div', { class: 'card' }, h('h2', null, '对话'), h('label', { class: 'field' }, '来源', mode), dialogue, callBox, sourceError),
      h('div', { class: 'card' }, h('h2', null, '规则'),
        rules.length ? h('label', { class: 'field' }, '从启用中的规则开始', picker) : null,
        ruleText, h('div', { class: 'row' }, run), error)),
    h('div', { class: 'card' }, h('h2', null, '结果'), result));
}
