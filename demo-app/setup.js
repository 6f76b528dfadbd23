// What the demo needs before and after it listens: its data folder and encryption key, which config
// to load, the session cookie secret, and the bootstrap admin token.
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const BOOTSTRAP_NAME = 'bootstrap-admin';
const KEY_FILE = 'secrets.key';

/** The demo's data folder: DEMO_DATA_DIR, default ./.data/demo (absolute, created 0700). */
function dataDir(env = process.env) {
  const dir = path.resolve(env.DEMO_DATA_DIR || path.join('.data', 'demo'));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The file provider's encryption key: SECRETS_KEY when set, else `<data>/secrets.key`, generated
 * (32 random bytes, file mode 0600) on the first start. A data folder written unencrypted by an
 * older demo cannot be read with a key: that is an error that says what to do.
 */
function encryptionKey(dir, env = process.env) {
  if (env.SECRETS_KEY) return { key: env.SECRETS_KEY, source: 'SECRETS_KEY' };
  const file = path.join(dir, KEY_FILE);
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), source: file };
  const secrets = path.join(dir, 'secrets');
  if (fs.existsSync(secrets) && fs.readdirSync(secrets).length > 0) {
    throw new Error(
      `${secrets} holds demo data written without encryption. Delete it (rm -rf ${secrets}) to start encrypted, or set DEMO_DATA_DIR to another folder.`,
    );
  }
  const key = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: file, generated: true };
}

/** --config, else Vault/OpenBao when VAULT_ADDR and VAULT_TOKEN are set, else the file provider. */
function chooseConfig(values, env = process.env) {
  if (values.config) return path.resolve(values.config);
  if (env.VAULT_ADDR && env.VAULT_TOKEN) return path.join(__dirname, 'config', 'vault.yml');
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

/** Whether the store holds a live token with the admin scope (static tokens do not count). */
async function hasAdminToken(tokens) {
  const now = Date.now();
  return (await tokens.list()).some((t) => t.source === 'store' && t.scopes.includes('admin') && (t.expiresAt === null || Date.parse(t.expiresAt) > now));
}

/**
 * A new admin token when none exists yet, or when asked for (`--new-admin-token`); null otherwise.
 * Its plaintext is returned once to be printed; only its hash is stored.
 */
async function bootstrapToken(tokens, { force }) {
  if (!force && (await hasAdminToken(tokens))) return null;
  const description = force ? 'Created by the demo (--new-admin-token)' : 'Created by the demo on first start';
  const { token } = await tokens.create({ name: BOOTSTRAP_NAME, description, scopes: ['admin'], createdBy: 'demo-app' });
  return token;
}

module.exports = { BOOTSTRAP_NAME, bootstrapToken, chooseConfig, dataDir, encryptionKey, hasAdminToken, sessionSecret };
