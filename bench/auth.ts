// `npm run bench:auth`: what bearer-token auth costs an Express app. Prints requests/s for no auth,
// a static token, a stored token (warm: verified once, then served from the in-process verify
// cache) and a stored token with the verify cache off (bcrypt on every request, cost 10 and 12),
// with ratios to no auth, and the first-use cost of a stored token (one backend read plus one
// bcrypt compare at the default cost 10).
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createMemoryProvider } from '../lib/providers/memory';
import { TokenStore } from '../lib/tokens/store';
import type { AuthServerReady } from './auth-server';
import { autocannon } from './lib/autocannon';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const FIRST_USE_TOKENS = 20;

function startServer(): Promise<{ child: ChildProcess; ready: AuthServerReady }> {
  const child = fork(join(__dirname, 'auth-server.ts'), [], {
    execArgv: [
      '-r',
      'ts-node/register/transpile-only',
      ...(process.env.BENCH_AUTH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_AUTH_PROF}`] : []),
    ],
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('message', (ready) => resolve({ child, ready: ready as AuthServerReady }));
    child.once('exit', (code) => reject(new Error(`bench server exited early (${code})`)));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (msg) => resolve((msg as { cpuMicros: number }).cpuMicros));
    child.send('cpu');
  });
}

interface Sample {
  rps: number;
  p99: number;
  /** Server CPU (user + system) per request, in µs. */
  cpuPerReq: number;
}

async function load(child: ChildProcess, url: string, token: string | null, durationS: number): Promise<Sample> {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const cpuBefore = await serverCpu(child);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: durationS, headers });
  const cpu = (await serverCpu(child)) - cpuBefore;
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures) throw new Error(`${url}: ${failures} failed requests (non-2xx, errors or timeouts)`);
  return { rps: result.requests.average, p99: result.latency.p99, cpuPerReq: cpu / result.requests.total };
}

async function httpRows(): Promise<{ label: string; rps: number; p99: number; cpuPerReq: number }[]> {
  const { child, ready } = await startServer();
  const base = `http://127.0.0.1:${ready.port}`;
  const scenarios = [
    { label: 'no auth', url: `${base}/none`, token: null },
    { label: 'floor: sets req.auth', url: `${base}/floor`, token: null },
    { label: 'static token', url: `${base}/static`, token: ready.staticToken },
    { label: 'stored token (warm)', url: `${base}/stored`, token: ready.storedToken },
    { label: 'no verify cache, bcrypt 10', url: `${base}/uncached10`, token: ready.uncached10Token },
    { label: 'no verify cache, bcrypt 12', url: `${base}/uncached12`, token: ready.uncached12Token },
  ];
  try {
    for (const s of scenarios) await load(child, s.url, s.token, 1); // warm-up: JIT, and the verify cache
    const samples = new Map(scenarios.map((s) => [s.label, [] as Sample[]]));
    for (let round = 0; round < ROUNDS; round++) {
      // Interleaved rounds, so drift (thermal, neighbours) hits every scenario alike.
      // Rotating order too, so no scenario always runs first.
      for (let i = 0; i < scenarios.length; i++) {
        const s = scenarios[(i + round) % scenarios.length];
        samples.get(s.label)?.push(await load(child, s.url, s.token, DURATION_S));
      }
    }
    return scenarios.map((s) => {
      const runs = samples.get(s.label) ?? [];
      return {
        label: s.label,
        rps: median(runs.map((r) => r.rps)),
        p99: median(runs.map((r) => r.p99)),
        cpuPerReq: median(runs.map((r) => r.cpuPerReq)),
      };
    });
  } finally {
    child.disconnect();
    child.kill();
  }
}

async function firstUse(): Promise<{ msPerVerify: number; p50: number }> {
  const store = new TokenStore({ provider: createMemoryProvider() });
  const tokens = [];
  for (let i = 0; i < FIRST_USE_TOKENS; i++) tokens.push((await store.create({ name: `t${i}` })).token);
  const times: number[] = [];
  for (const token of tokens) {
    const start = process.hrtime.bigint();
    if (!(await store.verify(token))) throw new Error('first-use verify failed');
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await store.close();
  return { msPerVerify: times.reduce((a, b) => a + b, 0) / times.length, p50: median(times) };
}

async function main(): Promise<void> {
  console.log(
    `bench:auth — Node ${process.version}, ${cpus().length} CPUs, autocannon ${CONNECTIONS} connections, ` +
      `${DURATION_S} s x ${ROUNDS} interleaved rounds (median), server in its own process, Express 5\n`,
  );
  const before = loadavg()[0];
  const rows = await httpRows();
  const baseline = rows[0].rps;
  const pad = (s: string, n: number) => s.padEnd(n);
  const baseCpu = rows[0].cpuPerReq;
  console.log(`${pad('scenario', 28)}${pad('req/s', 9)}${pad('vs no auth', 12)}${pad('p99 ms', 8)}${pad('server CPU µs/req', 19)}capacity vs no auth`);
  for (const r of rows) {
    console.log(
      `${pad(r.label, 28)}${pad(r.rps.toFixed(0), 9)}${pad((r.rps / baseline).toFixed(3), 12)}${pad(String(r.p99), 8)}` +
        `${pad(r.cpuPerReq.toFixed(1), 19)}${(baseCpu / r.cpuPerReq).toFixed(3)}`,
    );
  }
  console.log('(capacity = no-auth CPU per request / this CPU per request: the req/s ratio a CPU-bound server would see)');
  const fu = await firstUse();
  console.log(`\nfirst use of a stored token (memory provider read + bcrypt cost 10), ${FIRST_USE_TOKENS} tokens one after another:`);
  console.log(
    `  ${fu.msPerVerify.toFixed(1)} ms per verify (mean), ${fu.p50.toFixed(1)} ms median; later uses hit the verify cache for verifyCacheTtlMs (60 s)`,
  );
  console.log(`\nload average (1 min) before/after: ${before.toFixed(2)} / ${loadavg()[0].toFixed(2)} — other load on the machine skews req/s`);
  const warm = rows[3].rps / baseline;
  const warmCpu = baseCpu / rows[3].cpuPerReq;
  console.log(
    `\nwarm stored token vs no auth (target: within 10%): req/s ${((1 - warm) * 100).toFixed(1)}% lower -> ${warm >= 0.9 ? 'OK' : 'MISSED'}; ` +
      `capacity ${((1 - warmCpu) * 100).toFixed(1)}% lower -> ${warmCpu >= 0.9 ? 'OK' : 'MISSED'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
