// The Sessions view: a user's signed-in sessions by key (never a session id), end one or all of
// them, each behind a confirmation. Shown only when the router has the `sessions` option.
import { api } from './api.js';
import { $, announce, el, fieldError, show } from './dom.js';
import { when } from './format.js';

let user = '';
let sessions = [];
let pending = null;
let on = { unauthorized: () => {} };

const plural = (n) => `${n} session${n === 1 ? '' : 's'}`;
/** A key is `<path>/<prefix><digest>`: the last characters are enough to tell rows apart. */
const shortKey = (key) => `…${key.slice(-10)}`;

function row(s) {
  const end = el('button', {
    type: 'button',
    class: 'btn btn-small btn-danger',
    'data-key': s.key,
    'aria-label': `End session ${shortKey(s.key)}`,
    text: 'End',
  });
  return el('tr', { 'data-key': s.key }, [
    el('td', { 'data-label': 'Session' }, [el('code', { class: 'tok-id', title: s.key, text: shortKey(s.key) })]),
    el('td', { 'data-label': 'Signed in' }, [when(s.created_at, '—')]),
    el('td', { 'data-label': 'Last seen' }, [when(s.last_seen_at, '—')]),
    el('td', { 'data-label': 'Expires' }, [when(s.expires_at, 'Never')]),
    el('td', { class: 'cell-actions', 'data-label': '' }, [el('div', { class: 'row-actions' }, [end])]),
  ]);
}

function render() {
  $('session-rows').replaceChildren(...sessions.map(row));
  show($('sessions-result'), Boolean(user));
  show($('sessions-empty'), Boolean(user) && sessions.length === 0);
  $('sessions-empty').textContent = `“${user}” has no active sessions.`;
  $('sessions-count').textContent = user ? `${plural(sessions.length)} of “${user}”` : '';
  show($('end-all'), sessions.length > 0);
}

/** Runs a request; a 401 signs the page out, anything else is said under the form (or in `field`). */
async function attempt(fn, field = 'sessions-error') {
  try {
    await fn();
    return true;
  } catch (err) {
    if (err.status === 401) on.unauthorized();
    else fieldError(field, err.message);
    return false;
  }
}

async function load(next) {
  fieldError('sessions-error', '');
  await attempt(async () => {
    const data = await api('GET', `/sessions?user=${encodeURIComponent(next)}`);
    user = data.user;
    sessions = data.sessions;
    render();
  });
}

function confirmEnd(kind, key) {
  pending = { kind, key, user };
  $('end-title').textContent = kind === 'all' ? `End all sessions of “${user}”?` : 'End this session?';
  $('end-text').textContent =
    kind === 'all'
      ? `${plural(sessions.length)} of “${user}” end now: every browser and device they are signed in on is signed out.`
      : `The session ${shortKey(key)} of “${user}” ends now: that browser or device is signed out.`;
  $('end-ok').textContent = kind === 'all' ? 'End all sessions' : 'End session';
  fieldError('end-error', '');
  $('end-dialog').showModal();
}

/** Clears the view (signed out). */
export function resetSessions() {
  user = '';
  sessions = [];
  pending = null;
  $('sessions-user').value = '';
  fieldError('sessions-error', '');
  render();
}

/** `handlers.unauthorized()`: the sign-in is no longer valid. */
export function initSessions(handlers) {
  on = handlers;
  $('sessions-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = $('sessions-user').value.trim();
    if (!next) return fieldError('sessions-error', 'Enter a user id.');
    load(next);
  });
  $('session-rows').addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-key]');
    if (button) confirmEnd('one', button.dataset.key);
  });
  $('end-all').addEventListener('click', () => confirmEnd('all', null));
  $('end-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const { kind, key, user: of } = pending;
    let ended = 0;
    const done = await attempt(async () => {
      if (kind === 'all') ended = (await api('DELETE', `/users/${encodeURIComponent(of)}/sessions`)).ended;
      else await api('DELETE', `/sessions/${encodeURIComponent(key)}`);
    }, 'end-error');
    if (!done) return;
    pending = null;
    $('end-dialog').close();
    announce(kind === 'all' ? `Ended ${plural(ended)} of ${of}.` : `Session of ${of} ended.`);
    await load(of);
    $('sessions-title').focus();
  });
}
