// Boots the demo app as a child process, as a newcomer would, and walks it over real HTTP: first
// and second start, the port taken, --new-admin-token, encryption at rest, the CLI line it prints,
// and the hardening of its forms. `npm run demo:vault` is booted too, with a real OpenBao.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeWith } from '../support/components';
import { sharedVault } from '../support/vault';
import { type Booted, boot, exitCode, freePort, stackOrPaths, takenPort, waitFor } from './boot';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { requireBuiltDist } from '../support/compiled-library';

const ROOT = resolve(__dirname, '..', '..');
const SERVER = join(ROOT, 'demo-app', 'server.js');
const STARTED = /demo on (\w+): (http:\/\/\S+)/;
const TOKEN_LINE = /^\s+(esa_\S+)$/m;

interface Demo {
  proc: Booted;
  url: string;
  token: string | null;
  stop(): Promise<void>;
}

/** Starts the demo and waits until it printed its URL and what it says about the admin token. */
async function startDemo(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Demo> {
  const proc = boot([SERVER, '--port', '0', ...args], env);
  const [, , url] = await waitFor(proc, STARTED);
  await waitFor(proc, /try: curl|An admin token exists already/);
  return { proc, url, token: TOKEN_LINE.exec(proc.output())?.[1] ?? null, stop: () => proc.stop() };
}

/** A browser-like visit: the cookies it was given and the form's CSRF field. */
async function visit(url: string, cookies: string[] = []): Promise<{ cookies: string[]; csrf: string; html: string }> {
  const res = await fetch(url, { headers: { cookie: cookies.join('; ') } });
  const html = await res.text();
  const given = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const names = new Set(given.map((c) => c.split('=')[0]));
  const kept = [...cookies.filter((c) => !names.has(c.split('=')[0])), ...given];
  return { cookies: kept, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', html };
}

async function login(url: string, password = 'demo-password'): Promise<{ res: Response; cookies: string[] }> {
  const page = await visit(url);
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: page.cookies.join('; '), origin: url },
    body: new URLSearchParams({ username: 'demo', password, _csrf: page.csrf }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  return { res, cookies: [...page.cookies, ...session] };
}

const bearer = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
});

