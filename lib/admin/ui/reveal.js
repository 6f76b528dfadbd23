// The shown-once dialog: the token, a copy button, and a confirmation before it is closed (Escape,
// Done) unless the token was copied — once closed, the token cannot be shown again.
import { $, announce, show } from './dom.js';

let copied = false;
let afterClose = null;

function askToLeave() {
  show($('reveal-done'), false);
  show($('reveal-leave'), true);
  $('reveal-stay').focus();
}
function stay() {
  show($('reveal-leave'), false);
  show($('reveal-done'), true);
  $('reveal-token').select();
}
function close() {
  $('reveal-dialog').close();
}
const closeOrAsk = () => (copied ? close() : askToLeave());

/** Shows `result.token` once; `then` runs after the dialog closed. */
export function reveal(title, result, note, then) {
  copied = false;
  afterClose = then || null;
  $('reveal-title').textContent = title;
  $('reveal-token').value = result.token;
  $('reveal-note').textContent = note;
  $('copy-token').textContent = 'Copy';
  show($('reveal-leave'), false);
  show($('reveal-done'), true);
  $('reveal-dialog').showModal();
  $('reveal-token').select();
}

export function initReveal() {
  const dialog = $('reveal-dialog');
  // Escape: ask first. Handled on keydown so the browser never closes the dialog by itself.
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    ev.preventDefault();
    if ($('reveal-leave').hidden) closeOrAsk();
    else stay();
  });
  dialog.addEventListener('cancel', (ev) => {
    ev.preventDefault();
    closeOrAsk();
  });
  dialog.addEventListener('close', () => {
    $('reveal-token').value = '';
    const then = afterClose;
    afterClose = null;
    if (then) then();
  });
  $('reveal-close').addEventListener('click', closeOrAsk);
  $('reveal-stay').addEventListener('click', stay);
  $('reveal-discard').addEventListener('click', close);
  $('copy-token').addEventListener('click', async () => {
    const value = $('reveal-token').value;
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      $('reveal-token').select();
      document.execCommand('copy');
    }
    copied = true;
    $('copy-token').textContent = 'Copied';
    announce('Token copied to the clipboard.');
  });
}
