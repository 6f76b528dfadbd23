// Rotate and revoke, each behind a confirmation dialog. Revoking the token this page is signed in
// with says so, and signs the page out afterwards.
import { api } from './api.js';
import { $, announce, fieldError, show } from './dom.js';
import { fullFmt } from './format.js';
import { findToken, isSignedInWith, shownIds } from './table.js';

let pending = null;

function confirmAction(kind, t) {
  pending = { kind, token: t };
  const rotate = kind === 'rotate';
  const self = !rotate && isSignedInWith(t);
  $('confirm-title').textContent = rotate ? `Rotate “${t.name}”?` : `Revoke “${t.name}”?`;
  $('confirm-text').textContent = rotate
    ? 'A new secret is generated for this token and shown once. Applications must switch to it before the current secret stops working.'
    : 'Applications using this token will stop working immediately. This cannot be undone.';
  show($('confirm-self'), self);
  show($('grace-field'), rotate);
  $('confirm-ok').textContent = rotate ? 'Rotate token' : self ? 'Revoke and sign out' : 'Revoke token';
  $('confirm-ok').className = rotate ? 'btn btn-primary' : 'btn btn-danger-solid';
  fieldError('confirm-error', '');
  $('confirm-dialog').showModal();
}

/**
 * `on.rotated(result, token)`: a rotation happened (show the new secret);
 * `on.revoked(token, index, self)`: a revocation happened (`index`: the row's place in the table).
 */
export function initActions(on) {
  $('token-rows').addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-action]');
    const t = button && findToken(button.dataset.id);
    if (t) confirmAction(button.dataset.action, t);
  });
  $('confirm-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const { kind, token } = pending;
    try {
      if (kind === 'rotate') {
        const result = await api('POST', `/tokens/${encodeURIComponent(token.id)}/rotate`, { grace: Number($('confirm-grace').value) });
        pending = null;
        $('confirm-dialog').close();
        const until = result.previous_expires_at
          ? ` The previous secret works until ${fullFmt.format(new Date(result.previous_expires_at))}.`
          : ' The previous secret no longer works.';
        on.rotated(result, `New secret for “${result.name}”.${until}`);
      } else {
        const index = shownIds().indexOf(token.id);
        const self = isSignedInWith(token);
        await api('DELETE', `/tokens/${encodeURIComponent(token.id)}`);
        pending = null;
        $('confirm-dialog').close();
        announce(`Token ${token.name} revoked.`);
        await on.revoked(token, index, self);
      }
    } catch (err) {
      fieldError('confirm-error', err.message);
    }
  });
}