async function walk(demo: Demo): Promise<void> {
  expect(demo.token).toMatch(/^esa_/);
  const token = demo.token as string;

  // sign in through the form (CSRF field and Origin as a browser sends them); the home page follows
  const { res, cookies } = await login(demo.url);
  expect(res.status).toBe(303);
  const home = await visit(demo.url, cookies);
  expect(home.html).toContain('Hello, Demo Operator');
  expect(home.html).toContain('href="/api/v2/auth/ui"');
  expect((await login(demo.url, 'nope')).res.status).toBe(401);

  // the API with the bootstrap token, and without one
  expect(await (await fetch(`${demo.url}/api/hello`, bearer(token))).json()).toEqual({ hello: 'bootstrap-admin', scopes: ['admin'] });
  expect((await fetch(`${demo.url}/api/hello`)).status).toBe(401);

  // create a token through the admin API, then use it
  const created = await fetch(
    `${demo.url}/api/v2/auth/tokens`,
    bearer(token, { method: 'POST', body: JSON.stringify({ name: 'made in the demo spec', scopes: ['read'] }) }),
  );
  expect(created.status).toBe(201);
  const made = (await created.json()) as { token: string };
  expect(await (await fetch(`${demo.url}/api/hello`, bearer(made.token))).json()).toEqual({ hello: 'made in the demo spec', scopes: ['read'] });
  expect((await fetch(`${demo.url}/api/v2/auth/tokens`, bearer(made.token))).status).toBe(403);
  // the signed-in session may manage tokens too (the demo's guard)
  expect((await fetch(`${demo.url}/api/v2/auth/tokens`, { headers: { cookie: cookies.join('; ') } })).status).toBe(200);

  // "Your sessions": a second sign-in (another device) shows up; "Sign out everywhere else" ends it only
  const laptop = await login(demo.url);
  const withTwo = await visit(demo.url, cookies);
  expect(withTwo.html).toContain('Your sessions');
  expect(withTwo.html.match(/<li( class="current")?>Signed in/g)).toHaveLength(2);
  expect(withTwo.html).toContain('(this session)');
  expect(withTwo.html).toContain('Sign out everywhere else (1)');
  const others = (csrf: string) =>
    fetch(`${demo.url}/sessions/others`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: withTwo.cookies.join('; '), origin: demo.url },
      body: new URLSearchParams({ _csrf: csrf }),
    });
  expect((await others('x'.repeat(43))).status).toBe(403);
  expect((await visit(demo.url, laptop.cookies)).html).toContain('Hello, Demo Operator');
  const ended = await others(withTwo.csrf);
  expect(ended.status).toBe(303);
  expect(ended.headers.get('location')).toBe('/?ended=1');
  expect((await visit(demo.url, laptop.cookies)).html).toContain('Sign in');
  const after = await visit(`${demo.url}/?ended=1`, cookies);
  expect(after.html).toContain('Signed out 1 other session.');
  expect(after.html).toContain('You are signed in here only.');

  // sign out: a POST with the page's CSRF field; afterwards the session is gone
  const out = await fetch(`${demo.url}/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: home.cookies.join('; '), origin: demo.url },
    body: new URLSearchParams({ _csrf: home.csrf }),
  });
  expect(out.status).toBe(303);
  expect((await visit(demo.url, cookies)).html).toContain('Sign in');
}

beforeAll(() => {
  requireBuiltDist('index.js');
});

describe('demo app on the file provider (npm start)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('esa-demo-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });
  const fileEnv = () => ({ DEMO_DATA_DIR: dir, VAULT_ADDR: '', VAULT_TOKEN: '', SECRETS_KEY: '', PORT: '' });

  test('port taken: one clear line, exit 1, no stack, and no admin token stored; the next start prints one', async () => {
    const held = await takenPort();
    try {
      const proc = boot([SERVER], { ...fileEnv(), PORT: String(held.port) });
      expect(await exitCode(proc)).toBe(1);
      expect(proc.output().trim()).toBe(`demo: Port ${held.port} is in use; set PORT=<a free port> (or pass --port <n>) and start again.`);
      expect(stackOrPaths(proc.output(), ROOT)).toEqual([]);
    } finally {
      await held.release();
    }
    const next = await startDemo(fileEnv());
    try {
      expect(next.token).toMatch(/^esa_/);
    } finally {
      await next.stop();
    }
  }, 60_000);

  test('first start: URL, data folder, CLI line and an admin token; the walk-through works; a second start prints no token but how to get one; --new-admin-token prints one that works', async () => {
    const first = await startDemo(fileEnv());
    try {
      expect(first.proc.output()).toContain('demo on file');
      expect(first.proc.output()).toContain(`data: ${dir} (encrypted; key in ${join(dir, 'secrets.key')})`);
      await walk(first);
    } finally {
      await first.stop();
    }
    const second = await startDemo(fileEnv());
    try {
      expect(second.token).toBeNull();
      expect(second.proc.output()).toContain('An admin token exists already');
      expect(second.proc.output()).toContain('npm start -- --new-admin-token');
      expect((await fetch(`${second.url}/api/hello`, bearer(first.token as string))).status).toBe(200);
    } finally {
      await second.stop();
    }
    const third = await startDemo(fileEnv(), ['--new-admin-token']);
    try {
      expect(third.token).toMatch(/^esa_/);
      expect(third.token).not.toBe(first.token);
      expect(await (await fetch(`${third.url}/api/hello`, bearer(third.token as string))).json()).toMatchObject({ scopes: ['admin'] });
    } finally {
      await third.stop();
    }
  }, 90_000);

  test('encrypted by default: a 0600 key in the data folder, every file sealed; the printed CLI line lists the tokens', async () => {
    const demo = await startDemo(fileEnv());
    try {
      await login(demo.url);
    } finally {
      await demo.stop();
    }
    expect((await stat(join(dir, 'secrets.key'))).mode & 0o777).toBe(0o600);
    const files = (await readdir(join(dir, 'secrets'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThanOrEqual(3); // app secret, token, session
    for (const f of files) {
      const text = await readFile(join(f.parentPath, f.name), 'utf8');
      expect(JSON.parse(text)).toHaveProperty('sealed');
      expect(text).not.toContain('bootstrap-admin');
    }
    const line = /CLI on this store: (.+)$/m.exec(demo.proc.output())?.[1] as string;
    expect(line).toContain('--config demo-app/config/file.yml');
    const key = (await readFile(join(dir, 'secrets.key'), 'utf8')).trim();
    const listed = execFileSync('sh', ['-c', line.replace('npx express-secrets-auth', `${JSON.stringify(process.execPath)} dist/cli.js`)], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(listed).toContain('bootstrap-admin');
    expect(listed).not.toContain(key);
  }, 60_000);

  test('with SECRETS_KEY set no key file is written, and the same key reads the data on the next start', async () => {
    const env = { ...fileEnv(), SECRETS_KEY: 'a passphrase of the operator, long enough' };
    const first = await startDemo(env);
    await first.stop();
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false);
    expect(first.proc.output()).toContain('(encrypted; key from SECRETS_KEY)');
    const second = await startDemo(env);
    try {
      expect((await fetch(`${second.url}/api/hello`, bearer(first.token as string))).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 60_000);

  test('a data folder written unencrypted (an older demo) is refused with what to do, in one line', async () => {
    await mkdir(join(dir, 'secrets', 'demo'), { recursive: true });
    await writeFile(join(dir, 'secrets', 'demo', 'app.json'), JSON.stringify({ esa: 1, version: 1, data: { session_secret: 'x' } }));
    const proc = boot([SERVER, '--port', '0'], fileEnv());
    expect(await exitCode(proc)).toBe(1);
    expect(proc.output().trim()).toBe(
      `demo: ${join(dir, 'secrets')} holds demo data written without encryption. Delete it (rm -rf ${join(dir, 'secrets')}) to start encrypted, or set DEMO_DATA_DIR to another folder.`,
    );
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false);
  }, 30_000);

  test('hardening: login rate limit, CSRF on login and logout, short plain error pages (413, bad charset, 404)', async () => {
    const demo = await startDemo(fileEnv());
    try {
      const page = await visit(demo.url);
      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${demo.url}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: page.cookies.join('; '), origin: demo.url, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
      const form = (fields: Record<string, string>) => new URLSearchParams({ _csrf: page.csrf, ...fields }).toString();

      // CSRF: no field, a wrong one, another site's Origin, or a cross-site fetch are all refused
      expect((await post('/login', new URLSearchParams({ username: 'demo', password: 'demo-password' }).toString())).status).toBe(403);
      expect((await post('/login', form({ username: 'demo', password: 'demo-password', _csrf: 'x'.repeat(43) }))).status).toBe(403);
      expect((await post('/login', form({ username: 'demo', password: 'demo-password' }), { origin: 'http://evil.example' })).status).toBe(403);
      expect((await post('/logout', form({}), { origin: '', 'sec-fetch-site': 'same-site' })).status).toBe(403);
      const loggedIn = await login(demo.url);
      const logoutWithoutField = await fetch(`${demo.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: loggedIn.cookies.join('; '), origin: demo.url },
      });
      expect(logoutWithoutField.status).toBe(403);
      expect((await visit(demo.url, loggedIn.cookies)).html).toContain('Hello, Demo Operator');

      // errors: short text, no stack trace, no path
      const big = await post('/login', form({ username: 'demo', password: 'p'.repeat(5_000) }));
      expect(big.status).toBe(413);
      const bigText = await big.text();
      expect(bigText).toBe('Request body too large.');
      const charset = await post('/login', form({ username: 'demo' }), { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' });
      expect(charset.status).toBe(415);
      expect(await charset.text()).toBe('Unsupported request body (content type or charset).');
      const missing = await fetch(`${demo.url}/no/such/page`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('Not found.');

      // 10 failed sign-ins a minute per client, then 429 without running bcrypt
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await post('/login', form({ username: 'demo', password: `wrong-${i}` }))).status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
      expect(statuses.slice(-2)).toEqual([429, 429]);
      expect(stackOrPaths(demo.proc.output(), ROOT)).toEqual([]);
    } finally {
      await demo.stop();
    }
  }, 60_000);
});

