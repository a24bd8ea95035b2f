/*
 * The page's frame: the top bar with the navigation of the user's role, the toast, the main area and
 * its error box, and the session (sign-in, expiry, sign-out).
 */
import { ApiError, api } from './api.js';
import { append, clear, h } from './dom.js';
import { label } from './labels.js';
import { go, parseHash } from './router.js';
import { state } from './state.js';
import { enc, qs } from './url.js';

export function setSession(data) {
  const user = (data && data.user) || data;
  state.user = user && user.role ? user : null;
  state.csrf = (data && data.csrf_token) || state.csrf;
  state.teams = null; // narrowed per user (a team lead sees its own team only)
  renderChrome();
}

export function sessionExpired() {
  if (!state.user) return;
  state.user = null;
  state.csrf = null;
  renderChrome();
  toast('登录已过期，请重新登录', 'error');
  const current = location.hash.replace(/^#/, '');
  location.hash = `#/login${qs({ next: current.startsWith('/login') ? '' : current })}`;
}

function navItems() {
  const user = state.user;
  if (!user) return [];
  const team = user.team_id ? `#/teams/${enc(user.team_id)}` : '#/teams';
  switch (user.role) {
    case 'agent':
      return [['我的成绩单', `#/agents/${enc(user.agent_id || '')}`, 'agents'], ['我的通话', '#/calls', 'calls'],
        ['我的申诉', '#/appeals', 'appeals'], ['我的培训', '#/coaching', 'coaching']];
    case 'reviewer':
      return [['复核队列', '#/reviews', 'reviews'], ['通话列表', '#/calls', 'calls'], ['申诉处理', '#/appeals', 'appeals'],
        ['预警', '#/alerts', 'alerts'], ['投诉工单', '#/cases', 'cases'], ['规则精度', '#/precision', 'precision'], ['规则集', '#/rulesets', 'rulesets'],
        ['规则试验台', '#/playground', 'playground'], ['班组排行', team, 'teams'], ['组织架构', '#/org', 'org'],
        ['质检校准', '#/calibration', 'calibration'], ['热点问题', '#/insights', 'insights'], ['满意度分析', '#/satisfaction', 'satisfaction']];
    case 'trainer':
      return [['培训辅导', '#/coaching', 'coaching'], ['通话列表', '#/calls', 'calls'], ['规则试验台', '#/playground', 'playground'],
        ['班组排行', team, 'teams'], ['组织架构', '#/org', 'org'],
        ['质检校准', '#/calibration', 'calibration'], ['热点问题', '#/insights', 'insights'], ['满意度分析', '#/satisfaction', 'satisfaction']];
    case 'team_lead':
      return [['通话列表', '#/calls', 'calls'], ['班组排行', team, 'teams'], ['组织架构', '#/org', 'org'], ['预警', '#/alerts', 'alerts'], ['投诉工单', '#/cases', 'cases'],
        ['培训辅导', '#/coaching', 'coaching'], ['热点问题', '#/insights', 'insights'], ['满意度分析', '#/satisfaction', 'satisfaction']];
    default:
      return [['通话列表', '#/calls', 'calls'], ['复核队列', '#/reviews', 'reviews'], ['申诉处理', '#/appeals', 'appeals'],
        ['培训辅导', '#/coaching', 'coaching'], ['预警', '#/alerts', 'alerts'], ['投诉工单', '#/cases', 'cases'], ['规则精度', '#/precision', 'precision'],
        ['规则集', '#/rulesets', 'rulesets'], ['规则试验台', '#/playground', 'playground'], ['班组排行', team, 'teams'], ['组织架构', '#/org', 'org'],
        ['质检校准', '#/calibration', 'calibration'], ['热点问题', '#/insights', 'insights'], ['满意度分析', '#/satisfaction', 'satisfaction']];
  }
}

export function homeHash() {
  const user = state.user;
  if (!user) return '#/login';
  if (user.role === 'agent') return `#/agents/${enc(user.agent_id || '')}`;
  if (user.role === 'reviewer') return '#/reviews';
  if (user.role === 'trainer') return '#/coaching';
  return '#/calls';
}

export function renderChrome() {
  const bar = document.getElementById('topbar');
  const user = state.user;
  bar.hidden = !user;
  if (!user) return;
  document.getElementById('user-name').textContent = user.display_name || user.username;
  document.getElementById('user-role').textContent = label('user_role', user.role, user.role);
  const nav = clear(document.getElementById('nav'));
  for (const [label, href, key] of navItems()) nav.append(h('a', { href, dataset: { key } }, label));
  markNav();
}

export function markNav() {
  const { parts } = parseHash();
  let key = parts[0] || '';
  // An agent's own scorecard is "我的成绩单"; someone else's scorecard highlights nothing.
  if (key === 'agents' && state.user && state.user.role !== 'agent') key = '';
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.dataset.key === key);
}

let toastTimer = null;
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast${kind === 'error' ? ' error' : ''}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 6000 : 3500);
}

// Runs ``action`` with the button disabled; errors go to ``errorEl`` (or a toast).
export async function busy(button, action, errorEl) {
  if (errorEl) errorEl.textContent = '';
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (error && error.handled) return undefined;
    const message = error instanceof ApiError ? error.message : `操作失败：${error.message || error}`;
    if (errorEl) errorEl.textContent = message;
    else toast(message, 'error');
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

const main = () => document.getElementById('main');

export function setMain(...nodes) {
  const el = clear(main());
  append(el, nodes);
  return el;
}

export function pageError(error, title = '加载失败') {
  const message = error instanceof ApiError ? error.message : String(error && error.message ? error.message : error);
  return h('div', { class: 'error-box', role: 'alert' }, h('h2', null, title), h('div', null, message),
    h('div', { style: { marginTop: '10px' } }, h('a', { class: 'btn btn-sm', href: homeHash() }, '返回首页')));
}

export async function logout() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch (_error) { /* the session is dropped locally either way */ }
  state.user = null;
  state.csrf = null;
  renderChrome();
  go('#/login');
}
