/* 班组排行: a team's leaderboard (team chooser, period, scorecards export). */
import { API, api, itemsOf, soft } from '../core/api.js';
import { pageError, setMain } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { fmtNum, fmtPct, scoreClass } from '../core/format.js';
import { go } from '../core/router.js';
import { state } from '../core/state.js';
import { enc, qs } from '../core/url.js';
import { badge, scoreSpan } from '../core/widgets.js';

async function knownTeams() {
  if (state.teams) return state.teams;
  const data = await soft(api('/teams'));
  if (data instanceof Error) return [];
  state.teams = itemsOf(data).filter((t) => t && t.team_id);
  return state.teams;
}

export async function pageTeam(ctx, team, query) {
  const teams = await knownTeams();
  if (!team && teams.length) { location.replace(`#/teams/${enc(teams[0].team_id)}`); return; }
  const range = { from: query.get('from') || '', to: query.get('to') || '' };
  let board = null;
  let failure = null;
  if (team) {
    try {
      board = await api(`/teams/${enc(team)}/leaderboard`, { query: range });
    } catch (error) {
      if (error && error.handled) throw error;
      failure = error;
    }
  }
  if (!ctx.alive()) return;
  const teamLabel = (t) => `${t.name && t.name !== t.team_id ? `${t.name}（${t.team_id}）` : t.team_id} · ${fmtNum(t.agents || 0)} 人`;
  const teamInput = teams.length
    ? h('select', { name: 'team' },
      teams.some((t) => t.team_id === team) ? null : h('option', { value: team, selected: true }, team || '请选择班组'),
      teams.map((t) => h('option', { value: t.team_id, selected: t.team_id === team }, teamLabel(t))))
    : h('input', { name: 'team', value: team, placeholder: '班组编号', size: 10 });
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, '班组', teamInput),
    h('label', { class: 'field' }, '日期从', h('input', { type: 'date', name: 'from', value: (board && board.from) || range.from })),
    h('label', { class: 'field' }, '日期到', h('input', { type: 'date', name: 'to', value: (board && board.to) || range.to })),
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '查看'),
      team ? h('a', { class: 'btn', download: '', href: `${API}/exports/scorecards.xlsx${qs({ team, ...range })}` }, '导出成绩单 Excel') : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    const name = (values.team || '').trim();
    delete values.team;
    go(`#/teams/${enc(name)}${qs(values)}`);
  });
  const items = board ? itemsOf(board) : [];
  const top = items.length ? Math.max(...items.map((e) => Number(e.average_score) || 0)) : 100;
  const body = failure ? pageError(failure, failure.status === 404 ? '班组不存在' : '加载失败')
    : !team ? h('div', { class: 'empty' }, '请输入班组编号')
      : items.length ? h('table', { class: 'table', id: 'leaderboard' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, '排名'), h('th', null, '坐席'), h('th', { class: 'num' }, '通话数'),
          h('th', null, '平均分'), h('th', { class: 'num' }, '共情率'), h('th', { class: 'num' }, '禁语率'),
          h('th', { class: 'num' }, '红色预警'), h('th', { class: 'num' }, '一票否决'))),
        h('tbody', null, items.map((entry) => h('tr', null,
          h('td', { class: 'num' }, entry.rank <= 3 ? badge(String(entry.rank), 'blue') : String(entry.rank)),
          h('td', null, h('a', { href: `#/agents/${enc(entry.agent_id)}` }, entry.agent_name || entry.agent_id),
            h('span', { class: 'muted small' }, ` ${entry.agent_id}`)),
          h('td', { class: 'num' }, fmtNum(entry.calls)),
          h('td', null, h('div', { class: 'bar-row', style: { gridTemplateColumns: '1fr 48px' } },
            h('div', { class: 'bar-track' }, h('div', { class: ['bar-fill', scoreClass(entry.average_score).replace('score-', '')],
              style: { width: `${Math.max(0, Math.min(100, (Number(entry.average_score) || 0) / (top || 100) * 100))}%` } })),
            scoreSpan(entry.average_score))),
          h('td', { class: 'num' }, fmtPct((entry.checks || {}).empathy)),
          h('td', { class: 'num' }, fmtPct((entry.checks || {}).prohibited)),
          h('td', { class: ['num', entry.red ? 'score-bad' : ''] }, fmtNum(entry.red || 0)),
          h('td', { class: 'num' }, fmtNum(entry.fatal || 0))))))
        : h('div', { class: 'empty' }, '所选期间没有上榜坐席');
  setMain(
    h('div', { class: 'page-head' }, h('h1', null, '班组排行'), team ? h('span', { class: 'sub' }, `班组 ${team}`) : null,
      board ? h('span', { class: 'sub' }, ` · ${board.from} 至 ${board.to}`) : null),
    h('div', { class: 'card' }, form),
    h('div', { class: 'card' }, body));
}
