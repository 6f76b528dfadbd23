// The demo's two HTML pages. No inline script or style: they work under the strict CSP below.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · express-secrets-auth demo</title><link rel="stylesheet" href="/demo.css"></head>
<body><main class="card"><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const csrfField = (csrf) => `<input type="hidden" name="_csrf" value="${escapeHtml(csrf)}">`;

function loginPage(csrf, error) {
  return layout(
    'Sign in',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
  ${csrfField(csrf)}
  <label>User name <input name="username" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<p class="hint">Demo user: <code>demo</code> / <code>demo-password</code> (demo-app/users.json).</p>
<p class="hint">Or open the <a href="/api/v2/auth/ui">token page</a> with the admin token the demo printed on its first start.</p>`,
  );
}

const time = (ms) => `<time datetime="${new Date(ms).toISOString()}">${escapeHtml(new Date(ms).toUTCString())}</time>`;

/** "Your sessions": where this user is signed in, this one marked, and "Sign out everywhere else". */
function sessionsBlock({ list, current }, csrf, ended) {
  const items = list
    .map(
      (s) =>
        `<li${s.key === current ? ' class="current"' : ''}>Signed in ${time(s.createdAt)}, last seen ${time(s.lastSeenAt)}${s.key === current ? ' <strong>(this session)</strong>' : ''}</li>`,
    )
    .join('\n');
  const others = list.filter((s) => s.key !== current).length;
  return `<h2>Your sessions</h2>
${ended === null ? '' : `<p class="notice" role="status">Signed out ${ended} other session${ended === 1 ? '' : 's'}.</p>`}
<ul class="sessions">${items}</ul>
${
  others > 0
    ? `<form method="post" action="/sessions/others">${csrfField(csrf)}<button type="submit" class="secondary">Sign out everywhere else (${others})</button></form>`
    : '<p class="hint">You are signed in here only.</p>'
}`;
}

function homePage({ user, backend, origin, csrf, sessions, ended }) {
  return layout(
    `Hello, ${user.name}`,
    `<p>Your session lives in the <strong>${escapeHtml(backend)}</strong> provider, not in Redis.</p>
<ul>
  <li><a href="/api/v2/auth/ui">Manage API tokens</a> (signed in through this session)</li>
  <li><code>curl -H "Authorization: Bearer &lt;token&gt;" ${escapeHtml(origin)}/api/hello</code></li>
</ul>
${sessionsBlock(sessions, csrf, ended)}
<form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form>`,
  );
}

module.exports = { CSP, loginPage, homePage };
