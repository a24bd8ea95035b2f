/* Query strings and path segments for /api/v1 URLs and hash routes. */

export function qs(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === '') continue;
    query.set(key, value);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

export function enc(value) {
  return encodeURIComponent(value);
}
