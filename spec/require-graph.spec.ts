// What `require('express-secrets-auth')` loads: an app on the file provider never loads node-vault
// or axios (the Vault provider is loaded by the first `createVaultProvider` call). Runs the built
// dist/ in a fresh Node process, so jest's own module registry does not blur the picture.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith } from './support/components';
import { sharedVault, uniquePrefix } from './support/vault';

const root = join(__dirname, '..');

/**
 * Boots a file-provider app (sessions, stored tokens, bearerAuth, admin router) on a loopback port,
 * serves one authenticated request, then reports which of node-vault/axios are loaded. With
 * ESA_VAULT_ADDR set it then makes a Vault provider and writes and reads one secret through it.
 */
const CHILD = `
const http = require('node:http');
const express = require('express');
const session = require('express-session');
const esa = require('express-secrets-auth');
const vaultModules = () => Object.keys(require.cache).filter((p) => /[\\\\/]node_modules[\\\\/](node-vault|axios)[\\\\/]/.test(p));
(async () => {
  const out = {};
  const auth = await esa.createAuthFromConfig({
    secrets: { providers: { file: { base_path: process.env.ESA_BASE_PATH } } },
    authentication: {
      session: { storage: { secrets: { provider: 'file', path: 'sessions' } } },
      methods: { token: { enabled: true, storage: { secrets: { provider: 'file', path: 'tokens', bcrypt_cost: 4 } } } },
    },
  });
  const { token } = await auth.tokens.create({ name: 'graph', scopes: ['read'] });
  const app = express();
  app.use(session({ store: auth.sessionStore, secret: 'graph-spec', resave: false, saveUninitialized: true }));
  app.get('/api', auth.bearerAuth({ scopes: ['read'] }), (req, res) => res.json({ name: req.auth.name }));
  app.use('/auth', auth.adminRouter({ ui: false }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/api', { headers: { authorization: 'Bearer ' + token } });
  out.fileApp = { status: res.status, body: await res.json() };
  await new Promise((r) => server.close(r));
  await auth.close();
  out.loadedByFileApp = vaultModules();
  if (process.env.ESA_VAULT_ADDR) {
    const vault = esa.createVaultProvider({ address: process.env.ESA_VAULT_ADDR, auth: { method: 'token', token: process.env.ESA_VAULT_TOKEN } });
    const key = process.env.ESA_VAULT_PATH + '/probe';
    await vault.put(key, { value: 'ok' });
    out.vaultRead = (await vault.get(key)).data;
    await vault.delete(key);
    await vault.close();
    out.loadedAfterVault = vaultModules().length > 0;
  }
  console.log(JSON.stringify(out));
})().catch((err) => {
  console.error(err && err.code, err && err.name);
  process.exit(1);
});
`;

function runChild(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CHILD], { cwd: root, env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed (${err.message}): ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() as string));
    });
  });
}

let dir: string;
beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it before jest)');
  dir = await mkdtemp(join(tmpdir(), 'esa-require-graph-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('require graph of a file-provider app (built dist/)', () => {
  test('serves a token-authenticated request without loading node-vault or axios', async () => {
    const out = await runChild({ ESA_BASE_PATH: join(dir, 'file-only') });
    expect(out.fileApp).toEqual({ status: 200, body: { name: 'graph' } });
    expect(out.loadedByFileApp).toEqual([]);
    expect(out).not.toHaveProperty('vaultRead');
  });
});

describeWith('openbao', 'a Vault provider made after a file-provider app has started', () => {
  test('loads node-vault then, and works', async () => {
    const { address, token } = sharedVault();
    const out = await runChild({
      ESA_BASE_PATH: join(dir, 'then-vault'),
      ESA_VAULT_ADDR: address,
      ESA_VAULT_TOKEN: token,
      ESA_VAULT_PATH: uniquePrefix('require-graph'),
    });
    expect(out.loadedByFileApp).toEqual([]);
    expect(out.vaultRead).toEqual({ value: 'ok' });
    expect(out.loadedAfterVault).toBe(true);
  });
});
