// `npm run bench:ha`: the Vault provider on a real 3-node OpenBao Raft cluster on loopback
// (spec/support/openbao-cluster.ts). Prints uncached `get` throughput with `consistency: 'eventual'`
// (reads spread over the three nodes) against `'strong'` (every read answered by the active node)
// on the same cluster, alternating rounds, with the ratio; and what a login costs on KV v2 in Vault
// requests (a new session's `set`, a token's `create`). One run on this machine; the cluster's
// three servers share its cores with the bench, so the ratio is a floor for separate hosts.
import { cpus, loadavg } from 'node:os';
import { createVaultProvider, type VaultProvider } from '../lib/providers/vault';
import { SecretsSessionStore } from '../lib/session/store';
import { TokenStore } from '../lib/tokens/store';
import { startCluster } from '../spec/support/openbao-cluster';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 3) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 32);
const KEYS = 200;
const LOGINS = 50;

interface Round {
  gets: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
}

const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
};
const median = (xs: number[]): number => quantile(xs, 0.5);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** CONCURRENCY callers, each getting the next key as soon as the last get answered, for DURATION_MS. */
async function getLoad(provider: VaultProvider, prefix: string): Promise<Round> {
  const latencies: number[] = [];
  const end = Date.now() + DURATION_MS;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        const entry = await provider.get(`${prefix}/k${next++ % KEYS}`);
        if (!entry) throw new Error('bench: a key written before the run is missing');
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { gets: latencies.length, perSecond: latencies.length / seconds, p50Us: quantile(latencies, 0.5), p99Us: quantile(latencies, 0.99) };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const cluster = await startCluster();
  const clusterStartMs = Date.now() - startedAt;
  const make = (consistency: 'strong' | 'eventual') =>
    createVaultProvider({ addresses: cluster.addresses, auth: { method: 'token', token: cluster.rootToken }, consistency });
  const strong = make('strong');
  const eventual = make('eventual');
  try {
    const prefix = `bench-ha-${Date.now().toString(36)}`;
    for (let i = 0; i < KEYS; i++) await strong.put(`${prefix}/k${i}`, { session: 'x'.repeat(200), expires_at: Date.now() + 3_600_000 });
    // warm both (token lookup, mount check, leader vote, keep-alive sockets to every node)
    await getLoad(strong, prefix);
    await getLoad(eventual, prefix);

    const rounds: Record<'strong' | 'eventual', Round[]> = { strong: [], eventual: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of r % 2 === 0 ? (['strong', 'eventual'] as const) : (['eventual', 'strong'] as const)) {
        rounds[mode].push(await getLoad(mode === 'strong' ? strong : eventual, prefix));
      }
    }

    // A login on KV v2: a new session's set, a token's create (after the one-time start calls).
    const counting = make('strong');
    const sessions = new SecretsSessionStore({ provider: counting, path: `${prefix}/sessions`, cleanupIntervalMs: false });
    const tokens = new TokenStore({ provider: counting, path: `${prefix}/tokens`, bcryptCost: 4 });
    await counting.get(`${prefix}/warm-up`);
    let before = counting.requestCount;
    for (let i = 0; i < LOGINS; i++) {
      await sessions.set(`sid-${i}`, { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user: `u${i}` } as never);
    }
    const perSessionSet = (counting.requestCount - before) / LOGINS;
    before = counting.requestCount;
    for (let i = 0; i < 10; i++) await tokens.create({ name: `bench-${i}` });
    const perTokenCreate = (counting.requestCount - before) / 10;
    await tokens.close();
    await counting.close();

    const row = (mode: 'strong' | 'eventual') => {
      const rs = rounds[mode];
      return {
        perSecond: median(rs.map((x) => x.perSecond)),
        p50Us: median(rs.map((x) => x.p50Us)),
        p99Us: median(rs.map((x) => x.p99Us)),
        all: rs.map((x) => Math.round(x.perSecond)),
      };
    };
    const s = row('strong');
    const e = row('eventual');
    console.log(`\n## Vault provider on a 3-node OpenBao Raft cluster (bench/ha.ts)\n`);
    console.log(
      `${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}; cluster started in ${fmt(clusterStartMs / 1000, 1)} s; ${CONCURRENCY} concurrent callers, ${ROUNDS} rounds of ${DURATION_MS / 1000} s per mode (alternating), medians; uncached provider.get of ${KEYS} keys.\n`,
    );
    console.log('| consistency | where reads go | gets/s | p50 µs | p99 µs | rounds (gets/s) | vs strong |');
    console.log('| --- | --- | ---: | ---: | ---: | --- | ---: |');
    console.log(`| strong | active node | ${fmt(s.perSecond)} | ${fmt(s.p50Us)} | ${fmt(s.p99Us)} | ${s.all.join(', ')} | 1.00× |`);
    console.log(
      `| eventual | round robin over 3 nodes | ${fmt(e.perSecond)} | ${fmt(e.p50Us)} | ${fmt(e.p99Us)} | ${e.all.join(', ')} | ${(e.perSecond / s.perSecond).toFixed(2)}× |`,
    );
    console.log('\n| login on KV v2 | Vault requests |');
    console.log('| --- | ---: |');
    console.log(`| new session (\`set\`) | ${fmt(perSessionSet, 2)} |`);
    console.log(`| token \`create\` | ${fmt(perTokenCreate, 2)} |`);
    console.log('\n(Before the mount-level max_versions, a new session or token cost 2: the write and a per-key metadata write.)');
  } finally {
    await Promise.allSettled([strong.close(), eventual.close()]);
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
