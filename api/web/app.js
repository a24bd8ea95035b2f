/*
 * 智能质检 web UI: a single-page app in plain JavaScript (no framework, no build step, nothing loaded
 * from another host). Routing is on the URL hash (#/calls, #/calls/<id>, #/agents/<id>, ...). Every data
 * call goes to /api/v1 with the session cookie; POSTs carry the CSRF token from login / auth/me.
 * DOM is built with h() (text is always set as text, never parsed as HTML).
 */
'use strict';

(() => {
  const API = '/api/v1';
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    user: null, // {username, display_name, role, agent_id, team_id}
    csrf: null,
    cleanups: [], // run when leaving a page (e.g. stop the audio player)
    seq: 0, // render generation: a page drops its results when the user has moved on
    teams: null, // cached teams ({team_id, name, agents}) for the leaderboard chooser
  };

  // ---- labels (every user-visible word is Chinese) -----------------------------------------------
  const ROLE_LABEL = { admin: '管理员', reviewer: '质检员', trainer: '培训师', team_lead: '班组长', agent: '坐席' };
  const ALERT_LABEL = { red: '红色预警', yellow: '黄色预警', blue: '蓝色预警', none: '无预警' };
  const ALERT_SHORT = { red: '红', yellow: '黄', blue: '蓝' };
  const CALL_STATUS = { queued: ['排队中', 'blue'], processing: ['分析中', 'blue'], done: ['已完成', 'green'],
    failed: ['失败', 'red'] };
  const DIRECTION = { inbound: '呼入', outbound: '呼出' };
  const REVIEW_REASON = { red: ['红色预警', 'red'], fatal: ['一票否决', 'dark'], lowest: ['最低分', 'yellow'],
    random: ['随机抽检', 'blue'], appeal: ['申诉', 'purple'], manual: ['人工指派', ''] };
  const REVIEW_STATUS = { pending: ['待复核', 'yellow'], done: ['已复核', 'green'] };
  const APPEAL_STATUS = { open: ['申诉中', 'yellow'], accepted: ['申诉成功', 'green'], rejected: ['申诉驳回', 'red'] };
  const VERDICT = { confirmed: ['已确认', 'green'], rejected: ['已驳回（误报）', ''] };
  const COACHING_STATUS = { assigned: ['进行中', 'blue'], done: ['已完成', 'green'], cancelled: ['已取消', ''] };
  const ALERT_STATUS = { open: ['待处理', 'red'], acknowledged: ['已确认', 'green'], closed: ['已关闭', ''] };
  const DELIVERY = { none: '未推送', pending: '推送中', delivered: '已推送', failed: '推送失败' };
  const SPEAKER = { agent: '坐席', customer: '客户' };
  const CATEGORY = {
    greeting: '开场问候', self_id: '自报工号', empathy: '共情话术', apology: '致歉', closing: '结束语',
    prohibited: '服务禁语', customer_emotion: '客户负面情绪', silence: '长时间静音', interruption: '抢话',
    speech_rate: '语速过快', escalation: '投诉升级', latency: '回应过慢', repetition: '重复诉求', topic: '话题',
    other: '其他',
  };
  // Checks where "happened" is good (the others are problems: lower rates are better).
  const GOOD_CHECKS = new Set(['greeting', 'self_id', 'empathy', 'apology', 'closing']);
  // Names of the default rule pack, used only when the API gives a hit without its rule name.
  const RULE_NAMES = {
    greeting: '开场问候', self_id: '自报工号', closing: '规范结束语', empathy: '共情安抚', apology: '致歉',
    customer_emotion: '客户负面情绪', no_empathy_after_emotion: '客户情绪激动后未及时安抚', prohibited: '服务禁语',
    escalation: '客户扬言投诉升级', silence: '长时间静音', agent_interrupts: '坐席抢话', customer_interrupts: '客户抢话',
    speech_rate: '语速过快', slow_reply: '坐席回应过慢', repeated_request: '客户重复诉求',
  };
  // Dimensions of the default rule pack (names and weights come from the call's own score when known).
  const DIMENSIONS = {
    service: { name: '服务规范', weight: 30 }, communication: { name: '沟通技巧', weight: 25 },
    emotion: { name: '情绪管理', weight: 20 }, resolution: { name: '问题解决', weight: 10 },
    compliance: { name: '合规', weight: 15 },
  };
  const AUDIT_ACTION = {
    'verdict.set': '命中判定', 'finding.add': '补充漏检', 'score.adjust': '调整分数', 'review.complete': '完成复核',
    'review.queue': '进入复核队列', 'appeal.create': '提交申诉', 'appeal.resolve': '处理申诉', 'coaching.assign': '指派培训',
    'alert.acknowledge': '确认预警', 'alert.redeliver': '重新推送预警',
  };
  const AUDIT_FIELD = {
    verdict: '判定', score: '分数', reviewed_score: '复核后评分', reviewed_total: '复核后评分', effective_score: '有效分',
    machine_score: '机器评分', reason: '原因', points: '分值',
    status: '状态', comment: '说明', description: '描述', dimension: '维度', decision: '决定',
    resolution: '处理意见', hit_index: '命中序号', rule_id: '规则',
  };
  const ERROR_BY_STATUS = { 400: '请求有误', 401: '请先登录', 403: '无权执行此操作', 404: '未找到', 409: '操作冲突，请刷新后重试',
    413: '内容过大', 422: '输入有误，请检查后重试', 429: '操作过于频繁，请稍后再试', 500: '服务器内部错误', 503: '服务暂不可用' };

  // ---- small utilities ---------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'style') Object.assign(el.style, value); // CSSOM: allowed by the page's CSP
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'value' || key === 'checked' || key === 'selected') el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function badge(text, colour) {
    return h('span', { class: ['badge', colour ? `badge-${colour}` : ''] }, text);
  }

  function labelled(map, key) {
    const entry = map[key];
    if (!entry) return badge(key || '—');
    return badge(entry[0], entry[1]);
  }

  function alertBadge(level) {
    if (!level || level === 'none') return h('span', { class: 'muted' }, '—');
    return h('span', { class: ['badge', `badge-${level}`] }, h('span', { class: ['dot', `dot-${level}`] }),
      ALERT_LABEL[level] || level);
  }

  function fmtNum(value, digits = 1) {
    if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
    const n = Number(value);
    return Number.isInteger(n) ? String(n) : n.toFixed(digits);
  }

  function fmtPct(rate) {
    if (rate === null || rate === undefined) return '—';
    return `${Math.round(Number(rate) * 1000) / 10}%`;
  }

  function fmtClock(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    const total = Math.max(0, Math.floor(Number(seconds)));
    return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    const total = Math.round(Number(seconds));
    const m = Math.floor(total / 60);
    return m ? `${m}分${String(total % 60).padStart(2, '0')}秒` : `${total}秒`;
  }

  // Times with an offset are shown as the call centre's local time (as written); UTC ("Z") or naive
  // timestamps are shown in the browser's local time.
  function fmtTime(iso) {
    if (!iso) return '—';
    const text = String(iso);
    if (/[+-]\d\d:\d\d$/.test(text)) return text.slice(0, 16).replace('T', ' ');
    const moment = new Date(/Z$|[+-]\d\d:?\d\d$/.test(text) || text.length <= 10 ? text : `${text}Z`);
    if (Number.isNaN(moment.getTime())) return text;
    const pad = (n) => String(n).padStart(2, '0');
    return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ` +
      `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
  }

  function isoDate(d) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function scoreClass(score) {
    if (score === null || score === undefined) return '';
    if (score < 60) return 'score-bad';
    if (score < 80) return 'score-mid';
    return 'score-good';
  }

  function scoreSpan(score) {
    return h('span', { class: ['score', scoreClass(score)] }, fmtNum(score));
  }

  function qs(params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value === null || value === undefined || value === '') continue;
      query.set(key, value);
    }
    const text = query.toString();
    return text ? `?${text}` : '';
  }

  function enc(value) {
    return encodeURIComponent(value);
  }

  function dimensionName(id, meta) {
    return (meta && meta[id] && meta[id].name) || (DIMENSIONS[id] && DIMENSIONS[id].name) || id || '—';
  }

  function ruleName(hit) {
    return hit.name || hit.rule_name || RULE_NAMES[hit.rule_id] || CATEGORY[hit.category] || hit.rule_id;
  }

  function isStaff() {
    return !!state.user && state.user.role !== 'agent';
  }

  function canReview() {
    return !!state.user && (state.user.role === 'admin' || state.user.role === 'reviewer');
  }

  function canCoach() {
    return !!state.user && (state.user.role === 'admin' || state.user.role === 'trainer');
  }

  // An agent's name (the id when it has none), linked to its scorecard; the id muted beside a name.
  function agentCell(item, link) {
    const label = item.agent_name || item.agent_id;
    return [link ? h('a', { href: `#/agents/${enc(item.agent_id)}` }, label) : label,
      item.agent_name ? h('span', { class: 'muted small' }, ` ${item.agent_id}`) : null];
  }

  function itemsOf(data, key) {
    if (Array.isArray(data)) return data;
    if (!data) return [];
    return data.items || (key && data[key]) || data.entries || [];
  }

  // ---- API ---------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && typeof body.detail === 'string' ? body.detail : null;
      super(detail || ERROR_BY_STATUS[status] || `请求失败（${status}）`);
      this.status = status;
      this.code = body && body.code;
      this.body = body;
    }
  }

  async function api(path, { method = 'GET', body, query } = {}) {
    const headers = { Accept: 'application/json' };
    const options = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    let response;
    try {
      response = await fetch(API + path + qs(query), options);
    } catch (_error) {
      throw new ApiError(0, { detail: '无法连接服务器，请检查网络后重试', code: 'network_error' });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_error) {
      data = null;
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      if (response.status === 401 && !path.startsWith('/auth/')) {
        error.handled = true; // the login page takes over
        sessionExpired();
      }
      throw error;
    }
    return data;
  }

  // Resolves to the error instead of rejecting (for optional parts of a page).
  function soft(promise) {
    return promise.catch((error) => error);
  }

  function setSession(data) {
    const user = (data && data.user) || data;
    state.user = user && user.role ? user : null;
    state.csrf = (data && data.csrf_token) || state.csrf;
    state.teams = null; // narrowed per user (a team lead sees its own team only)
    renderChrome();
  }

  function sessionExpired() {
    if (!state.user) return;
    state.user = null;
    state.csrf = null;
    renderChrome();
    toast('登录已过期，请重新登录', 'error');
    const current = location.hash.replace(/^#/, '');
    location.hash = `#/login${qs({ next: current.startsWith('/login') ? '' : current })}`;
  }

  // ---- chrome: top bar, navigation, toast --------------------------------------------------------
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
          ['预警', '#/alerts', 'alerts'], ['规则精度', '#/precision', 'precision'], ['班组排行', team, 'teams']];
      case 'trainer':
        return [['培训辅导', '#/coaching', 'coaching'], ['通话列表', '#/calls', 'calls'], ['班组排行', team, 'teams']];
      case 'team_lead':
        return [['通话列表', '#/calls', 'calls'], ['班组排行', team, 'teams'], ['预警', '#/alerts', 'alerts'],
          ['培训辅导', '#/coaching', 'coaching']];
      default:
        return [['通话列表', '#/calls', 'calls'], ['复核队列', '#/reviews', 'reviews'], ['申诉处理', '#/appeals', 'appeals'],
          ['培训辅导', '#/coaching', 'coaching'], ['预警', '#/alerts', 'alerts'], ['规则精度', '#/precision', 'precision'],
          ['班组排行', team, 'teams']];
    }
  }

  function homeHash() {
    const user = state.user;
    if (!user) return '#/login';
    if (user.role === 'agent') return `#/agents/${enc(user.agent_id || '')}`;
    if (user.role === 'reviewer') return '#/reviews';
    if (user.role === 'trainer') return '#/coaching';
    return '#/calls';
  }

  function renderChrome() {
    const bar = document.getElementById('topbar');
    const user = state.user;
    bar.hidden = !user;
    if (!user) return;
    document.getElementById('user-name').textContent = user.display_name || user.username;
    document.getElementById('user-role').textContent = ROLE_LABEL[user.role] || user.role;
    const nav = clear(document.getElementById('nav'));
    for (const [label, href, key] of navItems()) nav.append(h('a', { href, dataset: { key } }, label));
    markNav();
  }

  function markNav() {
    const { parts } = parseHash();
    let key = parts[0] || '';
    // An agent's own scorecard is "我的成绩单"; someone else's scorecard highlights nothing.
    if (key === 'agents' && state.user && state.user.role !== 'agent') key = '';
    for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.dataset.key === key);
  }

  let toastTimer = null;
  function toast(message, kind = 'info') {
    const el = document.getElementById('toast');
    el.textContent = message;
    el.className = `toast${kind === 'error' ? ' error' : ''}`;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 6000 : 3500);
  }

  // Runs ``action`` with the button disabled; errors go to ``errorEl`` (or a toast).
  async function busy(button, action, errorEl) {
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

  // ---- routing -----------------------------------------------------------------------------------
  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const [path, query = ''] = raw.split('?');
    const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    return { parts, query: new URLSearchParams(query) };
  }

  function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  const main = () => document.getElementById('main');

  function setMain(...nodes) {
    const el = clear(main());
    append(el, nodes);
    return el;
  }

  function pageError(error, title = '加载失败') {
    const message = error instanceof ApiError ? error.message : String(error && error.message ? error.message : error);
    return h('div', { class: 'error-box', role: 'alert' }, h('h2', null, title), h('div', null, message),
      h('div', { style: { marginTop: '10px' } }, h('a', { class: 'btn btn-sm', href: homeHash() }, '返回首页')));
  }

  async function route() {
    for (const cleanup of state.cleanups.splice(0)) {
      try { cleanup(); } catch (_error) { /* a page's cleanup never blocks navigation */ }
    }
    const seq = ++state.seq;
    const ctx = { alive: () => seq === state.seq };
    const { parts, query } = parseHash();
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
        default: setMain(pageError(new Error('页面不存在'), '找不到该页面'));
      }
    } catch (error) {
      if (!ctx.alive()) return;
      if (error && error.handled) return;
      setMain(pageError(error));
    }
  }

  // ---- 登录 ---------------------------------------------------------------------------------------
  function pageLogin(query) {
    const errorEl = h('div', { class: 'form-error', role: 'alert' });
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, '登录');
    const form = h('form', { class: 'login-card', novalidate: true },
      h('div', { class: 'logo' }, h('img', { src: '/ui/favicon.svg', alt: '', width: 30, height: 30 }),
        h('h1', null, '物业热线智能质检平台')),
      h('p', { class: 'sub' }, '通话质检 · 人工复核 · 坐席辅导'),
      h('label', { class: 'field' }, '用户名', username),
      h('label', { class: 'field' }, '密码', password),
      errorEl, submit,
      h('div', { class: 'login-foot' }, '如忘记密码，请联系系统管理员重置'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!username.value.trim() || !password.value) {
        errorEl.textContent = '请输入用户名和密码';
        return;
      }
      await busy(submit, async () => {
        try {
          const data = await api('/auth/login', { method: 'POST',
            body: { username: username.value.trim(), password: password.value } });
          setSession(data);
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) throw new ApiError(401, { detail: '用户名或密码错误' });
          throw error;
        }
        const next = query.get('next');
        go(next && next.startsWith('/') && !next.startsWith('/login') ? `#${next}` : homeHash());
      }, errorEl);
    });
    setMain(h('div', { class: 'login-wrap' }, form));
    username.focus();
  }

  async function logout() {
    try {
      await api('/auth/logout', { method: 'POST' });
    } catch (_error) { /* the session is dropped locally either way */ }
    state.user = null;
    state.csrf = null;
    renderChrome();
    go('#/login');
  }

  // ---- 通话列表 -----------------------------------------------------------------------------------
  const CALL_FILTERS = ['agent_id', 'team', 'from', 'to', 'alert', 'min_score', 'max_score', 'status'];

  async function pageCalls(ctx, query) {
    const page = Math.max(1, Number(query.get('page')) || 1);
    const pageSize = 20;
    const filters = {};
    for (const key of CALL_FILTERS) filters[key] = query.get(key) || '';
    const data = await api('/calls', { query: { ...filters, page, page_size: pageSize } });
    if (!ctx.alive()) return;

    const staff = isStaff();
    const input = (name, attrs = {}) => h('input', { name, value: filters[name], ...attrs });
    const select = (name, options) => h('select', { name },
      options.map(([value, label]) => h('option', { value, selected: filters[name] === value }, label)));
    const form = h('form', { class: 'filters', autocomplete: 'off' },
      staff ? h('label', { class: 'field' }, '坐席工号', input('agent_id', { placeholder: '全部坐席', size: 10 })) : null,
      staff ? h('label', { class: 'field' }, '班组', input('team', { placeholder: '全部班组', size: 8 })) : null,
      h('label', { class: 'field' }, '日期从', input('from', { type: 'date' })),
      h('label', { class: 'field' }, '日期到', input('to', { type: 'date' })),
      h('label', { class: 'field' }, '预警', select('alert',
        [['', '全部'], ['red', '红色预警'], ['yellow', '黄色预警'], ['blue', '蓝色预警'], ['none', '无预警']])),
      h('label', { class: 'field' }, '分数区间', h('div', { class: 'row' },
        input('min_score', { type: 'number', min: 0, max: 100, step: 1, placeholder: '最低' }), '–',
        input('max_score', { type: 'number', min: 0, max: 100, step: 1, placeholder: '最高' }))),
      h('label', { class: 'field' }, '状态', select('status',
        [['', '全部'], ['done', '已完成'], ['processing', '分析中'], ['queued', '排队中'], ['failed', '失败']])),
      h('div', { class: 'actions' },
        h('button', { class: 'btn btn-primary', type: 'submit' }, '查询'),
        h('button', { class: 'btn', type: 'button', onclick: () => go('#/calls') }, '重置')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      if (values.min_score && values.max_score && Number(values.min_score) > Number(values.max_score)) {
        toast('最低分不能高于最高分', 'error');
        return;
      }
      go(`#/calls${qs(values)}`);
    });

    const exportQuery = qs(filters);
    const exports = staff ? h('div', { class: 'row' },
      h('a', { class: 'btn', href: `${API}/exports/calls.csv${exportQuery}`, download: '' }, '导出 CSV'),
      h('a', { class: 'btn', href: `${API}/exports/calls.xlsx${exportQuery}`, download: '' }, '导出 Excel')) : null;

    const items = itemsOf(data);
    const table = items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'calls-table' },
      h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '开始时间'), h('th', null, '坐席'),
        h('th', null, '班组'), h('th', null, '方向'), h('th', null, '主叫号码'), h('th', { class: 'num' }, '时长'),
        h('th', { class: 'num' }, '得分'), h('th', null, '预警'), h('th', null, '状态'))),
      h('tbody', null, items.map((call) => h('tr', { dataset: { callId: call.call_id } },
        h('td', null, h('a', { href: `#/calls/${enc(call.call_id)}`, class: 'mono' }, call.call_id)),
        h('td', null, fmtTime(call.started_at)),
        h('td', null, staff ? h('a', { href: `#/agents/${enc(call.agent_id)}` }, call.agent_name || call.agent_id)
          : (call.agent_name || call.agent_id), h('span', { class: 'muted small' }, ` ${call.agent_id}`)),
        h('td', null, call.team_id || '—'),
        h('td', null, DIRECTION[call.direction] || '—'),
        h('td', { class: 'mono' }, call.caller || '—'),
        h('td', { class: 'num' }, fmtDuration(call.duration_s)),
        h('td', { class: 'num' }, scoreSpan(call.score), call.fatal ? h('span', null, ' ', badge('一票否决', 'dark')) : null),
        h('td', null, alertBadge(call.alert)),
        h('td', null, labelled(CALL_STATUS, call.status))))))) : h('div', { class: 'empty' }, '没有符合条件的通话');

    const pages = Math.max(1, Math.ceil((data.total || 0) / pageSize));
    const pageLink = (n) => `#/calls${qs({ ...filters, page: n })}`;
    const pager = h('div', { class: 'pager' }, `共 ${data.total || 0} 条 · 第 ${page} / ${pages} 页`,
      h('a', { class: 'btn btn-sm', href: pageLink(page - 1), hidden: page <= 1 }, '上一页'),
      h('a', { class: 'btn btn-sm', href: pageLink(page + 1), hidden: page >= pages }, '下一页'));

    setMain(
      h('div', { class: 'page-head' }, h('h1', null, staff ? '通话列表' : '我的通话'),
        h('span', { class: 'sub' }, '按开始时间倒序'), h('span', { class: 'spacer' }), exports),
      h('div', { class: 'card' }, form),
      h('div', { class: 'card' }, table, pager));
  }

  // ---- 通话详情 -----------------------------------------------------------------------------------
  async function pageCall(ctx, callId) {
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
    const [transcript, review] = await Promise.all([soft(api(`${path}/transcript`)), soft(api(`${path}/review`))]);
    if (!ctx.alive()) return;

    const view = { callId, detail, transcript, review: review instanceof Error ? null : review,
      reviewError: review instanceof Error ? review : null };
    const utterances = transcript instanceof Error ? [] : (transcript.utterances || []);

    // Player + transcript (built once; the side panel and the transcript's marks re-render after each action).
    const audio = h('audio', { controls: true, preload: 'metadata', src: `${API}/calls/${enc(callId)}/audio`,
      id: 'player' });
    audio.addEventListener('error', () => {
      playerNote.textContent = '录音无法加载（可能已被删除或无权访问）';
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
          ? `暂无转写结果（通话状态：${(CALL_STATUS[detail.status] || [detail.status])[0]}）` : transcript.message));
        return;
      }
      const marks = transcriptMarks(utterances, hitsOf(view));
      utterances.forEach((utt, i) => {
        const role = utt.role || utt.speaker;
        const node = h('div', { class: ['utt', role, marks[i].some((m) => m.deduct) ? 'has-deduct' : ''],
          dataset: { index: i, start: utt.start }, title: `${fmtClock(utt.start)} – ${fmtClock(utt.end)}` },
        h('div', { class: 'who' }, h('b', null, SPEAKER[role] || utt.speaker || '—'), fmtClock(utt.start)),
        (utt.flags || []).includes('unheard') && !utt.text
          ? h('div', { class: 'text empty' }, '（此处有语音，但未识别出文字）')
          : h('div', { class: 'text' }, markText(utt.text || '', marks[i], seek)));
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
      const fresh = await soft(api(`${path}/review`));
      if (!ctx.alive()) return;
      if (!(fresh instanceof Error)) { view.review = fresh; view.reviewError = null; }
      renderTranscript();
      renderSide(side, view, rerender);
    };

    const score = view.review ? view.review.effective_score : (detail.score && detail.score.total);
    setMain(h('div', { class: 'call-page' },
      h('div', { class: 'call-head' },
        h('a', { class: 'btn btn-sm', href: '#/calls' }, '← 返回列表'),
        h('h1', null, '通话 ', h('span', { class: 'mono' }, detail.call_id)),
        labelled(CALL_STATUS, detail.status),
        detail.score ? alertBadge(detail.score.alert) : null,
        detail.score && detail.score.fatal ? badge('一票否决', 'dark') : null,
        h('div', { class: 'meta' },
          h('span', null, '坐席：', isStaff() ? h('a', { href: `#/agents/${enc(detail.agent_id)}` },
            `${detail.agent_name || ''}（${detail.agent_id}）`) : `${detail.agent_name || ''}（${detail.agent_id}）`),
          detail.team_id ? h('span', null, '班组：', detail.team_id) : null,
          h('span', null, '时间：', fmtTime(detail.started_at)),
          h('span', null, '方向：', DIRECTION[detail.direction] || '—'),
          h('span', null, '时长：', fmtDuration(detail.duration_s)),
          score !== undefined && score !== null ? h('span', null, '得分：', scoreSpan(score)) : null)),
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

  function scrollWithin(container, node) {
    const top = node.getBoundingClientRect().top - container.getBoundingClientRect().top + container.scrollTop;
    const bottom = top + node.offsetHeight;
    if (top < container.scrollTop || bottom > container.scrollTop + container.clientHeight) {
      container.scrollTop = Math.max(0, top - container.clientHeight / 3);
    }
  }

  // The call's findings: from the review view when the API has it, else the analysis' hits.
  function hitsOf(view) {
    if (view.review && Array.isArray(view.review.hits)) return view.review.hits;
    return (view.detail.hits || []).map((hit, index) => ({ ...hit, index, verdict: null, appeal: null }));
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

  function renderSide(side, view, rerender) {
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
        h('b', null, ALERT_LABEL[alert] || alert), scoreData.fatal ? '（一票否决）' : '',
        h('ul', null, (scoreData.alert_reasons || []).map((reason) => h('li', null, reason)))) : null,
      review && review.review ? h('div', { class: 'muted small', style: { marginTop: '8px' } }, '复核状态：',
        labelled(REVIEW_STATUS, review.review.status), review.review.reviewer ? ` 复核人 ${review.review.reviewer}` : '',
        review.review.completed_at ? ` · ${fmtTime(review.review.completed_at)}` : '') : null));

    // Findings
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

    if (canReview()) side.append(reviewerPanel(view, rerender, dims));
    if (canReview() && review && Array.isArray(review.audit)) side.append(auditCard(review.audit));
    if (view.reviewError && view.reviewError.status !== 404 && view.reviewError.status !== 403) {
      side.append(h('div', { class: 'error-box small' }, `复核信息加载失败：${view.reviewError.message}`));
    }
  }

  function dimensionBar(name, score, weight) {
    const ratio = weight ? Math.max(0, Math.min(1, Number(score) / Number(weight))) : 0;
    const cls = ratio < 0.6 ? 'bad' : (ratio < 0.85 ? 'mid' : 'good');
    return h('div', { class: 'bar-row' }, h('span', null, name),
      h('div', { class: 'bar-track' }, h('div', { class: ['bar-fill', cls], style: { width: `${ratio * 100}%` } })),
      h('span', { class: 'val' }, weight ? `${fmtNum(score)} / ${fmtNum(weight)}` : fmtNum(score)));
  }

  function hitWhen(hit, duration) {
    if (hit.start === null || hit.start === undefined) return '';
    const whole = !hit.text && hit.start <= 0.01 && duration && hit.end >= duration - 0.5;
    return whole ? '全程' : `${fmtClock(hit.start)}–${fmtClock(hit.end)}`;
  }

  function hitItem(hit, evidence, view, rerender) {
    const duration = view.detail.duration_s || (view.detail.metrics && view.detail.metrics.duration_s);
    const rejected = hit.verdict === 'rejected';
    const quote = hit.text ? `「${hit.text}」`
      : (GOOD_CHECKS.has(hit.category) ? `全程未检测到「${ruleName(hit)}」相关话术` : '按整通通话判定（无单句原话）');
    const item = h('div', { class: ['hit-item', 'deduct', rejected ? 'rejected' : ''],
      dataset: { hitIndex: hit.index, ruleId: hit.rule_id } },
    h('div', { class: 'hit-main', title: '点击跳转到该处播放', onclick: () => view.seek(hit.start || 0) },
      h('span', { class: 'hit-title' }, ruleName(hit)),
      badge(SPEAKER[hit.role] || '—'),
      h('span', { class: 'muted small' }, `${dimensionName(hit.dimension, (view.detail.score || {}).dimensions)} · ${hitWhen(hit, duration)}`),
      h('span', { class: 'pts' }, `${fmtNum(hit.points)} 分`)),
    h('div', { class: 'quote' }, quote),
    evidence.length ? h('div', { class: 'row small', style: { marginTop: '4px' } }, h('span', { class: 'muted' }, '其他出处：'),
      evidence.map((ev) => h('button', { class: 'link', type: 'button', onclick: () => view.seek(ev.start) },
        `「${ev.text}」${fmtClock(ev.start)}`))) : null);
    if (hit.verdict) {
      item.append(h('div', { class: 'verdict-note' }, labelled(VERDICT, hit.verdict),
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
      h('span', { class: 'hit-title' }, ruleName(first)), badge(CATEGORY[first.category] || first.category || '命中', 'blue'),
      h('span', { class: 'pts zero' }, '不扣分')),
    withText.length ? h('div', { class: 'row small', style: { marginTop: '4px' } }, withText.map((hit) =>
      h('button', { class: 'link', type: 'button', onclick: () => view.seek(hit.start) },
        `「${hit.text}」${fmtClock(hit.start)}`))) : null);
    if (first.verdict) item.append(h('div', { class: 'verdict-note' }, labelled(VERDICT, first.verdict),
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
      h('div', { class: 'row' }, h('b', null, '申诉'), h('span', { class: 'appeal-status' }, labelled(APPEAL_STATUS, appeal.status))),
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

  function auditCard(entries) {
    const rows = entries.slice().reverse();
    return h('div', { class: 'card', id: 'audit' }, h('h2', null, '审计记录', h('span', { class: 'muted small' }, `（${entries.length} 条）`)),
      rows.length ? h('table', { class: 'table audit' },
        h('thead', null, h('tr', null, h('th', null, '时间'), h('th', null, '操作人'), h('th', null, '操作'), h('th', null, '变更'))),
        h('tbody', null, rows.map((entry) => h('tr', null,
          h('td', null, fmtTime(entry.at)),
          h('td', null, String(entry.actor || '').replace(/^user:/, ''), entry.role ? h('div', { class: 'muted' }, ROLE_LABEL[entry.role] || entry.role) : null),
          h('td', null, AUDIT_ACTION[entry.action] || entry.action),
          h('td', { class: 'wrap' }, auditChange(entry), entry.reason ? h('div', { class: 'muted' }, `理由：${entry.reason}`) : null)))))
        : h('div', { class: 'empty' }, '暂无变更记录'));
  }

  const AUDIT_HIDDEN = new Set(['analysis_id', 'call_id', 'appeal_id', 'review_id']);
  const AUDIT_CONTEXT = new Set(['hit_index', 'rule_id']);

  function auditChange(entry) {
    const before = entry.before || {};
    const after = entry.after || {};
    const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((key) => !AUDIT_HIDDEN.has(key));
    const words = { confirmed: '确认', rejected: '驳回', accepted: '接受', open: '待处理', pending: '待复核', done: '已完成',
      red: '红色预警', fatal: '一票否决', lowest: '最低分', random: '随机抽检', appeal: '申诉', manual: '人工指派' };
    const show = (key, value) => {
      if (value === null || value === undefined) return '—';
      if (key === 'rule_id') return RULE_NAMES[value] || String(value);
      if (key === 'hit_index') return `#${value}`;
      if (typeof value === 'number') return fmtNum(value);
      if (typeof value === 'object') return JSON.stringify(value);
      return words[value] || String(value);
    };
    const lines = [];
    for (const key of keys) {
      const label = `${AUDIT_FIELD[key] || key}：`;
      const had = key in before;
      const has = key in after;
      const same = had && has && JSON.stringify(before[key]) === JSON.stringify(after[key]);
      if (same) {
        if (AUDIT_CONTEXT.has(key)) lines.push(h('div', { class: 'muted' }, label, show(key, after[key])));
        continue;
      }
      lines.push(h('div', null, label, had ? `${show(key, before[key])} → ` : '', h('b', null, show(key, has ? after[key] : null))));
    }
    return lines;
  }

  // ---- 坐席成绩单 ---------------------------------------------------------------------------------
  async function pageScorecard(ctx, agentId, query) {
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
    const kpis = h('div', { class: 'kpis', id: 'kpis' },
      kpi('通话数', fmtNum(card.calls), '通'),
      kpi('平均分', fmtNum(card.average_score), '分'),
      kpi('共情话术使用率', fmtPct(checks.empathy)),
      kpi('红色预警', fmtNum(alerts.red || 0), '通', (alerts.red || 0) > 0 ? 'red' : ''),
      kpi('团队百分位', card.team_percentile === null || card.team_percentile === undefined ? '—'
        : fmtNum(card.team_percentile, 0), card.team_percentile === null || card.team_percentile === undefined ? '' : '%'));

    const dimensions = Object.entries(card.dimensions || {});
    const dimCard = h('div', { class: 'card', id: 'dimensions' }, h('h2', null, '维度得分（平均）'),
      dimensions.length ? h('div', { class: 'bars' }, dimensions.map(([id, value]) => {
        const weight = (dimsMeta[id] && dimsMeta[id].weight) || (DIMENSIONS[id] && DIMENSIONS[id].weight);
        return dimensionBar(dimensionName(id, dimsMeta), value, weight);
      })) : h('div', { class: 'empty' }, '暂无数据'),
      h('div', { class: 'alert-mix' }, h('span', { class: 'muted' }, '预警分布'),
        ['red', 'yellow', 'blue'].map((lv) => h('span', { class: ['badge', `badge-${lv}`] },
          h('span', { class: ['dot', `dot-${lv}`] }, ''), `${ALERT_LABEL[lv]} ${alerts[lv] || 0}`)),
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
          return h('tr', null, h('td', null, CATEGORY[category] || category),
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

  function periodLabel(period) {
    const text = String(period || '');
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (iso) return `${Number(iso[2])}月${Number(iso[3])}日`;
    const week = /^(\d{4})-W(\d{1,2})$/.exec(text);
    if (week) return `${week[1]}年第${Number(week[2])}周`;
    const month = /^(\d{4})-(\d{2})$/.exec(text);
    if (month) return `${month[1]}年${Number(month[2])}月`;
    const day = /^\d{4}-(\d{2})-(\d{2})$/.exec(text);
    if (day) return `${Number(day[1])}月${Number(day[2])}日`;
    return text;
  }

  // ---- 班组排行 -----------------------------------------------------------------------------------
  async function knownTeams() {
    if (state.teams) return state.teams;
    const data = await soft(api('/teams'));
    if (data instanceof Error) return [];
    state.teams = itemsOf(data).filter((t) => t && t.team_id);
    return state.teams;
  }

  async function pageTeam(ctx, team, query) {
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

  // ---- 复核队列 -----------------------------------------------------------------------------------
  async function pageReviews(ctx, query) {
    const status = query.get('status') || 'pending';
    const data = await api('/reviews', { query: { status } });
    if (!ctx.alive()) return;
    const done = status === 'done';
    const priority = { fatal: 0, red: 1, appeal: 2, manual: 3, lowest: 4, random: 5 };
    const items = done ? itemsOf(data) : itemsOf(data).slice().sort((a, b) =>
      ((priority[a.reason] ?? 9) - (priority[b.reason] ?? 9)) || ((a.machine_score ?? 100) - (b.machine_score ?? 100)));
    setMain(
      h('div', { class: 'page-head' }, h('h1', null, '复核队列'),
        h('span', { class: 'sub' }, done ? `已完成 ${data.total ?? items.length} 条` : `待复核 ${data.total ?? items.length} 条`)),
      h('div', { class: 'tabs' },
        h('a', { href: '#/reviews?status=pending', class: done ? '' : 'active' }, '待复核'),
        h('a', { href: '#/reviews?status=done', class: done ? 'active' : '' }, '已完成')),
      h('div', { class: 'card' }, items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'review-queue' },
        h('thead', null, h('tr', null, h('th', null, '通话编号'), h('th', null, '坐席'), h('th', null, '入队原因'),
          h('th', { class: 'num' }, '机器评分'), h('th', { class: 'num' }, '复核后评分'), h('th', null, '预警'),
          h('th', null, '通话时间'), h('th', null, '入队时间'), done ? h('th', null, '复核人') : null,
          done ? h('th', null, '完成时间') : null, h('th', null, ''))),
        h('tbody', null, items.map((item) => h('tr', { dataset: { callId: item.call_id, reviewId: item.id } },
          h('td', null, h('a', { href: `#/calls/${enc(item.call_id)}`, class: 'mono' }, item.call_id)),
          h('td', null, agentCell(item, true)),
          h('td', null, reasonBadges(item.reason)),
          h('td', { class: 'num' }, scoreSpan(item.machine_score)),
          h('td', { class: 'num' }, item.score === item.machine_score && !done ? '—' : scoreSpan(item.score)),
          h('td', null, alertBadge(item.alert)),
          h('td', null, fmtTime(item.started_at)),
          h('td', null, fmtTime(item.created_at)),
          done ? h('td', null, item.reviewer || '—') : null,
          done ? h('td', null, fmtTime(item.completed_at)) : null,
          h('td', null, h('a', { class: ['btn', 'btn-sm', done ? '' : 'btn-primary'], href: `#/calls/${enc(item.call_id)}` },
            done ? '查看' : '开始复核'))))))) : h('div', { class: 'empty' }, done ? '暂无已完成的复核' : '复核队列已清空，暂无待复核通话')));
  }

  function reasonBadges(reason) {
    const reasons = Array.isArray(reason) ? reason : String(reason || '').split(/[,，\s]+/).filter(Boolean);
    return reasons.map((r) => h('span', { style: { marginRight: '4px' } }, labelled(REVIEW_REASON, r)));
  }

  // ---- 申诉 ---------------------------------------------------------------------------------------
  async function pageAppeals(ctx, query) {
    const agent = state.user.role === 'agent';
    const status = query.has('status') ? query.get('status') : (agent ? '' : 'open');
    const data = await api('/appeals', { query: { status } });
    if (!ctx.alive()) return;
    const items = itemsOf(data);
    const reviewer = canReview();
    const tab = (value, label) => h('a', { href: `#/appeals?status=${enc(value)}`, class: status === value ? 'active' : '' }, label);
    const rows = items.map((item) => {
      const cells = [
        h('td', null, h('a', { href: `#/calls/${enc(item.call_id)}`, class: 'mono' }, item.call_id)),
        agent ? null : h('td', null, agentCell(item, isStaff())),
        h('td', null, item.rule_name || RULE_NAMES[item.rule_id] || item.rule_id),
        h('td', { class: 'wrap' }, item.text ? `「${item.text}」` : '—'),
        h('td', { class: 'num score-bad' }, fmtNum(item.points)),
        h('td', { class: 'wrap' }, item.comment || '—'),
        h('td', null, labelled(APPEAL_STATUS, item.status)),
        h('td', null, fmtTime(item.created_at)),
      ];
      const result = h('td', { class: 'wrap' }, item.resolution || (item.status === 'open' ? '等待处理' : '—'),
        item.resolver ? h('div', { class: 'muted small' }, `${item.resolver} · ${fmtTime(item.resolved_at)}`) : null);
      if (reviewer && item.status === 'open') {
        const resolution = h('input', { placeholder: '处理意见（必填）', 'aria-label': '处理意见' });
        const error = h('div', { class: 'form-error' });
        const accept = h('button', { class: 'btn btn-sm btn-success', type: 'button' }, '接受');
        const reject = h('button', { class: 'btn btn-sm btn-danger', type: 'button' }, '驳回');
        const send = (decision, button) => {
          if (!resolution.value.trim()) { error.textContent = '请填写处理意见'; return; }
          busy(button, async () => {
            await api(`/appeals/${item.id}/resolve`, { method: 'POST', body: { decision, resolution: resolution.value.trim() } });
            toast(decision === 'accepted' ? '已接受申诉' : '已驳回申诉');
            route();
          }, error);
        };
        accept.addEventListener('click', () => send('accepted', accept));
        reject.addEventListener('click', () => send('rejected', reject));
        clear(result).append(h('div', { class: 'row' }, resolution, accept, reject), error);
      }
      return h('tr', { dataset: { appealId: item.id, callId: item.call_id } }, cells, result);
    });
    setMain(
      h('div', { class: 'page-head' }, h('h1', null, agent ? '我的申诉' : '申诉处理'),
        h('span', { class: 'sub' }, `共 ${items.length} 条`)),
      agent ? null : h('div', { class: 'tabs' }, tab('open', '待处理'), tab('accepted', '已接受'), tab('rejected', '已驳回'), tab('', '全部')),
      h('div', { class: 'card' }, items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'appeals' },
        h('thead', null, h('tr', null, h('th', null, '通话编号'), agent ? null : h('th', null, '坐席'), h('th', null, '规则'),
          h('th', null, '命中内容'), h('th', { class: 'num' }, '扣分'), h('th', null, '申诉理由'), h('th', null, '状态'),
          h('th', null, '提交时间'), h('th', null, '处理结果'))),
        h('tbody', null, rows))) : h('div', { class: 'empty' }, agent
        ? '暂无申诉。对扣分有异议时，可在通话详情页对扣分项提出申诉。' : '暂无申诉')));
  }

  // ---- 培训辅导 -----------------------------------------------------------------------------------
  async function pageCoaching(ctx, query) {
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

  function effectBox(effect) {
    const delta = effect.delta;
    const cls = delta > 0 ? 'delta-up' : (delta < 0 ? 'delta-down' : '');
    const count = (value) => (Array.isArray(value) ? value.length : Number(value) || 0);
    const enough = count(effect.after_calls) > 0;
    return h('div', { class: 'effect' },
      h('div', null, '培训效果（', dimensionName(effect.dimension), '维度）'),
      h('div', null, `培训前 ${fmtNum(effect.before_avg)}（${count(effect.before_calls)} 通）→ 培训后 `,
        enough ? `${fmtNum(effect.after_avg)}（${count(effect.after_calls)} 通）` : '暂无通话',
        enough && delta !== null && delta !== undefined
          ? h('span', { class: cls }, ` ${delta > 0 ? '+' : ''}${fmtNum(delta)}`) : null));
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

  // ---- 规则精度 -----------------------------------------------------------------------------------
  async function pagePrecision(ctx) {
    const data = await api('/rules/precision');
    if (!ctx.alive()) return;
    const items = itemsOf(data).slice().sort((a, b) => {
      const pa = a.precision === null || a.precision === undefined ? 2 : a.precision;
      const pb = b.precision === null || b.precision === undefined ? 2 : b.precision;
      return pa - pb || (b.rejected || 0) - (a.rejected || 0);
    });
    setMain(
      h('div', { class: 'page-head' }, h('h1', null, '规则精度'),
        h('span', { class: 'sub' }, '精度 = 确认 ÷（确认 + 驳回），按误报最多排在前面')),
      h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'precision' },
        h('thead', null, h('tr', null, h('th', null, '规则'), h('th', null, '规则编号'), h('th', { class: 'num' }, '确认'),
          h('th', { class: 'num' }, '驳回（误报）'), h('th', { class: 'num' }, '复核次数'), h('th', null, '精度'))),
        h('tbody', null, items.map((rule) => {
          const p = rule.precision;
          const colour = p === null || p === undefined ? '#cbd5e1' : (p < 0.6 ? '#dc2626' : (p < 0.85 ? '#f59e0b' : '#22a05a'));
          return h('tr', { dataset: { ruleId: rule.rule_id } }, h('td', null, rule.name || rule.rule_id),
            h('td', { class: 'mono muted' }, rule.rule_id),
            h('td', { class: 'num' }, fmtNum(rule.confirmed || 0)), h('td', { class: 'num' }, fmtNum(rule.rejected || 0)),
            h('td', { class: 'num' }, fmtNum((rule.confirmed || 0) + (rule.rejected || 0))),
            h('td', null, h('span', { class: 'precision-bar' }, h('span', { style: { width: `${(p || 0) * 100}%`, background: colour } })),
              p === null || p === undefined ? h('span', { class: 'muted' }, '暂无复核') : fmtPct(p)));
        }))) : h('div', { class: 'empty' }, '暂无复核判定数据')));
  }

  // ---- 预警 ---------------------------------------------------------------------------------------
  async function pageAlerts(ctx, query) {
    const status = query.has('status') ? query.get('status') : 'open';
    const level = query.get('level') || '';
    const data = await api('/alerts', { query: { status, level } });
    if (!ctx.alive()) return;
    const items = itemsOf(data);
    const form = h('form', { class: 'filters' },
      h('label', { class: 'field' }, '状态', h('select', { name: 'status' },
        [['open', '待处理'], ['acknowledged', '已确认'], ['', '全部']].map(([v, l]) => h('option', { value: v, selected: v === status }, l)))),
      h('label', { class: 'field' }, '级别', h('select', { name: 'level' },
        [['', '全部'], ['red', '红色'], ['yellow', '黄色'], ['blue', '蓝色']].map(([v, l]) => h('option', { value: v, selected: v === level }, l)))),
      h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, '筛选')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      go(`#/alerts?status=${enc(values.status)}&level=${enc(values.level)}`);
    });
    const counts = { red: 0, yellow: 0, blue: 0 };
    for (const item of items) if (item.level in counts) counts[item.level] += 1;
    setMain(
      h('div', { class: 'page-head' }, h('h1', null, '预警'),
        ['red', 'yellow', 'blue'].map((lv) => h('span', { class: ['badge', `badge-${lv}`] }, h('span', { class: ['dot', `dot-${lv}`] }),
          `${ALERT_SHORT[lv]} ${counts[lv]}`))),
      h('div', { class: 'card' }, form),
      h('div', { class: 'card' }, items.length ? h('table', { class: 'table', id: 'alerts' },
        h('thead', null, h('tr', null, h('th', null, '级别'), h('th', null, '通话编号'), h('th', null, '坐席'), h('th', null, '原因'),
          h('th', null, '时间'), h('th', null, '推送'), h('th', null, '状态'), h('th', null, '处理'))),
        h('tbody', null, items.map((item) => {
          const cell = h('td', null);
          if (item.status === 'open' && ['admin', 'reviewer', 'team_lead'].includes(state.user.role)) {
            const note = h('input', { placeholder: '处理说明', 'aria-label': '处理说明', style: { width: '140px' } });
            const ack = h('button', { class: 'btn btn-sm btn-primary', type: 'button' }, '确认处理');
            ack.addEventListener('click', () => busy(ack, async () => {
              await api(`/alerts/${item.id}/ack`, { method: 'POST', body: { note: note.value.trim() } });
              toast('预警已确认处理');
              route();
            }));
            cell.append(h('div', { class: 'row' }, note, ack));
          } else {
            cell.append(item.handled_by ? `${String(item.handled_by).replace(/^user:/, '')}` : '—',
              item.note ? h('div', { class: 'muted small' }, item.note) : '');
          }
          return h('tr', { dataset: { alertId: item.id, level: item.level } },
            h('td', null, alertBadge(item.level)),
            h('td', null, h('a', { href: `#/calls/${enc(item.call_id)}`, class: 'mono' }, item.call_id)),
            h('td', null, agentCell(item, isStaff())),
            h('td', { class: 'wrap' }, h('ul', { style: { margin: 0, paddingLeft: '16px' } },
              (item.reasons || []).map((reason) => h('li', null, reason)))),
            h('td', null, fmtTime(item.created_at)),
            h('td', null, DELIVERY[item.delivery] || item.delivery || '—'),
            h('td', null, labelled(ALERT_STATUS, item.status)),
            cell);
        }))) : h('div', { class: 'empty' }, '暂无预警')));
  }

  // ---- boot --------------------------------------------------------------------------------------
  async function boot() {
    document.getElementById('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);
    try {
      setSession(await api('/auth/me'));
    } catch (_error) {
      state.user = null;
      renderChrome();
    }
    await route();
  }

  boot();
})();
