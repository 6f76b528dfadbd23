// The token table: rows, search, sortable columns, and where focus goes after a row disappears.
import { $, el, show } from './dom.js';
import { shortFmt, when } from './format.js';

let tokens = [];
let me = null;
let sort = { key: 'created_at', dir: 1 };

export const findToken = (id) => tokens.find((t) => t.id === id);
/** Whether `t` is the token this page is signed in with. */
export const isSignedInWith = (t) => Boolean(me?.token_id) && me.token_id === t.id;
export const setSignedIn = (who) => {
  me = who;
};

const STATE_ORDER = { expired: 0, expiring: 1, active: 2 };
function sortValue(t, key) {
  if (key === 'state') return STATE_ORDER[t.state] ?? 3;
  if (key === 'name' || key === 'created_by') return (t[key] || '').toLocaleLowerCase();
  const v = t[key] ? Date.parse(t[key]) : null;
  // No expiry sorts as the latest expiry; never used / unknown sorts first.
  return v === null && key === 'expires_at' ? Number.POSITIVE_INFINITY : (v ?? Number.NEGATIVE_INFINITY);
}
function compare(a, b) {
  const x = sortValue(a, sort.key);
  const y = sortValue(b, sort.key);
  const c = typeof x === 'string' ? x.localeCompare(y) : x < y ? -1 : x > y ? 1 : 0;
  return c * sort.dir || a.name.localeCompare(b.name);
}

function matches(t, words) {
  const text = [t.name, t.id, t.description, t.created_by || '', t.source, t.state, ...t.scopes].join(' ').toLocaleLowerCase();
  return words.every((w) => text.includes(w));
}

function rotationNote(t) {
  if (!t.rotated_at) return null;
  const parts = [`Rotated ${shortFmt.format(new Date(t.rotated_at))}`];
  if (t.previous_expires_at && Date.parse(t.previous_expires_at) > Date.now())
    parts.push(`old secret works until ${shortFmt.format(new Date(t.previous_expires_at))}`);
  else parts.push('old secret no longer works');
  return el('div', { class: 'tok-note', text: parts.join(' · ') });
}

function row(t) {
  const badges = [
    t.source === 'config' ? el('span', { class: 'source', text: 'config' }) : null,
    isSignedInWith(t) ? el('span', { class: 'source you', text: 'signed in with this' }) : null,
  ];
  const name = el('td', { class: 'cell-name', 'data-label': 'Name' }, [
    el('div', {}, [
      el('span', { class: 'tok-name', text: t.name }),
      ...badges,
      t.description ? el('div', { class: 'tok-desc', text: t.description }) : null,
      rotationNote(t),
    ]),
  ]);
  const scopes = t.scopes.length ? t.scopes.map((s) => el('span', { class: 'pill', text: s })) : [el('span', { class: 'muted', text: 'none' })];
  const actions = el('div', { class: 'row-actions' });
  if (t.source === 'config') {
    actions.append(el('span', { class: 'muted', text: 'Managed in config' }));
  } else {
    actions.append(
      el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'rotate', 'data-id': t.id, 'aria-label': `Rotate ${t.name}`, text: 'Rotate' }),
      el('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        'data-action': 'revoke',
        'data-id': t.id,
        'aria-label': `Revoke ${t.name}`,
        text: 'Revoke',
      }),
    );
  }
  return el('tr', { 'data-id': t.id, tabindex: '-1', 'aria-label': t.name }, [
    name,
    el('td', { 'data-label': 'ID' }, [el('code', { class: 'tok-id', text: t.id })]),
    el('td', { 'data-label': 'Scopes' }, [el('div', {}, scopes)]),
    el('td', { 'data-label': 'Created by', class: 'cell-by' }, [
      t.created_by ? el('span', { text: t.created_by }) : el('span', { class: 'muted', text: t.source === 'config' ? 'config' : '—' }),
    ]),
    el('td', { 'data-label': 'Created' }, [when(t.created_at, '—')]),
    el('td', { 'data-label': 'Expires' }, [when(t.expires_at, 'Never')]),
    el('td', { 'data-label': 'Last used' }, [when(t.last_used_at, 'Never used')]),
    el('td', { 'data-label': 'State' }, [el('span', { class: `state state-${t.state}`, text: t.state })]),
    el('td', { class: 'cell-actions', 'data-label': '' }, [actions]),
  ]);
}

/** The ids in the order shown. */
export const shownIds = () => [...$('token-rows').children].map((tr) => tr.dataset.id);

export function render() {
  const query = $('search').value.trim().toLocaleLowerCase();
  const words = query ? query.split(/\s+/) : [];
  const shown = tokens.filter((t) => matches(t, words)).sort(compare);
  $('token-rows').replaceChildren(...shown.map(row));
  for (const th of document.querySelectorAll('#token-table th[data-sort]')) {
    if (th.dataset.sort === sort.key) th.setAttribute('aria-sort', sort.dir === 1 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  show($('empty'), shown.length === 0);
  $('empty').textContent = tokens.length === 0 ? 'No tokens here yet. Create one to get started.' : 'No token matches the search.';
  const n = (k) => `${k} token${k === 1 ? '' : 's'}`;
  $('count').textContent = words.length ? `${shown.length} of ${n(tokens.length)}` : n(tokens.length);
}

export function setTokens(list) {
  tokens = list;
  render();
}

/**
 * After the row at `index` (in the order shown before) went away: focus the row now at that place,
 * else the one before it, else the page heading — never leave focus on <body>.
 */
export function focusAfterRemoval(index) {
  const rows = $('token-rows').children;
  const target = rows[Math.min(index, rows.length - 1)];
  (target || $('tokens-title')).focus();
}

$('search').addEventListener('input', render);
for (const th of document.querySelectorAll('#token-table th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    const key = th.dataset.sort;
    sort = { key, dir: sort.key === key ? -sort.dir : 1 };
    render();
  });
}
