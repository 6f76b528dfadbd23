#!/usr/bin/env node
// The express-secrets-auth demo: a login page with sessions in the secrets backend, an API behind
// bearer tokens, and the token admin page. `npm start` runs it on the file provider (encrypted,
// key in the data folder); with VAULT_ADDR and VAULT_TOKEN set (or `--config file.yml`) it runs on
// Vault/OpenBao. `npm start -- --new-admin-token` prints a new admin token.
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const bcrypt = require('bcrypt');
const express = require('express');
const session = require('express-session');
const { createAuthFromConfig, describeError } = require('express-secrets-auth');
const { csrfProtection, errorPages, loginRateLimit } = require('./guards');
const { CSP, homePage, loginPage } = require('./pages');
const { bootstrapToken, chooseConfig, dataDir, encryptionKey, sessionSecret } = require('./setup');

const DUMMY_HASH = bcrypt.hashSync(randomBytes(16).toString('hex'), 10);
const FORM_BODY = express.urlencoded({ extended: false, limit: '4kb' });
const USAGE = `Usage: node demo-app/server.js [--port <n>] [--config <file.yml>] [--new-admin-token]
  --port <n>          port on 127.0.0.1 (default PORT, else 3000; 0 = any free port)
  --config <file>     config file (default demo-app/config/file.yml, or vault.yml with VAULT_ADDR and VAULT_TOKEN)
  --new-admin-token   create and print a new admin token even though one exists`;

