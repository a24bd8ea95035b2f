/*
 * 智能质检 web UI: a single-page app in plain JavaScript ES modules (no framework, no build step,
 * nothing loaded from another host). This is its entry module; the shared pieces are in core/ and one
 * module per page is in pages/. Routing is on the URL hash (#/calls, #/calls/<id>, #/agents/<id>, ...).
 * Every data call goes to /api/v1 with the session cookie; POSTs carry the CSRF token from login /
 * auth/me. DOM is built with h() (text is always set as text, never parsed as HTML).
 */
import { api, onSessionLost, soft } from './core/api.js';
import { homeHash, logout, markNav, pageError, renderChrome, sessionExpired, setMain, setSession } from './core/chrome.js';
import { h } from './core/dom.js';
import { loadLabels } from './core/labels.js';
import { go, startRouter } from './core/router.js';
import { state } from './core/state.js';
import { qs } from './core/url.js';
import { pageAlerts } from './pages/alerts.js';
import { pageAppeals } from './pages/appeals.js';
import { pageCalibration } from './pages/calibration.js';
import { pageCall } from './pages/call.js';
import { pageCalls } from './pages/calls.js';
import { pageCase, pageCases } from './pages/cases.js';
import { pageCoaching } from './pages/coaching.js';
import { pageForecast } from './pages/forecast.js';
import { pageHotIssues } from './pages/hot_issues.js';
import { pageLogin } from './pages/login.js';
import { pageOrg } from './pages/org.js';
import { pagePlayground } from './pages/playground.js';
import { pagePrecision } from './pages/precision.js';
import { pageReviews } from './pages/reviews.js';
import { pageRulesets } from './pages/rulesets.js';
import { pageSatisfaction } from './pages/satisfaction.js';
import { pageScorecard } from './pages/scorecard.js';
import { pageTeam } from './pages/team.js';

// Shows the page of a route: the login page without a session, else the page (or its error).
async function showPage(ctx, parts, query) {
  const page = parts[0] || '';
  markNav();
  if (page === 'login') {
    if (state.user) { go(homeHash()); return; }
    pageLogin(query);
    return;
  }
  if (!state.user) {
    const next = location.hash.replace(/^#/, '');
    location.replace(`#/login${qs({ next: next && next !== '/' ? next : '' })}`);
    return;
  }
  setMain(h('div', { class: 'loading' }, '正在加载…'));
  window.scrollTo(0, 0);
  try {
    switch (page) {
      case '': go(homeHash()); return;
      case 'calls': await (parts[1] ? pageCall(ctx, parts[1]) : pageCalls(ctx, query)); break;
      case 'agents': await pageScorecard(ctx, parts[1] || (state.user.agent_id || ''), query); break;
      case 'teams': await pageTeam(ctx, parts[1] || state.user.team_id || '', query); break;
      case 'reviews': await pageReviews(ctx, query); break;
      case 'appeals': await pageAppeals(ctx, query); break;
      case 'coaching': await pageCoaching(ctx, query); break;
      case 'precision': await pagePrecision(ctx); break;
      case 'alerts': await pageAlerts(ctx, query); break;
      case 'cases': await (parts[1] ? pageCase(ctx, parts[1]) : pageCases(ctx, query)); break;
      case 'insights': await pageHotIssues(ctx, query); break;
      case 'satisfaction': await pageSatisfaction(ctx, query); break;
      case 'forecast': await pageForecast(ctx, query); break;
      case 'org': await pageOrg(ctx, parts[1] || '', query); break;
      case 'calibration': await pageCalibration(ctx, parts[1]); break;
      case 'rulesets': await pageRulesets(ctx); break;
      case 'playground': await pagePlayground(ctx); break;
      default: setMain(pageError(new Error('页面不存在'), '找不到该页面'));
    }
  } catch (error) {
    if (!ctx.alive()) return;
    if (error && error.handled) return;
    setMain(pageError(error));
  }
}

async function boot() {
  onSessionLost(sessionExpired);
  document.getElementById('logout').addEventListener('click', logout);
  // The labels and the session, both before the first render.
  const [me] = await Promise.all([soft(api('/auth/me')), loadLabels()]);
  if (me instanceof Error) {
    state.user = null;
    renderChrome();
  } else {
    setSession(me);
  }
  await startRouter(showPage);
}

boot();
