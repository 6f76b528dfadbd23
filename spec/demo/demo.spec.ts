// Boots the demo app as a child process, as a newcomer would, and walks it over real HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith } from '../support/components';
import { sharedVault } from '../support/vault';

const SERVER = join(__dirname, '..', '..', 'demo-app', 'server.js');

interface Demo {
  url: string;
  output: () => string;
  token: string | null;
  stop(): Promise<void>;
}

async function startDemo(env: NodeJS.ProcessEnv): Promise<Demo> {
  const child: ChildProcess = spawn(process.execPath, [SERVER, '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 20_000;
  while (!/demo on \w+: (http:\/\/\S+)/.test(out) || (out.includes('Bootstrap') && !/esa_\S+/.test(out))) {
    if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`demo did not start within 20 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100)); // let the bootstrap lines arrive
  const url = (/demo on \w+: (http:\/\/\S+)/.exec(out) as RegExpExecArray)[1];
  return {
    url,
    output: () => out,
    token: /^\s+(esa_\S+)$/m.exec(out)?.[1] ?? null,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function walk(demo: Demo): Promise<void> {
  const json = (token: string, init: RequestInit = {}) => ({
    ...init,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
  expect(demo.token).toMatch(/^esa_/);
  const token = demo.token as string;

  // log in with the demo user; the session cookie then opens the home page
  const login = await fetch(`${demo.url}/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ username: 'demo', password: 'demo-password' }) });
  expect(login.status).toBe(303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  expect(cookie).toMatch(/^demo\.sid=/);
  expect(await (await fetch(demo.url, { headers: { cookie } })).text()).toContain('Hello, Demo Operator');
  const wrong = await fetch(`${demo.url}/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ username: 'demo', password: 'nope' }) });
  expect(wrong.status).toBe(401);

  // the API with the bootstrap token, and without one
  expect(await (await fetch(`${demo.url}/api/hello`, json(token))).json()).toEqual({ hello: 'bootstrap-admin', scopes: ['admin'] });
  expect((await fetch(`${demo.url}/api/hello`)).status).toBe(401);

  // create a token through the admin API, then use it
  const created = await fetch(`${demo.url}/api/v2/auth/tokens`, json(token, { method: 'POST', body: JSON.stringify({ name: 'made in the demo spec', scopes: ['read'] }) }));
  expect(created.status).toBe(201);
  const made = (await created.json()) as { token: string };
  expect(await (await fetch(`${demo.url}/api/hello`, json(made.token))).json()).toEqual({ hello: 'made in the demo spec', scopes: ['read'] });
  // a read-scoped token is not an admin
  expect((await fetch(`${demo.url}/api/v2/auth/tokens`, json(made.token))).status).toBe(403);
  // the signed-in session may manage tokens too (the demo's guard)
  expect((await fetch(`${demo.url}/api/v2/auth/tokens`, { headers: { cookie } })).status).toBe(200);
}

describe('demo app on the file provider (npm start)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(join(__dirname, '..', '..', 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build`');
    dir = await mkdtemp(join(tmpdir(), 'esa-demo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('first start prints the URL and a bootstrap token; the walk-through works; a restart keeps everything and prints no token', async () => {
    const env = { DEMO_DATA_DIR: dir, VAULT_ADDR: '', VAULT_TOKEN: '' };
    const first = await startDemo(env);
    try {
      expect(first.output()).toContain('demo on file');
      await walk(first);
    } finally {
      await first.stop();
    }
    const second = await startDemo(env);
    try {
      expect(second.token).toBeNull();
      expect(second.output()).not.toContain('Bootstrap');
      const res = await fetch(`${second.url}/api/hello`, { headers: { Authorization: `Bearer ${first.token}` } });
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describeWith('openbao', 'demo app on OpenBao (VAULT_ADDR and VAULT_TOKEN set)', () => {
  test('the same walk-through works with sessions and tokens in OpenBao', async () => {
    const vault = sharedVault();
    const demo = await startDemo({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token });
    try {
      expect(demo.output()).toContain('demo on vault');
      await walk(demo);
    } finally {
      await demo.stop();
    }
  }, 60_000);
});
