/* Number, percentage, clock, duration, date and period formatting (shown as the UI shows them). */

export function fmtNum(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  const n = Number(value);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function fmtPct(rate) {
  if (rate === null || rate === undefined) return '—';
  return `${Math.round(Number(rate) * 1000) / 10}%`;
}

export function fmtClock(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const total = Math.max(0, Math.floor(Number(seconds)));
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const total = Math.round(Number(seconds));
  const m = Math.floor(total / 60);
  return m ? `${m}分${String(total % 60).padStart(2, '0')}秒` : `${total}秒`;
}

// Times with an offset are shown as the call centre's local time (as written); UTC ("Z") or naive
// timestamps are shown in the browser's local time.
export function fmtTime(iso) {
  if (!iso) return '—';
  const text = String(iso);
  if (/[+-]\d\d:\d\d$/.test(text)) return text.slice(0, 16).replace('T', ' ');
  const moment = new Date(/Z$|[+-]\d\d:?\d\d$/.test(text) || text.length <= 10 ? text : `${text}Z`);
  if (Number.isNaN(moment.getTime())) return text;
  const pad = (n) => String(n).padStart(2, '0');
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ` +
    `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

export function isoDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function scoreClass(score) {
  if (score === null || score === undefined) return '';
  if (score < 60) return 'score-bad';
  if (score < 80) return 'score-mid';
  return 'score-good';
}

export function periodLabel(period) {
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
