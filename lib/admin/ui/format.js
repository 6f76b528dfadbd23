// Dates as the page shows them, and the end of a picked local day.
import { el } from './dom.js';

const DAY = 86400;
export const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
export const shortFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function relative(iso) {
  const s = (Date.parse(iso) - Date.now()) / 1000;
  const units = [
    ['year', 365 * DAY],
    ['month', 30 * DAY],
    ['week', 7 * DAY],
    ['day', DAY],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) if (Math.abs(s) >= size) return rel.format(Math.round(s / size), unit);
  return s < 0 ? 'just now' : 'in a moment';
}

/** A <time> with the date and, below it, how long ago / from now; `empty` when there is none. */
export function when(iso, empty) {
  if (!iso) return el('span', { class: 'muted', text: empty });
  return el('time', { datetime: iso, title: fullFmt.format(new Date(iso)), class: 'when', text: dateFmt.format(new Date(iso)) }, [
    el('span', { class: 'sub', text: relative(iso) }),
  ]);
}

/** The last millisecond of the local day `yyyy-mm-dd` (an <input type=date> value), or null. */
export function endOfLocalDay(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
  if (!m) return null;
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
  return Number.isNaN(end.getTime()) ? null : end;
}

/** `yyyy-mm-dd` of a Date in local time (for <input type=date> min/max). */
export function localDate(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
