/* 登录: the sign-in form (the page every route falls back to without a session). */
import { ApiError, api } from '../core/api.js';
import { busy, homeHash, setMain, setSession } from '../core/chrome.js';
import { h } from '../core/dom.js';
import { go } from '../core/router.js';

export function pageLogin(query) {
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
