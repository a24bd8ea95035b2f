/*
 * 通话详情: the recording, the transcript that follows playback (hit phrases marked in it) and the side
 * panel (score, findings, review and appeal actions; see call-side.js).
 */
import { API, ApiError, api, soft } from '../core/api.js';
import { pageError, setMain } from '../core/chrome.js';
import { clear, h, scrollWithin } from '../core/dom.js';
import { fmtClock, fmtDuration, fmtTime } from '../core/format.js';
import { label } from '../core/labels.js';
import { isStaff, state } from '../core/state.js';
import { enc } from '../core/url.js';
import { alertBadge, badge, labelled, ruleName, scoreSpan } from '../core/widgets.js';
import { hitsOf, renderSide } from './call-side.js';

export async function pageCall(ctx, callId) {
  const path = `/calls/${enc(callId)}`;
  let detail;
  try {
    detail = await api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      setMain(pageError(new Error(`通话 ${callId} 不存在，或您无权查看该通话。`), '通话不存在'));
      return;
    }
    throw error;
  }
  // Personal data is masked for everyone first; a user with the pii permission may reveal it (audited).
  let revealed = false;
  const q = () => (revealed ? '?reveal=true' : '');
  let [transcript, review] = await Promise.all([soft(api(`${path}/transcript`)), soft(api(`${path}/review`))]);
  if (!ctx.alive()) return;

  const view = { callId, detail, transcript, review: review instanceof Error ? null : review,
    reviewError: review instanceof Error ? review : null };
  let utterances = transcript instanceof Error ? [] : (transcript.utterances || []);

  // Player + transcript (built once; the side panel and the transcript's marks re-render after each action).
  const audio = h('audio', { controls: true, preload: 'metadata', src: `${API}/calls/${enc(callId)}/audio`,
    id: 'player' });
  audio.addEventListener('error', () => {
    playerNote.textContent = detail.audio_purged_at
      ? `录音已按保留期限删除（${fmtTime(detail.audio_purged_at)}），评分与检查结果仍保留`
      : '录音无法加载（可能已被删除或无权访问）';
  });
  const playerNote = h('span', { class: 'muted small' }, '点击任意一句或命中项即可跳转播放');
  const rate = h('select', { class: 'btn-sm', title: '播放速度', onchange: () => { audio.playbackRate = Number(rate.value); } },
    ['0.75', '1', '1.25', '1.5', '2'].map((r) => h('option', { value: r, selected: r === '1' }, `${r}×`)));
  const transcriptBox = h('div', { class: 'transcript', id: 'transcript' });
  state.cleanups.push(() => { audio.pause(); audio.removeAttribute('src'); audio.load(); });

  const seek = (seconds, play = true) => {
    const t = Math.max(0, Number(seconds) || 0);
    audio.currentTime = t + 0.01;
    follow(t + 0.01, true);
    if (play) audio.play().catch(() => { /* autoplay may be refused; the position is set either way */ });
  };
  view.seek = seek;

  let current = -1;
  const follow = (time, force) => {
    const nodes = transcriptBox.children;
    let index = -1;
    for (let i = 0; i < utterances.length; i += 1) {
      if (utterances[i].start <= time) index = i;
      if (utterances[i].start <= time && time < utterances[i].end) { index = i; break; }
    }
    if (index === current && !force) return;
    if (current >= 0 && nodes[current]) nodes[current].classList.remove('current');
    current = index;
    if (index >= 0 && nodes[index]) {
      nodes[index].classList.add('current');
      scrollWithin(transcriptBox, nodes[index]);
    }
  };
  audio.addEventListener('timeupdate', () => follow(audio.currentTime, false));
  audio.addEventListener('seeked', () => follow(audio.currentTime, true));

  const renderTranscript = () => {
    clear(transcriptBox);
    if (transcript instanceof Error) {
      transcriptBox.append(h('div', { class: 'empty' }, transcript.status === 404
        ? `暂无转写结果（通话状态：${label('call_status', detail.status, detail.status)}）` : transcript.message));
      return;
    }
    const marks = transcriptMarks(utterances, hitsOf(view));
    utterances.forEach((utt, i) => {
      const role = utt.role || utt.speaker;
      const node = h('div', { class: ['utt', role, marks[i].some((m) => m.deduct) ? 'has-deduct' : ''],
        dataset: { index: i, start: utt.start }, title: `${fmtClock(utt.start)} – ${fmtClock(utt.end)}` },
      h('div', { class: 'who' }, h('b', null, label('speaker_role', role) || utt.speaker || '—'), fmtClock(utt.start)),
      (utt.flags || []).includes('unheard') && !utt.text
        ? h('div', { class: 'text empty' }, '（此处有语音，但未识别出文字）')
        : h('div', { class: 'text' }, markText(utt.text || '', marks[i], seek)),
      (utt.flags || []).includes('overlap')
        ? h('div', { class: 'utt-note' }, `（${label('utterance_flag', 'overlap', '与对方同时说话')}）`) : null);
      node.addEventListener('click', () => seek(utt.start));
      transcriptBox.append(node);
    });
    current = -1;
    follow(audio.currentTime || 0, true);
  };

  const side = h('div', { class: 'side', id: 'side' });
  document.body.classList.add('app-page');
  state.cleanups.push(() => document.body.classList.remove('app-page'));
  const rerender = async () => {
    const fresh = await soft(api(`${path}/review${q()}`));
    if (!ctx.alive()) return;
    if (!(fresh instanceof Error)) { view.review = fresh; view.reviewError = null; }
    renderTranscript();
    renderSide(side, view, rerender);
  };

  const masked = !(transcript instanceof Error) && transcript.masked && (transcript.pii || []).length > 0;
  const piiNote = h('span', { class: 'muted small', id: 'pii-note' },
    masked ? `个人信息已脱敏（${(transcript.pii || []).map((k) => label('pii_kind', k, k)).join('、')}）` : '');
  const revealButton = state.user && state.user.pii && masked ? h('button', {
    class: 'btn btn-sm', id: 'reveal-pii', title: '显示未脱敏的转写与录音；每次查看都会记入操作记录',
    onclick: async () => {
      revealed = true;
      const [t, r] = await Promise.all([soft(api(`${path}/transcript${q()}`)), soft(api(`${path}/review${q()}`))]);
      if (!ctx.alive()) return;
      if (t instanceof Error || r instanceof Error) {
        piiNote.textContent = `无法显示：${(t instanceof Error ? t : r).message}`;
        revealed = false;
        return;
      }
      transcript = t; view.transcript = t; utterances = t.utterances || [];
      view.review = r; view.reviewError = null;
      const at = audio.currentTime || 0;
      audio.src = `${API}/calls/${enc(callId)}/audio${q()}`;
      audio.currentTime = at;
      revealButton.disabled = true;
      revealButton.textContent = '已显示个人信息';
      piiNote.textContent = '本次查看已记入操作记录';
      renderTranscript();
      renderSide(side, view, rerender);
    },
  }, '显示个人信息') : null;

  const score = view.review ? view.review.effective_score : (detail.score && detail.score.total);
  setMain(h('div', { class: 'call-page' },
    h('div', { class: 'call-head' },
      h('a', { class: 'btn btn-sm', href: '#/calls' }, '← 返回列表'),
      h('h1', null, '通话 ', h('span', { class: 'mono' }, detail.call_id)),
      labelled('call_status', detail.status),
      detail.score ? alertBadge(detail.score.alert) : null,
      detail.score && detail.score.fatal ? badge('一票否决', 'dark') : null,
      h('div', { class: 'meta' },
        h('span', null, '坐席：', isStaff() ? h('a', { href: `#/agents/${enc(detail.agent_id)}` },
          `${detail.agent_name || ''}（${detail.agent_id}）`) : `${detail.agent_name || ''}（${detail.agent_id}）`),
        detail.team_id ? h('span', null, '班组：', detail.team_id) : null,
        h('span', null, '时间：', fmtTime(detail.started_at)),
        h('span', null, '方向：', label('call_direction', detail.direction, '—')),
        h('span', null, '时长：', fmtDuration(detail.duration_s)),
        score !== undefined && score !== null ? h('span', null, '得分：', scoreSpan(score)) : null,
        piiNote, revealButton)),
    h('div', { class: 'call-layout' },
      h('div', { class: 'call-left' },
        h('div', { class: 'card player-card' }, h('div', { class: 'row', style: { marginBottom: '6px' } },
          h('h2', { style: { margin: 0 } }, '录音'), h('span', { class: 'spacer', style: { flex: 1 } }), playerNote, rate),
        audio),
        h('div', { class: 'card transcript-card' }, h('h2', null, '转写文本', h('span', { class: 'muted small' },
          `（${utterances.length} 句，坐席/客户分角色）`)), transcriptBox)),
      side)));
  renderTranscript();
  renderSide(side, view, rerender);
}