describeWith('openbao', 'demo app on OpenBao (VAULT_ADDR and VAULT_TOKEN set)', () => {
  test('the same walk-through works with sessions and tokens in OpenBao', async () => {
    const vault = sharedVault();
    const demo = await startDemo({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, PORT: '' });
    try {
      expect(demo.proc.output()).toContain('demo on vault');
      expect(demo.proc.output()).toContain('--config demo-app/config/vault.yml');
      await walk(demo);
    } finally {
      await demo.stop();
    }
  }, 60_000);
});

describeWith('openbao', 'npm run demo:vault (scripts/demo-vault.js)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('esa-demo-vault-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  test('OpenBao logs to a file; the terminal shows VAULT_ADDR/VAULT_TOKEN, the app URL and the admin token; both work', async () => {
    const baoPort = await freePort();
    const proc = boot([join(ROOT, 'scripts', 'demo-vault.js'), '--port', '0'], {
      DEMO_DATA_DIR: dir,
      BAO_PORT: String(baoPort),
      PORT: '',
      VAULT_ADDR: '',
      VAULT_TOKEN: '',
    });
    try {
      const [, address] = await waitFor(proc, /^\s+export VAULT_ADDR=(\S+)$/m, 60_000);
      const [, rootToken] = await waitFor(proc, /^\s+export VAULT_TOKEN=(\S+)$/m);
      const [, , url] = await waitFor(proc, STARTED);
      const [, token] = await waitFor(proc, TOKEN_LINE);
      expect(address).toBe(`http://127.0.0.1:${baoPort}`);
      expect(proc.output()).not.toContain('[INFO]');
      expect(await readFile(join(dir, 'openbao.log'), 'utf8')).toContain('[INFO]');
      const self = await fetch(`${address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': rootToken } });
      expect(self.status).toBe(200);
      expect((await fetch(`${url}/api/hello`, bearer(token))).status).toBe(200);
    } finally {
      await proc.stop();
    }
    expect(await exitCode(proc)).toBe(0);
  }, 90_000);

  test('the demo port taken under demo:vault: one clear line and exit 1, OpenBao stopped too', async () => {
    const held = await takenPort();
    const baoPort = await freePort();
    try {
      const proc = boot([join(ROOT, 'scripts', 'demo-vault.js')], {
        DEMO_DATA_DIR: dir,
        BAO_PORT: String(baoPort),
        PORT: String(held.port),
        VAULT_ADDR: '',
        VAULT_TOKEN: '',
      });
      expect(await exitCode(proc, 60_000)).toBe(1);
      expect(proc.output()).toContain(`demo: Port ${held.port} is in use; set PORT=`);
      expect(stackOrPaths(proc.output(), ROOT)).toEqual([]);
      // OpenBao went down with it
      await expect(fetch(`http://127.0.0.1:${baoPort}/v1/sys/health`)).rejects.toThrow();
    } finally {
      await held.release();
    }
  }, 90_000);
});
