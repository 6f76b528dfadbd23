#!/usr/bin/env node
// The express-secrets-auth demo: a login page with sessions in the secrets backend, an API behind
// bearer tokens, and the token admin page. `npm start` runs it on the file provider; with
// VAULT_ADDR and VAULT_TOKEN set (or `--config file.yml`) it runs on Vault/OpenBao.
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const bcrypt = require('bcrypt');
const express = require('express');
const session = require('express-session');
const { createAuthFromConfig } = require('express-secrets-auth');
const { CSP, homePage, loginPage } = require('./pages');

const BOOTSTRAP_NAME = 'bootstrap-admin';
const DUMMY_HASH = bcrypt.hashSync(randomBytes(16).toString('hex'), 10);

function chooseConfig(values) {
  if (values.config) return path.resolve(values.config);
  if (process.env.VAULT_ADDR && process.env.VAULT_TOKEN) return path.join(__dirname, 'config', 'vault.yml');
  return path.join(__dirname, 'config', 'file.yml');
}

/** The session cookie's signing secret, kept in the backend too (created on first start). */
async function sessionSecret(provider) {
  const existing = await provider.get('demo/app');
  if (typeof existing?.data.session_secret === 'string') return existing.data.session_secret;
  const secret = randomBytes(32).toString('base64url');
  await provider.put('demo/app', { session_secret: secret });
  return secret;
}

/** On first start only: an admin token, printed once; only its hash is stored. */
async function bootstrapToken(tokens) {
  const existing = (await tokens.list()).find((t) => t.source === 'store' && t.name === BOOTSTRAP_NAME);
  if (existing) return null;
  const { token } = await tokens.create({ name: BOOTSTRAP_NAME, description: 'Created by the demo on first start', scopes: ['admin'], createdBy: 'demo-app' });
  return token;
}

async function main() {
  const { values } = parseArgs({ options: { config: { type: 'string' }, port: { type: 'string' } } });
  process.env.DEMO_DATA_DIR ??= path.resolve('.data', 'demo');
  const users = JSON.parse(fs.readFileSync(path.join(__dirname, 'users.json'), 'utf8'));
  const auth = await createAuthFromConfig(chooseConfig(values));
  const [backend, provider] = Object.entries(auth.providers)[0];

  const app = express();
  app.disable('x-powered-by');
  app.get('/demo.css', (_req, res) => res.sendFile(path.join(__dirname, 'demo.css')));
  app.use(
    session({
      store: auth.sessionStore,
      secret: await sessionSecret(provider),
      name: 'demo.sid',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      unset: 'destroy',
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 8 * 3600 * 1000 },
    }),
  );
  const page = (res, html, status = 200) => res.status(status).set('Content-Security-Policy', CSP).type('html').send(html);
  const current = (req) => users.find((u) => u.username === req.session.user);

  app.get('/', (req, res) => {
    const user = current(req);
    page(res, user ? homePage(user, backend, `${req.protocol}://${req.get('host')}`) : loginPage());
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res, next) => {
    const user = users.find((u) => u.username === req.body?.username);
    // Compare against a dummy hash for unknown users so timing does not reveal who exists.
    const hash = user?.password_hash ?? DUMMY_HASH;
    const ok = (await bcrypt.compare(String(req.body?.password ?? ''), hash)) && user;
    if (!ok) return page(res, loginPage('Wrong user name or password.'), 401);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user.username;
      // Save before redirecting: express-session's own save at response end can lose the race
      // with the browser's next request, and its failure could not become an error page.
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, '/')));
    });
  });
  app.post('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/'))));

  // API: any valid token. The admin API and page: a signed-in user, or a token with the admin scope.
  app.get('/api/hello', auth.bearerAuth(), (req, res) => res.json({ hello: req.auth.name, scopes: req.auth.scopes }));
  const adminBearer = auth.bearerAuth({ scopes: ['admin'], realm: 'admin' });
  const signedInOrAdminToken = (req, res, next) => (current(req) ? next() : adminBearer(req, res, next));
  app.use(
    '/api/v2/auth',
    auth.adminRouter({ guard: signedInOrAdminToken, createdBy: (req) => current(req)?.username ?? req.auth?.name ?? null }),
  );

  const token = await bootstrapToken(auth.tokens);
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  const server = app.listen(port, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${server.address().port}`;
    console.log(`express-secrets-auth demo on ${backend}: ${url}`);
    console.log(`  sign in as demo / demo-password, or manage tokens at ${url}/api/v2/auth/ui`);
    if (token) {
      console.log('\nBootstrap admin token (shown once, only its hash is stored):');
      console.log(`  ${token}`);
      console.log(`  try: curl -H "Authorization: Bearer <token>" ${url}/api/hello\n`);
    }
  });
  const stop = () => server.close(() => auth.close().finally(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