function parseOptions() {
  const options = { config: { type: 'string' }, port: { type: 'string' }, 'new-admin-token': { type: 'boolean' }, help: { type: 'boolean' } };
  try {
    return parseArgs({ options }).values;
  } catch (err) {
    console.error(`demo: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
}

/** How to run the CLI against the store this demo uses. */
function cliHint(backend, configFile, dir, key) {
  const config = path.relative(process.cwd(), configFile) || configFile;
  if (backend !== 'file') return `with VAULT_ADDR and VAULT_TOKEN set: npx express-secrets-auth tokens list --config ${config}`;
  const keyEnv = key.source === 'SECRETS_KEY' ? 'SECRETS_KEY=<the same key>' : `SECRETS_KEY="$(cat ${key.source})"`;
  return `DEMO_DATA_DIR=${dir} ${keyEnv} npx express-secrets-auth tokens list --config ${config}`;
}

async function main() {
  const values = parseOptions();
  if (values.help) return console.log(USAGE);
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be a number from 0 to 65535 (got ${values.port ?? process.env.PORT})`);
  const dir = dataDir();
  const configFile = chooseConfig(values);
  const usesFiles = /\$\{env:SECRETS_KEY\}/.test(fs.readFileSync(configFile, 'utf8'));
  const key = usesFiles ? encryptionKey(dir) : null;
  const env = { ...process.env, DEMO_DATA_DIR: dir, ...(key ? { SECRETS_KEY: key.key } : {}) };
  // userOf: the store indexes sessions by user, for "Your sessions" and the admin page's Sessions view.
  const auth = await createAuthFromConfig(configFile, { env, userOf: (s) => s.user });
  const [backend, provider] = Object.entries(auth.providers)[0];
  const users = JSON.parse(fs.readFileSync(path.join(__dirname, 'users.json'), 'utf8'));
  const secret = await sessionSecret(provider);
  const secure = process.env.DEMO_SECURE_COOKIES === '1'; // set behind HTTPS
  const csrf = csrfProtection(secret, { secure });
  const { notFound, onError } = errorPages();

  const app = express();
  app.disable('x-powered-by');
  app.get('/demo.css', (_req, res) => res.sendFile(path.join(__dirname, 'demo.css')));
  app.use(
    session({
      store: auth.sessionStore,
      secret,
      name: 'demo.sid',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      unset: 'destroy',
      cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: 8 * 3600 * 1000 },
    }),
  );
  const page = (res, html, status = 200) => res.status(status).set('Content-Security-Policy', CSP).type('html').send(html);
  const current = (req) => users.find((u) => u.username === req.session.user);

  app.get('/', async (req, res, next) => {
    const user = current(req);
    if (!user) return page(res, loginPage(csrf.token(req, res)));
    try {
      const sessions = { list: await auth.sessionStore.sessionsOf(user.username), current: auth.sessionStore.keyOf(req.sessionID) };
      const ended = /^\d{1,4}$/.test(String(req.query.ended ?? '')) ? Number(req.query.ended) : null;
      page(res, homePage({ user, backend, origin: `${req.protocol}://${req.get('host')}`, csrf: csrf.token(req, res), sessions, ended }));
    } catch (err) {
      next(err);
    }
  });
  app.post('/login', loginRateLimit(), FORM_BODY, csrf.check, async (req, res, next) => {
    const user = users.find((u) => u.username === req.body?.username);
    // Compare against a dummy hash for unknown users so timing does not reveal who exists.
    const hash = user?.password_hash ?? DUMMY_HASH;
    const ok = (await bcrypt.compare(String(req.body?.password ?? ''), hash)) && user;
    if (!ok) return page(res, loginPage(csrf.token(req, res), 'Wrong user name or password.'), 401);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user.username;
      // Save before redirecting: express-session's own save at response end can lose the race
      // with the browser's next request, and its failure could not become an error page.
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, '/')));
    });
  });
  app.post('/logout', FORM_BODY, csrf.check, (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/'))));
  // "Sign out everywhere else": every session of this user but the one making the request.
  app.post('/sessions/others', FORM_BODY, csrf.check, async (req, res, next) => {
    const user = current(req);
    if (!user) return res.redirect(303, '/');
    try {
      const ended = await auth.sessionStore.destroySessionsOf(user.username, { except: req.sessionID });
      res.redirect(303, `/?ended=${ended}`);
    } catch (err) {
      next(err);
    }
  });

  // API: any valid token. The admin API and page: a signed-in user, or a token with the admin scope.
  app.get('/api/hello', auth.bearerAuth(), (req, res) => res.json({ hello: req.auth.name, scopes: req.auth.scopes }));
  const adminBearer = auth.bearerAuth({ scopes: ['admin'], realm: 'admin' });
  const signedInOrAdminToken = (req, res, next) => (current(req) ? next() : adminBearer(req, res, next));
  app.use(
    '/api/v2/auth',
    auth.adminRouter({
      guard: signedInOrAdminToken,
      createdBy: (req) => current(req)?.username ?? req.auth?.name ?? null,
      // The token page's links (sign in with the demo's form; back to the app).
      tokenSignIn: true,
      signInUrl: '/',
      appUrl: '/',
    }),
  );
  app.use(notFound);
  app.use(onError);

  const server = app.listen(port, '127.0.0.1');
  server.once('error', (err) => {
    const why =
      err.code === 'EADDRINUSE'
        ? `Port ${port} is in use; set PORT=<a free port> (or pass --port <n>) and start again.`
        : `cannot listen on 127.0.0.1:${port} (${err.code ?? err.name})`;
    console.error(`demo: ${why}`);
    auth.close().finally(() => process.exit(1));
  });
  server.once('listening', async () => {
    // Only now, with the port ours, is an admin token worth creating: a failed start keeps none.
    let token;
    try {
      token = await bootstrapToken(auth.tokens, { force: values['new-admin-token'] === true });
    } catch (err) {
      console.error(`demo: cannot create the admin token: ${describeError(err)}`);
      return server.close(() => auth.close().finally(() => process.exit(1)));
    }
    const url = `http://127.0.0.1:${server.address().port}`;
    console.log(`express-secrets-auth demo on ${backend}: ${url}`);
    console.log(`  sign in as demo / demo-password, or manage tokens at ${url}/api/v2/auth/ui`);
    if (key) console.log(`  data: ${dir} (encrypted; key ${key.source === 'SECRETS_KEY' ? 'from SECRETS_KEY' : `in ${key.source}`})`);
    console.log(`  CLI on this store: ${cliHint(backend, configFile, dir, key)}`);
    if (token) {
      console.log('\nAdmin token (shown once, only its hash is stored):');
      console.log(`  ${token}`);
      console.log(`  try: curl -H "Authorization: Bearer <token>" ${url}/api/hello\n`);
    } else {
      console.log('  An admin token exists already (shown once when it was made). For a new one: npm start -- --new-admin-token');
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
