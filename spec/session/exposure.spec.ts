// A session id is a bearer credential: it must never be part of a storage key, since keys are not
// secret (Vault/OpenBao request URLs, which audit devices log in clear while HMACing data; file
// names on the file provider). A full express-session life cycle — login, read, touch, save,
// maxAge change, ids/all/length, sweep, regenerate, logout, clear — runs on each backend, and the
// ids it handed out (the cookies' unsigned values) are looked for in every key, path and log line.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from 'express-session';
import request from 'supertest';
import { createFileProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { sidDigest } from '../../lib/session/key';
import { binaryPath, describeWith } from '../support/components';
import { baoRequest, freePort } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { express4, sessionApp, sessionCookie } from './app';
import { openbaoProvider } from './backends';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

/** The session id inside a `connect.sid=s%3A<sid>.<signature>` pair (express-session's signed cookie). */
function unsignedSid(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('connect.sid='.length));
  expect(value.startsWith('s:')).toBe(true);
  return value.slice(2, value.lastIndexOf('.'));
}

/**
 * Drives `store` through express-session (express 4, as in the quick start) and the store's own
 * scans. Returns every id handed out, each checked against its cookie, and checks after each step
 * that `keysNow()` (the backend's stored key names) never holds one.
 */
async function lifeCycle(store: SecretsSessionStore, keysNow: () => Promise<string[]>): Promise<string[]> {
  const app = sessionApp(express4, store as unknown as Store);
  const sids: string[] = [];
  const assertNoSidInKeys = async () => {
    const keys = await keysNow();
    expect(keys.length).toBeGreaterThan(0);
    for (const sid of sids) for (const key of keys) expect(key).not.toContain(sid);
  };

  const agents = [request.agent(app), request.agent(app)];
  for (const [i, agent] of agents.entries()) {
    const login = await agent.post(`/login-and-save?user=user${i}`).expect(200);
    const sid = unsignedSid(sessionCookie(login) as string);
    expect(sid).toBe(login.body.sid);
    expect(sid.length).toBeGreaterThanOrEqual(24); // express-session's uid-safe ids
    sids.push(sid);
  }
  await assertNoSidInKeys();
  expect((await keysNow()).sort()).toEqual(sids.map((sid) => `sess:${sidDigest(sid)}`).sort());

  const [alice] = agents;
  await alice.get('/me').expect(200, { user: 'user0', sid: sids[0] }); // get + touch (rolling)
  await alice.post('/count').expect(200, { n: 1 }); // set
  await alice.post('/maxage?ms=120000').expect(200); // touch that writes
  expect((await store.ids()).sort()).toEqual([...sids].sort()); // the real ids, read from the records
  expect((await store.all()).map((s) => s.id).sort()).toEqual([...sids].sort());
  expect(await store.length()).toBe(2);
  expect(await store.sweep()).toEqual({ scanned: 2, deleted: 0 });
  const regenerated = await alice.post('/regenerate').expect(200);
  sids.push(regenerated.body.sid);
  expect(await store.get(sids[0])).toBeNull();
  await assertNoSidInKeys();
  await alice.post('/logout').expect(200);
  await assertNoSidInKeys();
  await store.clear();
  expect(await keysNow()).toEqual([]);
  return sids;
}

describe('session ids never appear in storage keys: file provider', () => {
  test('no file or folder name under basePath contains a session id', async () => {
    const dir = await tempDir('esa-sid-exposure-');
    try {
      const provider = createFileProvider({ basePath: dir, fsync: false });
      const store = new SecretsSessionStore({ provider, path: 'app/sessions', cleanupIntervalMs: 0 });
      const names = async () => (await readdir(join(dir, 'app', 'sessions')).catch(() => [] as string[])).map((f) => f.replace(/\.json$/, ''));
      const sids = await lifeCycle(store, names);
      const everything = await readdir(dir, { recursive: true });
      for (const sid of sids) for (const name of everything) expect(name).not.toContain(sid);
      await store.close();
    } finally {
      await removeTempDir(dir);
    }
  });
});

