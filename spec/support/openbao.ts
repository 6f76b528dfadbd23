// Real OpenBao servers for specs: an in-memory dev server, a persistent (raft) server that can be
// initialised, sealed and restarted, and small HTTP helpers (mounts, policies, tokens, AppRole).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { binaryPath } from './components';
import { removeTempDir, tempDir } from './temp-dir';
import { sleep } from './sleep';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Child processes that die with us
// ---------------------------------------------------------------------------------------------

// Inside a spec file Jest hands out a copy of `process` whose 'exit' event never fires. A function
// built by the Function constructor of a core module's realm sees the real process object.
const realProcess = (spawn.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

const running = new Set<ChildProcess>();
const killAll = (): void => {
  for (const child of running) child.kill('SIGKILL');
};

function track(child: ChildProcess): void {
  if (running.size === 0) realProcess.on('exit', killAll);
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) realProcess.removeListener('exit', killAll);
  });
}

interface BaoProcess {
  child: ChildProcess;
  /** Last lines the server wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<string>;
}

function baoBinary(): string {
  const bao = binaryPath('bao');
  if (!bao) {
    throw new Error('OpenBao binary `bao` not found on PATH or in .tools/openbao: run `node scripts/provision.js`');
  }
  return bao;
}

function spawnBao(args: string[]): BaoProcess {
  const child = spawn(baoBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(signal ?? String(code)));
  });
  // Neither the server nor its pipes keep the event loop (and so Jest) alive.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void })?.unref?.();
  return { child, exited, tail: () => lines.slice(-15).join('\n') };
}

async function stopProcess(proc: BaoProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await proc.exited;
  clearTimeout(timer);
}

/** A TCP port that was free a moment ago (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls `address + path` until `accept(status)` or the process exits or the timeout passes. */
async function waitFor(proc: BaoProcess, address: string, path: string, accept: (status: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no response';
  let exitedWith: string | null = null;
  void proc.exited.then((code) => {
    exitedWith = code;
  });
  while (Date.now() < deadline) {
    if (exitedWith !== null) {
      throw new Error(`OpenBao exited (${exitedWith}) while waiting for ${what}. Last output:\n${proc.tail()}`);
    }
    try {
      const res = await fetch(address + path, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`OpenBao at ${address} not ready (${what}) after ${START_TIMEOUT_MS / 1000} s (last: ${last}). Last output:\n${proc.tail()}`);
}

// ---------------------------------------------------------------------------------------------
// Dev server
// ---------------------------------------------------------------------------------------------

export interface DevServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly address: string;
  readonly rootToken: string;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** `bao server -dev` on a free port with a random root token: in memory, unsealed, KV v2 at `secret/`. */
export async function startDevServer(opts: { rootToken?: string; port?: number } = {}): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const rootToken = opts.rootToken ?? `root-${randomBytes(16).toString('hex')}`;
  const address = `http://127.0.0.1:${port}`;
  const proc = spawnBao([
    'server',
    '-dev',
    '-dev-no-store-token', // don't write ~/.vault-token
    `-dev-root-token-id=${rootToken}`,
    `-dev-listen-address=127.0.0.1:${port}`,
  ]);
  try {
    await waitFor(proc, address, '/v1/sys/health', (s) => s === 200, 'GET /v1/sys/health = 200');
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { address, rootToken, stop: () => stopProcess(proc) };
}

// ---------------------------------------------------------------------------------------------
// Persistent server (raft storage in a folder; OpenBao 2.x has no "file" storage backend)
// ---------------------------------------------------------------------------------------------

export interface PersistentServer {
  readonly address: string;
  readonly dataDir: string;
  /** Set by init(). */
  rootToken?: string;
  /** Set by init(). */
  unsealKey?: string;
  /** POST /v1/sys/init with 1 share / threshold 1. The server stays sealed. */
  init(): Promise<{ rootToken: string; unsealKey: string }>;
  /** Unseals (with init()'s key by default) and waits until the node is active (health 200). */
  unseal(key?: string): Promise<void>;
  /** Seals (with init()'s root token by default). */
  seal(token?: string): Promise<void>;
  /** Stops the process; the data stays. */
  stop(): Promise<void>;
  /** Stop, then start again on the same port and data folder. Comes back sealed. */
  restart(): Promise<void>;
  /** Stop and delete the data folder if startPersistentServer created it. */
  destroy(): Promise<void>;
}

/**
 * `bao server -config` with raft storage in `dataDir` (a fresh temp folder by default) and a plain
 * HTTP listener on a free port. Resolves once the API answers; the server starts uninitialised
 * (or sealed, for an existing dataDir).
 */
export async function startPersistentServer(opts: { dataDir?: string } = {}): Promise<PersistentServer> {
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await tempDir('esa-bao-'));
  const [port, clusterPort] = await twoFreePorts();
  const address = `http://127.0.0.1:${port}`;
  const configFile = join(dataDir, 'server.hcl');
  await writeFile(
    configFile,
    [
      // performance_multiplier 1 makes raft elect itself in ~1 s instead of ~7 s.
      `storage "raft" {\n  path = ${JSON.stringify(dataDir)}\n  node_id = "esa-test"\n  performance_multiplier = 1\n}`,
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  cluster_address = "127.0.0.1:${clusterPort}"\n  tls_disable = true\n}`,
      `api_addr = "${address}"`,
      `cluster_addr = "http://127.0.0.1:${clusterPort}"`,
      'ui = false',
      '',
    ].join('\n'),
  );

  let proc: BaoProcess | null = null;
  const start = async (): Promise<void> => {
    const p = spawnBao(['server', `-config=${configFile}`]);
    proc = p;
    await waitFor(p, address, '/v1/sys/seal-status', (s) => s === 200, 'the API to answer');
  };
  const stop = async (): Promise<void> => {
    if (proc) await stopProcess(proc);
  };

  const server: PersistentServer = {
    address,
    dataDir,
    async init() {
      const body = await api<{ root_token: string; keys_base64: string[] }>(address, undefined, 'POST', 'sys/init', {
        secret_shares: 1,
        secret_threshold: 1,
      });
      server.rootToken = body.root_token;
      server.unsealKey = body.keys_base64[0]!;
      return { rootToken: server.rootToken, unsealKey: server.unsealKey };
    },
    async unseal(key = server.unsealKey) {
      if (!key) throw new Error('unseal(): no key given and init() was not called on this server');
      await api(address, undefined, 'POST', 'sys/unseal', { key });
      if (!proc) throw new Error('unseal(): server is not running');
      await waitFor(proc, address, '/v1/sys/health', (s) => s === 200, 'active after unseal (health 200)');
    },
    async seal(token = server.rootToken) {
      if (!token) throw new Error('seal(): no token given and init() was not called on this server');
      await api(address, token, 'POST', 'sys/seal');
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      await stop();
      if (ownsDir) await removeTempDir(dataDir);
    },
  };

  try {
    await start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

async function twoFreePorts(): Promise<[number, number]> {
  for (;;) {
    const a = await freePort();
    const b = await freePort();
    if (a !== b) return [a, b];
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP API helpers (plain fetch)
// ---------------------------------------------------------------------------------------------

export interface ApiResponse<T = unknown> {
  status: number;
  /** Parsed JSON, or null for an empty body (204). */
  body: T | null;
}

/** One raw API call: `path` is relative to /v1/. Never throws on HTTP status. */
export async function baoRequest<T = unknown>(
  address: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (token) headers['X-Vault-Token'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${address}/v1/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : null };
}

/** Like baoRequest but returns the body and throws (method, path, status, errors) unless 2xx. */
async function api<T = unknown>(address: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<T> {
  const res = await baoRequest<T & { errors?: string[] }>(address, token, method, path, body);
  if (res.status < 200 || res.status > 299) {
    const errors = res.body?.errors?.join('; ') ?? '';
    throw new Error(`OpenBao ${method} /v1/${path} -> ${res.status} ${errors}`.trim());
  }
  return res.body as T;
}

/** Mounts a KV version 1 engine at `mountPath`. */
export async function enableKvV1(address: string, token: string, mountPath: string): Promise<void> {
  await api(address, token, 'POST', `sys/mounts/${mountPath}`, { type: 'kv', options: { version: '1' } });
}

/** Mounts a KV version 2 engine at `mountPath`. */
export async function enableKvV2(address: string, token: string, mountPath: string): Promise<void> {
  await api(address, token, 'POST', `sys/mounts/${mountPath}`, { type: 'kv', options: { version: '2' } });
}

/** Creates or replaces the ACL policy `name` (HCL text). */
export async function writePolicy(address: string, token: string, name: string, policy: string): Promise<void> {
  await api(address, token, 'PUT', `sys/policies/acl/${name}`, { policy });
}

/** Creates a token with these policies (no `default` policy unless listed) and returns it. */
export async function createToken(address: string, rootToken: string, policies: string[], opts: { ttl?: string } = {}): Promise<string> {
  const body = await api<{ auth: { client_token: string } }>(address, rootToken, 'POST', 'auth/token/create', {
    policies,
    no_default_policy: !policies.includes('default'),
    ttl: opts.ttl ?? '1h',
  });
  return body.auth.client_token;
}

export interface AppRoleCredentials {
  role_id: string;
  secret_id: string;
  /** Auth mount path, e.g. "approle" (login is POST /v1/auth/<mount_path>/login). */
  mount_path: string;
  role_name: string;
}

/**
 * Enables AppRole at `mountPath` (default "approle"; an existing mount is reused), creates role
 * `roleName` (random by default) issuing tokens with `policies`, and returns a role_id/secret_id.
 */
export async function enableAppRole(
  address: string,
  rootToken: string,
  opts: { policies: string[]; mountPath?: string; roleName?: string; tokenTtl?: string },
): Promise<AppRoleCredentials> {
  const mountPath = opts.mountPath ?? 'approle';
  const roleName = opts.roleName ?? `role-${randomBytes(6).toString('hex')}`;
  const mounts = await api<Record<string, unknown>>(address, rootToken, 'GET', 'sys/auth');
  if (!(`${mountPath}/` in mounts)) {
    await api(address, rootToken, 'POST', `sys/auth/${mountPath}`, { type: 'approle' });
  }
  await api(address, rootToken, 'POST', `auth/${mountPath}/role/${roleName}`, {
    token_policies: opts.policies,
    token_ttl: opts.tokenTtl ?? '1h',
  });
  const role = await api<{ data: { role_id: string } }>(address, rootToken, 'GET', `auth/${mountPath}/role/${roleName}/role-id`);
  const secret = await api<{ data: { secret_id: string } }>(address, rootToken, 'POST', `auth/${mountPath}/role/${roleName}/secret-id`);
  return { role_id: role.data.role_id, secret_id: secret.data.secret_id, mount_path: mountPath, role_name: roleName };
}

/** Logs in with AppRole credentials and returns the client token. */
export async function appRoleLogin(address: string, creds: Pick<AppRoleCredentials, 'role_id' | 'secret_id' | 'mount_path'>): Promise<string> {
  const body = await api<{ auth: { client_token: string } }>(address, undefined, 'POST', `auth/${creds.mount_path}/login`, {
    role_id: creds.role_id,
    secret_id: creds.secret_id,
  });
  return body.auth.client_token;
}
