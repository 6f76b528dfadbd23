// Token admin page (entry module). Plain browser JavaScript modules, no dependencies, no inline code
// (strict CSP). Signs in with the app's own session (guard option) and/or a pasted admin token.
import { initActions } from './actions.js';
import { api, forgetToken, storedToken, storeToken } from './api.js';
import { config } from './config.js';
import { configureCreate, initCreate, openCreate } from './create.js';
import { $, banner, fieldError, show } from './dom.js';
import { initReveal, reveal } from './reveal.js';
import { initSessions, resetSessions } from './sessions.js';
import { focusAfterRemoval, setSignedIn, setTokens } from './table.js';

const tokenField = config.mode === 'token' || config.tokenSignIn;

async function refresh() {
  const filter = $('state-filter').value;
  const data = await api('GET', `/tokens${filter ? `?state=${encodeURIComponent(filter)}` : ''}`);
  setTokens(data.tokens);
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    if (err.status === 401) return signedOut('Your sign-in is no longer valid. Sign in again.');
    banner(err.message);
  }
}

/** The signed-out view: the app's sign-in (link) and/or the token field, and `message` if any. */
function signedOut(message, denied = '') {
  forgetToken();
  setSignedIn(null);
  banner('');
  show($('tokens'), false);
  show($('sessions'), false);
  resetSessions();
  show($('who'), false);
  show($('signin'), true);
  show($('guard-text'), config.mode === 'guard');
  show($('sign-in-link'), Boolean(config.signInUrl));
  show($('signin-form'), tokenField);
  show($('token-or'), tokenField && config.mode === 'guard');
  fieldError('signin-denied', denied);
  fieldError('signin-error', tokenField ? message : '');
  $('signin-token').value = '';
  if (tokenField) $('signin-token').focus();
}

function signedIn(me) {
  setSignedIn(me);
  configureCreate(me.limits);
  $('who-name').textContent = me.name || me.token_id || 'admin';
  show($('sign-out'), Boolean(storedToken()));
  show($('app-link'), Boolean(config.appUrl));
  show($('who'), true);
  show($('signin'), false);
  show($('tokens'), true);
  show($('sessions'), config.sessions);
}

async function start() {
  banner('');
  const pasted = storedToken();
  if (config.mode === 'token' && !pasted) {
    show($('loading'), false);
    return signedOut('');
  }
  try {
    const me = await api('GET', '/me');
    signedIn(me);
    await refresh();
  } catch (err) {
    // A refused pasted token: say why at the field. No pasted token: the plain signed-out view
    // (the guard's own JSON message is for API clients, not for this page).
    if (err.status === 401 || err.status === 403) {
      if (pasted) signedOut(err.message);
      else signedOut('', err.status === 403 && config.mode === 'guard' ? 'You are signed in, but this account may not manage API tokens.' : '');
    } else banner(err.message);
  } finally {
    show($('loading'), false);
  }
}

// Dialogs: native <dialog> (focus trap). Buttons with data-close cancel.
for (const d of document.querySelectorAll('dialog')) {
  for (const b of d.querySelectorAll('[data-close]')) b.addEventListener('click', () => d.close());
}

initReveal();
initCreate((result) => {
  reveal('Your new token', result, `“${result.name}” (${result.id}) was created.`);
  guarded(refresh);
});
initActions({
  rotated: (result, note) => {
    reveal('Token rotated', result, note);
    guarded(refresh);
  },
  revoked: async (_token, index, self) => {
    if (self) return signedOut('You revoked the token this page was signed in with. Paste another admin token to continue.');
    await guarded(refresh);
    focusAfterRemoval(index);
  },
});

initSessions({ unauthorized: () => signedOut('Your sign-in is no longer valid. Sign in again.') });

$('new-token').addEventListener('click', openCreate);
$('state-filter').addEventListener('change', () => guarded(refresh));
$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = $('signin-token').value.trim();
  if (!value) return fieldError('signin-error', 'Paste an admin token.');
  storeToken(value);
  $('signin-token').value = '';
  start();
});
// Forget the pasted token; behind the app's guard its session (if any) may still sign the page in.
$('sign-out').addEventListener('click', () => {
  forgetToken();
  if (config.mode === 'guard') start();
  else signedOut('');
});
start();
