// Section 3: requests/s and p99 of an Express app with express-session per store, driven by
// autocannon. Every connection loops: POST /login (new session), then 10 x GET /me with its cookie.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { NO_SESSION } from './http-server';
import { type AutocannonResult, autocannon } from './lib/autocannon';
import type { BenchEnv } from './lib/servers';
import { median } from './lib/stats';
import type { StoreDef } from './lib/stores';

export interface HttpConfig {
  runs: number;
  durationS: number;
  connections: number;
  /** Write CPU profiles of the server process to this folder. */
  profileDir?: string;
}

export interface HttpRow {
  store: string;
  label: string;
  reqPerSec: number;
  /** The app's server process: CPU time (user + system) per request answered, µs. */
  serverCpuUs: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over runs: non-2xx answers, socket errors and timeouts (should all be 0). */
  failures: number;
  requests: number;
  samples: number;
}

const READS_PER_LOGIN = 10;

export function cookieOf(headers: Record<string, unknown>): string {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie');
  const value = key ? headers[key] : undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.split(';')[0] : '';
}

const requests = [
  {
    method: 'POST',
    path: '/login',
    onResponse: (_status: number, _body: string, context: Record<string, string>, headers: Record<string, unknown>) => {
      context.cookie = cookieOf(headers);
    },
  },
  ...Array.from({ length: READS_PER_LOGIN }, () => ({
    method: 'GET',
    path: '/me',
    setupRequest: (req: { headers?: Record<string, string> }, context: Record<string, string>) => ({
      ...req,
      headers: { ...req.headers, cookie: context.cookie },
    }),
  })),
];

export function startServer(env: BenchEnv, ids: string[], profileDir?: string): Promise<{ child: ChildProcess; ports: Record<string, number> }> {
  const execArgv = ['-r', 'ts-node/register/transpile-only'];
  if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const child = fork(join(__dirname, 'http-server.ts'), [], {
    execArgv,
    env: { ...process.env, BENCH_ENV: JSON.stringify(env), BENCH_STORES: ids.join(',') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`HTTP server process exited (${code}) before it was ready`)));
    child.once('message', (msg: { ports?: Record<string, number>; error?: string }) => {
      if (msg.ports) resolve({ child, ports: msg.ports });
      else reject(new Error(`HTTP server process failed: ${msg.error}`));
    });
  });
}

export interface Usage {
  /** CPU time (user + system) of the server process so far, µs. */
  cpuUs: number;
  /** Of it, user time. */
  userUs: number;
  requests: number;
}

/** The server process's CPU time and requests answered so far. */
export function usageOf(child: ChildProcess): Promise<Usage> {
  return new Promise((resolve) => {
    const onMessage = (msg: { usage?: Usage }) => {
      if (!msg.usage) return;
      child.off('message', onMessage);
      resolve(msg.usage);
    };
    child.on('message', onMessage);
    child.send('usage');
  });
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function benchHttp(env: BenchEnv, stores: StoreDef[], cfg: HttpConfig, log: (s: string) => void): Promise<HttpRow[]> {
  // One server process per app (the ceiling's has no store): each measured on its own heap, as an app runs.
  const started = await Promise.allSettled([[], ...stores.map((s) => [s.id])].map((ids) => startServer(env, ids, cfg.profileDir)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  /** Each app's server: its process and port. */
  const serverOf = new Map(servers.flatMap(({ child, ports }) => Object.entries(ports).map(([id, port]) => [id, { child, port }] as const)));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const targets = [{ id: NO_SESSION, label: 'no session (ceiling)' }, ...stores.map((s) => ({ id: s.id, label: s.label }))];
    const results = new Map<string, AutocannonResult[]>();
    const cpuPerRequest = new Map<string, number[]>();
    for (const t of targets) {
      // Warm-up: JIT, connection pools, first mount access.
      await autocannon({ url: `http://127.0.0.1:${serverOf.get(t.id)!.port}`, connections: cfg.connections, duration: 0.5, requests });
    }
    for (let run = 1; run <= cfg.runs; run++) {
      const t0 = Date.now();
      for (const t of targets) {
        const { child, port } = serverOf.get(t.id)!;
        const before = await usageOf(child);
        const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections: cfg.connections, duration: cfg.durationS, requests });
        const after = await usageOf(child);
        results.set(t.id, [...(results.get(t.id) ?? []), r]);
        cpuPerRequest.set(t.id, [...(cpuPerRequest.get(t.id) ?? []), (after.cpuUs - before.cpuUs) / Math.max(1, after.requests - before.requests)]);
      }
      log(`  http: run ${run}/${cfg.runs} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return targets.map((t) => {
      const rs = results.get(t.id)!;
      return {
        store: t.id,
        label: t.label,
        reqPerSec: median(rs.map((r) => r.requests.average)),
        serverCpuUs: median(cpuPerRequest.get(t.id)!),
        p50Ms: median(rs.map((r) => r.latency.p50)),
        p99Ms: median(rs.map((r) => r.latency.p99)),
        failures: rs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
        requests: rs.reduce((n, r) => n + r.requests.total, 0),
        samples: rs.length,
      };
    });
  } finally {
    for (const { child } of servers) await stopServer(child);
  }
}
