/*
 * Hash routing: #/<page>/<id>?<query>. Each navigation first runs the cleanups of the page it leaves,
 * then hands the route to the app's handler with a context whose alive() turns false as soon as the
 * user moves on (a page drops late results).
 */
import { state } from './state.js';

let handler = null;

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  return { parts, query: new URLSearchParams(query) };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  for (const cleanup of state.cleanups.splice(0)) {
    try { cleanup(); } catch (_error) { /* a page's cleanup never blocks navigation */ }
  }
  const seq = ++state.seq;
  const ctx = { alive: () => seq === state.seq };
  const { parts, query } = parseHash();
  if (handler) await handler(ctx, parts, query);
}

// Routes every hash change to ``pages`` (ctx, parts, query), starting with the current hash.
function startRouter(pages) {
  handler = pages;
  window.addEventListener('hashchange', route);
  return route();
}

export { route, startRouter };
