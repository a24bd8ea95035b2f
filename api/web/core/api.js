/*
 * The client of /api/v1: JSON in and out, the session cookie on every call, the CSRF token on every
 * call that is not a GET, and an error message by status when the API gives none.
 */
import { state } from './state.js';
import { qs } from './url.js';

export const API = '/api/v1';

export const ERROR_BY_STATUS = { 400: '请求有误', 401: '请先登录', 403: '无权执行此操作', 404: '未找到', 409: '操作冲突，请刷新后重试',
  413: '内容过大', 422: '输入有误，请检查后重试', 429: '操作过于频繁，请稍后再试', 500: '服务器内部错误', 503: '服务暂不可用' };

// What to do when the API answers 401 to a signed-in user (set by the app: show the login page).
let sessionLost = () => {};

export function onSessionLost(handler) {
  sessionLost = handler;
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body.detail === 'string' ? body.detail : null;
    super(detail || ERROR_BY_STATUS[status] || `请求失败（${status}）`);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

export async function api(path, { method = 'GET', body, query } = {}) {
  const headers = { Accept: 'application/json' };
  const options = { method, headers, credentials: 'same-origin' };
  if (body instanceof Blob) { // a file sent as it is (e.g. a CSV import)
    headers['Content-Type'] = 'text/csv';
    options.body = body;
  } else if (body !== undefined) {
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
      sessionLost();
    }
    throw error;
  }
  return data;
}

// Resolves to the error instead of rejecting (for optional parts of a page).
export function soft(promise) {
  return promise.catch((error) => error);
}

export function itemsOf(data, key) {
  if (Array.isArray(data)) return data;
  if (!data) return [];
  return data.items || (key && data[key]) || data.entries || [];
}
