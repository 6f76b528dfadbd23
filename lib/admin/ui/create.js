// The "Create new token" dialog: name, description, scopes (checkboxes when the server has an
// allowed list), expiry (presets, or the end of a picked local day sent as an exact time).
import { api } from './api.js';
import { $, el, fieldError, show } from './dom.js';
import { endOfLocalDay, fullFmt, localDate } from './format.js';

const DAY = 86400;
let limits = { allow_no_expiry: true, max_ttl: null, allowed_scopes: null, auto_rotate: false };

/** The expiry to send: { expires_in } or { expires_at }, null for none, undefined when not picked. */
function expiry() {
  const v = $('create-expiry').value;
  if (v === 'none') return { expires_in: null };
  if (v !== 'custom') return { expires_in: Number(v) * DAY };
  const end = endOfLocalDay($('create-custom').value);
  return end ? { expires_at: end.toISOString() } : undefined;
}
function expiryTime(e) {
  if (!e) return undefined;
  if (e.expires_at) return new Date(e.expires_at);
  return e.expires_in === null ? null : new Date(Date.now() + e.expires_in * 1000);
}

function updateExpiryHint() {
  show($('create-custom'), $('create-expiry').value === 'custom');
  const at = expiryTime(expiry());
  $('expiry-hint').textContent =
    at === null
      ? 'The token will never expire. Tokens that expire are safer.'
      : at === undefined
        ? 'Pick a date.'
        : `The token will expire on ${fullFmt.format(at)}.`;
}

function pickedScopes() {
  if (limits.allowed_scopes) return [...$('scope-list').querySelectorAll('input:checked')].map((c) => c.value);
  return $('create-scopes')
    .value.split(/[\s,]+/)
    .filter(Boolean);
}

/** Sets what the form offers from `GET /me`'s limits. */
export function configureCreate(next) {
  limits = next;
  show($('expiry-none'), limits.allow_no_expiry);
  show($('delivery-field'), limits.auto_rotate);
  if (limits.delivery_prefix) $('create-delivery').placeholder = `${limits.delivery_prefix}/billing/api-token`;
  const choices = Array.isArray(limits.allowed_scopes) ? limits.allowed_scopes : null;
  show($('scope-choices'), Boolean(choices));
  show($('scopes-text'), !choices);
  $('scope-list').replaceChildren(
    ...(choices || []).map((scope, i) => {
      const id = `scope-${i}`;
      return el('div', { class: 'choice' }, [el('input', { type: 'checkbox', id, value: scope, name: 'scope' }), el('label', { for: id, text: scope })]);
    }),
  );
  if (choices && choices.length === 0) $('scope-list').append(el('p', { class: 'muted', text: 'No scopes may be given on this server.' }));
}

/** Opens the dialog; `onCreated(result)` runs after the server created the token. */
export function openCreate() {
  $('create-form').reset();
  fieldError('create-error', '');
  const max = limits.max_ttl;
  for (const o of $('create-expiry').options) o.disabled = max !== null && o.value !== 'custom' && (o.value === 'none' || Number(o.value) * DAY > max);
  if ($('create-expiry').selectedOptions[0]?.disabled) $('create-expiry').value = 'custom';
  const today = new Date();
  $('create-custom').min = localDate(today);
  $('create-custom').max = max === null ? '' : localDate(new Date(today.getTime() + (max - DAY) * 1000));
  updateExpiryHint();
  $('create-dialog').showModal();
}

export function initCreate(onCreated) {
  $('create-expiry').addEventListener('change', updateExpiryHint);
  $('create-custom').addEventListener('input', updateExpiryHint);
  // A message about a field goes away as soon as the field is changed.
  $('create-form').addEventListener('input', () => fieldError('create-error', ''));
  $('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('create-name').value.trim();
    if (!name) {
      fieldError('create-error', 'Give the token a name.');
      return $('create-name').focus();
    }
    const e = expiry();
    const at = expiryTime(e);
    if (e === undefined || (at !== null && at.getTime() <= Date.now())) return fieldError('create-error', 'Pick an expiry date in the future.');
    const body = { name, scopes: pickedScopes(), ...e };
    const description = $('create-description').value.trim();
    if (description) body.description = description;
    const delivery = $('create-delivery').value.trim();
    if (limits.auto_rotate && delivery) body.delivery_path = delivery;
    api('POST', '/tokens', body).then(
      (result) => {
        $('create-dialog').close();
        onCreated(result);
      },
      (err) => fieldError('create-error', err.message),
    );
  });
}
