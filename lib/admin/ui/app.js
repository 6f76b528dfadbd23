// Token admin page. Plain browser JavaScript, no dependencies, no inline code (strict CSP).
// Data is written with textContent only. An admin token lives in sessionStorage (this tab), never in
// localStorage or a URL; with the app's own session (guard option) the cookie is used instead.
(() => {
  const KEY = 'express-secrets-auth.admin-token';
  const BASE = document.documentElement.dataset.base || '';
  const MODE = document.documentElement.dataset.mode === 'guard' ? 'guard' : 'token';
  const DAY = 86400;
  const $ = (id) => document.getElementById(id);
  let tokens = [];
  let limits = { allow_no_expiry: true, max_ttl: null, auto_rotate: false };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const stored = sessionStorage.getItem(KEY);
    if (stored) headers.Authorization = `Bearer ${stored}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(BASE + path, { method, headers, credentials: 'same-origin', cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = data?.error;
      throw new ApiError(res.status, err?.code || 'error', err?.message || `The server answered ${res.status}.`);
    }
    return data;
  }

  const el = (tag, props = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  };
  const show = (node, visible) => {
    node.hidden = !visible;
  };
  const announce = (msg) => {
    $('status').textContent = msg;
  };
  const banner = (msg) => {
    $('banner').textContent = msg || '';
    show($('banner'), Boolean(msg));
  };
  const fieldError = (id, msg) => {
    $(id).textContent = msg || '';
    show($(id), Boolean(msg));
  };

  const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
  const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function relative(iso) {
    const s = (Date.parse(iso) - Date.now()) / 1000;
    const units = [['year', 365 * DAY], ['month', 30 * DAY], ['week', 7 * DAY], ['day', DAY], ['hour', 3600], ['minute', 60]];
    for (const [unit, size] of units) if (Math.abs(s) >= size) return rel.format(Math.round(s / size), unit);
    return s < 0 ? 'just now' : 'in a moment';
  }
  const when = (iso, empty) => {
    if (!iso) return el('span', { class: 'muted', text: empty });
    return el('time', { datetime: iso, title: fullFmt.format(new Date(iso)), class: 'when', text: dateFmt.format(new Date(iso)) }, [el('span', { class: 'sub', text: relative(iso) })]);
  };

  function row(t) {
    const name = el('td', { class: 'cell-name', 'data-label': 'Name' }, [
      el('div', {}, [el('span', { class: 'tok-name', text: t.name }), t.source === 'config' ? el('span', { class: 'source', text: 'config' }) : '']),
    ]);
    if (t.description) name.firstChild.append(el('div', { class: 'tok-desc', text: t.description }));
    const scopes = t.scopes.length ? t.scopes.map((s) => el('span', { class: 'pill', text: s })) : [el('span', { class: 'muted', text: 'none' })];
    const actions = el('div', { class: 'row-actions' });
    if (t.source === 'config') {
      actions.append(el('span', { class: 'muted', text: 'Managed in config' }));
    } else {
      actions.append(
        el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'rotate', 'data-id': t.id, 'aria-label': `Rotate ${t.name}`, text: 'Rotate' }),
        el('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-action': 'revoke', 'data-id': t.id, 'aria-label': `Revoke ${t.name}`, text: 'Revoke' }),
      );
    }
    return el('tr', { 'data-id': t.id }, [
      name,
      el('td', { 'data-label': 'ID' }, [el('code', { class: 'tok-id', text: t.id })]),
      el('td', { 'data-label': 'Scopes' }, [el('div', {}, scopes)]),
      el('td', { 'data-label': 'Created' }, [when(t.created_at, '—')]),
      el('td', { 'data-label': 'Expires' }, [when(t.expires_at, 'Never')]),
      el('td', { 'data-label': 'Last used' }, [when(t.last_used_at, 'Never used')]),
      el('td', { 'data-label': 'State' }, [el('span', { class: `state state-${t.state}`, text: t.state })]),
      el('td', { class: 'cell-actions', 'data-label': '' }, [actions]),
    ]);
  }

  async function refresh() {
    const filter = $('state-filter').value;
    const data = await api('GET', `/tokens${filter ? `?state=${encodeURIComponent(filter)}` : ''}`);
    tokens = data.tokens;
    $('token-rows').replaceChildren(...tokens.map(row));
    show($('empty'), tokens.length === 0);
    $('count').textContent = `${tokens.length} token${tokens.length === 1 ? '' : 's'}`;
  }

  async function guarded(fn) {
    try {
      await fn();
    } catch (err) {
      if (err.status === 401) return signedOut('Your sign-in is no longer valid. Sign in again.');
      banner(err.message);
    }
  }

  function signedOut(message) {
    sessionStorage.removeItem(KEY);
    show($('tokens'), false);
    show($('who'), false);
    show($('signin'), true);
    show($('signin-form'), MODE === 'token');
    show($('token-text'), MODE === 'token');
    show($('guard-text'), MODE === 'guard');
    fieldError(MODE === 'token' ? 'signin-error' : 'banner', message);
    $('signin-token').value = '';
    $('signin-token').focus();
  }

  async function start() {
    banner('');
    if (MODE === 'token' && !sessionStorage.getItem(KEY)) {
      show($('loading'), false);
      return signedOut('');
    }
    try {
      const me = await api('GET', '/me');
      limits = me.limits;
      $('who-name').textContent = me.name || me.token_id || 'admin';
      show($('sign-out'), Boolean(sessionStorage.getItem(KEY)));
      show($('who'), true);
      show($('signin'), false);
      show($('tokens'), true);
      show($('expiry-none'), limits.allow_no_expiry);
      show($('delivery-field'), limits.auto_rotate);
      if (limits.delivery_prefix) $('create-delivery').placeholder = `${limits.delivery_prefix}/billing/api-token`;
      await refresh();
    } catch (err) {
      if (err.status === 401 || err.status === 403) signedOut(MODE === 'guard' || sessionStorage.getItem(KEY) ? err.message : '');
      else banner(err.message);
    } finally {
      show($('loading'), false);
    }
  }

  // Dialogs: native <dialog> (focus trap, Escape closes). Buttons with data-close cancel.
  for (const d of document.querySelectorAll('dialog')) {
    for (const b of d.querySelectorAll('[data-close]')) b.addEventListener('click', () => d.close());
  }

  function expirySeconds() {
    const v = $('create-expiry').value;
    if (v === 'none') return null;
    if (v !== 'custom') return Number(v) * DAY;
    const date = $('create-custom').valueAsDate;
    if (!date) return undefined;
    return Math.round((date.getTime() + DAY * 1000 - 1 - Date.now()) / 1000);
  }
  function updateExpiryHint() {
    show($('create-custom'), $('create-expiry').value === 'custom');
    const s = expirySeconds();
    $('expiry-hint').textContent =
      s === null ? 'The token will never expire. Tokens that expire are safer.' : s === undefined ? 'Pick a date.' : `The token will expire on ${fullFmt.format(new Date(Date.now() + s * 1000))}.`;
  }
  $('create-expiry').addEventListener('change', updateExpiryHint);
  $('create-custom').addEventListener('input', updateExpiryHint);

  $('new-token').addEventListener('click', () => {
    $('create-form').reset();
    fieldError('create-error', '');
    const max = limits.max_ttl;
    if (max !== null) for (const o of $('create-expiry').options) o.disabled = o.value !== 'custom' && (o.value === 'none' || Number(o.value) * DAY > max);
    updateExpiryHint();
    $('create-dialog').showModal();
  });

  function reveal(title, result, note) {
    $('reveal-title').textContent = title;
    $('reveal-token').value = result.token;
    $('reveal-note').textContent = note;
    $('copy-token').textContent = 'Copy';
    $('reveal-dialog').showModal();
    $('reveal-token').select();
  }
  $('reveal-dialog').addEventListener('close', () => {
    $('reveal-token').value = '';
  });
  $('copy-token').addEventListener('click', async () => {
    const value = $('reveal-token').value;
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      $('reveal-token').select();
      document.execCommand('copy');
    }
    $('copy-token').textContent = 'Copied';
    announce('Token copied to the clipboard.');
  });

  $('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('create-name').value.trim();
    if (!name) return fieldError('create-error', 'Give the token a name.');
    const expires_in = expirySeconds();
    if (expires_in === undefined || (expires_in !== null && expires_in <= 0)) return fieldError('create-error', 'Pick an expiration date in the future.');
    const body = { name, scopes: $('create-scopes').value.split(/[\s,]+/).filter(Boolean), expires_in };
    const description = $('create-description').value.trim();
    if (description) body.description = description;
    const delivery = $('create-delivery').value.trim();
    if (limits.auto_rotate && delivery) body.delivery_path = delivery;
    api('POST', '/tokens', body).then(
      async (result) => {
        $('create-dialog').close();
        reveal('Your new token', result, `“${result.name}” (${result.id}) was created.`);
        await guarded(refresh);
      },
      (err) => fieldError('create-error', err.message),
    );
  });

  let pending = null;
  function confirmAction(kind, t) {
    pending = { kind, token: t };
    const rotate = kind === 'rotate';
    $('confirm-title').textContent = rotate ? `Rotate “${t.name}”?` : `Revoke “${t.name}”?`;
    $('confirm-text').textContent = rotate
      ? 'A new secret is generated for this token and shown once. Applications must switch to it before the current secret stops working.'
      : 'Applications using this token will stop working immediately. This cannot be undone.';
    show($('grace-field'), rotate);
    $('confirm-ok').textContent = rotate ? 'Rotate token' : 'Revoke token';
    $('confirm-ok').className = rotate ? 'btn btn-primary' : 'btn btn-danger-solid';
    fieldError('confirm-error', '');
    $('confirm-dialog').showModal();
  }
  $('token-rows').addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-action]');
    const t = button && tokens.find((x) => x.id === button.dataset.id);
    if (t) confirmAction(button.dataset.action, t);
  });
  $('confirm-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const { kind, token } = pending;
    try {
      if (kind === 'rotate') {
        const result = await api('POST', `/tokens/${encodeURIComponent(token.id)}/rotate`, { grace: Number($('confirm-grace').value) });
        $('confirm-dialog').close();
        const until = result.previous_expires_at ? ` The previous secret works until ${fullFmt.format(new Date(result.previous_expires_at))}.` : ' The previous secret no longer works.';
        reveal('Token rotated', result, `New secret for “${result.name}”.${until}`);
      } else {
        await api('DELETE', `/tokens/${encodeURIComponent(token.id)}`);
        $('confirm-dialog').close();
        announce(`Token ${token.name} revoked.`);
      }
      pending = null;
      await guarded(refresh);
    } catch (err) {
      fieldError('confirm-error', err.message);
    }
  });

  $('state-filter').addEventListener('change', () => guarded(refresh));
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = $('signin-token').value.trim();
    if (!value) return fieldError('signin-error', 'Paste an admin token.');
    sessionStorage.setItem(KEY, value);
    $('signin-token').value = '';
    start();
  });
  $('sign-out').addEventListener('click', () => signedOut(''));
  start();
})();