// For each utterance: the hit phrases to mark in its text.
function transcriptMarks(utterances, hits) {
  const deductRules = new Set(hits.filter((hit) => hit.points < 0).map((hit) => hit.rule_id));
  const marks = utterances.map(() => []);
  for (const hit of hits) {
    if (!hit.text || hit.start === null || hit.start === undefined) continue;
    utterances.forEach((utt, i) => {
      const role = utt.role || utt.speaker;
      if (hit.role && role && hit.role !== role) return;
      if (utt.end < hit.start - 0.05 || utt.start > hit.end + 0.05) return;
      if (!(utt.text || '').includes(hit.text)) return;
      if (marks[i].some((m) => m.text === hit.text)) return;
      marks[i].push({ text: hit.text, hit, deduct: deductRules.has(hit.rule_id),
        rejected: hit.verdict === 'rejected' });
    });
  }
  return marks;
}

function markText(text, marks, seek) {
  if (!marks.length) return text;
  const spans = [];
  for (const mark of marks) {
    let from = 0;
    for (;;) {
      const at = text.indexOf(mark.text, from);
      if (at < 0) break;
      if (!spans.some((sp) => at < sp.end && at + mark.text.length > sp.start)) {
        spans.push({ start: at, end: at + mark.text.length, mark });
      }
      from = at + mark.text.length;
    }
  }
  spans.sort((a, b) => a.start - b.start);
  const nodes = [];
  let pos = 0;
  for (const span of spans) {
    if (span.start > pos) nodes.push(text.slice(pos, span.start));
    const { hit } = span.mark;
    const cls = span.mark.rejected ? 'hit-rejected' : (span.mark.deduct ? 'hit-deduct' : 'hit-evidence');
    nodes.push(h('mark', { class: ['hit', cls], title: `${ruleName(hit)}${hit.points ? `（${hit.points} 分）` : ''}`,
      dataset: { hitIndex: hit.index } }, text.slice(span.start, span.end)));
    pos = span.end;
  }
  if (pos < text.length) nodes.push(text.slice(pos));
  return nodes;
}
