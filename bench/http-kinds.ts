// `npm run bench:http-kinds`: what one request of each kind costs an app's server process, apart.
// The HTTP section mixes one sign-in with ten reads per connection loop; here each kind is driven
// alone: POST /login (a new session: regenerate, then one write) and GET /me with the cookie of one
// of 256 signed-in sessions (a read and a touch; signed in again right before each run, so a
// cache serves hits as in the mixed loop). Server CPU per request (user + system, and user alone),
// median of BENCH_KINDS_RUNS runs, interleaved.
import { cpus, loadavg } from 'node:os';
import { cookieOf, startServer, stopServer, type Usage, usageOf } from './http';
import { autocannon } from './lib/autocannon';
import { cleanupAll, createEnv } from './lib/servers';
import { median } from './lib/stats';
import { STORES } from './lib/stores';

const RUNS = Number(process.env.BENCH_KINDS_RUNS ?? 3);
const DURATION_S = Number(process.env.BENCH_KINDS_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_KINDS_CONNECTIONS ?? 16);
const APPS = (process.env.BENCH_KINDS_STORES ?? 'redis,memstore,esa-memory,esa-kv2-lazy').split(',');
const SESSIONS = 256;
const KINDS = ['login', 'me'] as const;
type Kind = (typeof KINDS)[number];

interface Sample {
  reqPerSec: number;
  cpuUs: number;
  userUs: number;
  failures: number;
}

/** Signs in `n` sessions; resolves with their cookies. */
async function signIn(url: string, n: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/login`, { method: 'POST' });
    if (!res.ok) throw new Error(`POST /login answered ${res.status}`);
    cookies.push(cookieOf(Object.fromEntries(res.headers)));
  }
  return cookies;
}

async function measure(url: string, kind: Kind, usage: () => Promise<Usage>): Promise<Sample> {
  let requests: Record<string, unknown>[] = [{ method: 'POST', path: '/login' }];
  if (kind === 'me') {
    const cookies = await signIn(url, SESSIONS);
    let next = 0;
    const setupRequest = (req: { headers?: Record<string, string> }) => ({ ...req, headers: { ...req.headers, cookie: cookies[next++ % SESSIONS] } });
    requests = [{ method: 'GET', path: '/me', setupRequest }];
  }
  const before = await usage();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests });
  const after = await usage();
  const n = Math.max(1, after.requests - before.requests);
  return {
    reqPerSec: r.requests.average,
    cpuUs: (after.cpuUs - before.cpuUs) / n,
    userUs: (after.userUs - before.userUs) / n,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const defs = APPS.map((id) => STORES.find((s) => s.id === id) ?? { id, label: id });
  const env = await createEnv(defs.some((d) => 'needsOpenBao' in d && d.needsOpenBao));
  const servers = await Promise.all(defs.map((d) => startServer(env, [d.id])));
  try {
    console.log(`# Server CPU per request, by kind (${CONNECTIONS} connections, ${DURATION_S} s x ${RUNS} runs)\n`);
    console.log(`${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load ${loadavg()[0].toFixed(2)} at the start.\n`);
    for (const [i, d] of defs.entries()) {
      const url = `http://127.0.0.1:${servers[i].ports[d.id]}`;
      await autocannon({ url, connections: CONNECTIONS, duration: 0.5, requests: [{ method: 'POST', path: '/login' }] }); // warm-up
    }
    const samples = new Map<string, Sample[]>();
    for (let run = 1; run <= RUNS; run++) {
      for (const [i, d] of defs.entries()) {
        for (const kind of KINDS) {
          const { child, ports } = servers[i];
          const sample = await measure(`http://127.0.0.1:${ports[d.id]}`, kind, () => usageOf(child));
          samples.set(`${d.id}|${kind}`, [...(samples.get(`${d.id}|${kind}`) ?? []), sample]);
        }
      }
    }
    const ref = (kind: Kind) => median((samples.get(`redis|${kind}`) ?? []).map((s) => s.cpuUs));
    console.log('| app | request | req/s | server CPU µs/req | of it user µs | CPU vs connect-redis | failures |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const d of defs) {
      for (const kind of KINDS) {
        const s = samples.get(`${d.id}|${kind}`)!;
        const cpu = median(s.map((x) => x.cpuUs));
        const vs = Number.isNaN(ref(kind)) ? 'n/a' : `${(cpu / ref(kind)).toFixed(2)}×`;
        const row = [
          d.label,
          kind === 'login' ? 'POST /login' : 'GET /me',
          fmt(median(s.map((x) => x.reqPerSec))),
          fmt(cpu),
          fmt(median(s.map((x) => x.userUs))),
          vs,
        ];
        console.log(`| ${row.join(' | ')} | ${s.reduce((n, x) => n + x.failures, 0)} |`);
      }
    }
  } finally {
    for (const { child } of servers) await stopServer(child);
    await cleanupAll();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