describeWith('openbao', 'session ids never appear in storage keys or HTTP paths: OpenBao', () => {
  test('a raw LIST of the session folder on the shared server shows only hashes', async () => {
    const { address, token } = sharedVault();
    const path = uniquePrefix('sid-exposure');
    const provider = openbaoProvider();
    const store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 });
    const list = async () => {
      const res = await baoRequest<{ data: { keys: string[] } }>(address, token, 'LIST', `secret/metadata/${path}/`);
      return res.status === 404 ? [] : (res.body?.data.keys ?? []);
    };
    await lifeCycle(store, list);
    await store.close();
    await provider.close();
  });

  // OpenBao 2.x refuses to enable audit devices over the API ("use declarative, config-based audit
  // device management"), so this one runs a dev server of its own with a file audit device in its
  // config; stopping the server removes the device.
  describe('with a file audit device', () => {
    let server: AuditedServer;
    beforeAll(async () => {
      server = await startAuditedDevServer();
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    });

    test('no request path and no audit log line contains a session id; the data holding it is HMACed', async () => {
      const { address, token, auditLog } = server;
      const mounts = await baoRequest<{ data: Record<string, { type: string }> }>(address, token, 'GET', 'sys/audit');
      expect(mounts.body?.data['spec/']?.type).toBe('file');
      const provider: SecretProvider = createVaultProvider({ address, auth: { method: 'token', token }, mount: 'secret', kvVersion: 2 });
      const path = 'app/sessions';
      const store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 });
      const list = async () => {
        const res = await baoRequest<{ data: { keys: string[] } }>(address, token, 'LIST', `secret/metadata/${path}/`);
        return res.status === 404 ? [] : (res.body?.data.keys ?? []);
      };
      const sids = await lifeCycle(store, list);
      await store.close();
      await provider.close();

      const log = await readFile(auditLog, 'utf8');
      const entries = log
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; request?: { path?: string; operation?: string; data?: { data?: { sid?: unknown } } } });
      const paths = entries.map((e) => e.request?.path ?? '');
      for (const sid of sids) {
        expect(log).not.toContain(sid);
        // The log did record this session's requests, under its hash.
        expect(paths.some((p) => p === `secret/data/${path}/sess:${sidDigest(sid)}`)).toBe(true);
      }
      // Each write carried the id in its data, which the audit device logged only as an HMAC.
      const writes = entries.filter(
        (e) => e.type === 'request' && ['create', 'update'].includes(e.request?.operation ?? '') && e.request?.path?.startsWith(`secret/data/${path}/`),
      );
      expect(writes.length).toBeGreaterThanOrEqual(sids.length + 2); // + the save of /count and the touch of /maxage
      for (const w of writes) expect(w.request?.data?.data?.sid).toMatch(/^hmac-sha256:/);
      console.log(`audit log: ${entries.length} entries, ${writes.length} session writes, ${sids.length} session ids, none in clear`);
    });
  });
});

interface AuditedServer {
  address: string;
  token: string;
  auditLog: string;
  stop(): Promise<void>;
}

// Inside a spec file Jest hands out a copy of `process` whose 'exit' event never fires; a function
// built by a core module realm's Function constructor sees the real one (as spec/support/openbao.ts).
const realProcess = (spawn.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

/** `bao server -dev` on a free port with a file audit device declared in its config. */
async function startAuditedDevServer(): Promise<AuditedServer> {
  const bao = binaryPath('bao') as string;
  const dir = await tempDir('esa-audit-');
  const auditLog = join(dir, 'audit.log');
  const config = join(dir, 'audit.hcl');
  await writeFile(config, `audit "file" "spec" {\n  options = {\n    file_path = ${JSON.stringify(auditLog)}\n  }\n}\n`);
  const port = await freePort();
  const token = `root-${randomBytes(16).toString('hex')}`;
  const address = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bao,
    ['server', '-dev', '-dev-no-store-token', `-dev-root-token-id=${token}`, `-dev-listen-address=127.0.0.1:${port}`, `-config=${config}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const kill = () => child.kill('SIGKILL');
  realProcess.once('exit', kill);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    }
    realProcess.removeListener('exit', kill);
    await removeTempDir(dir);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await fetch(`${address}/v1/sys/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return { address, token, auditLog, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`OpenBao dev server with an audit device did not start (health ${status}). Output:\n${output}`);
    }
    await sleep(50);
  }
}
