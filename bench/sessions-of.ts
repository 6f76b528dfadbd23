// `npm run bench:sessions-of`: what "sign out everywhere" costs as the store grows. One store with
// `userOf` per backend (file, fsync on; OpenBao KV v2 on a dev server), grown to each tier of
// total sessions (1k, 10k, 100k by default: filler users with one session each, plus fresh
// measured users with 10 sessions each). Per tier it times, for a user with 10 sessions:
//   - sessionsOf(user) and destroySessionsOf(user): the per-user index, O(that user's sessions);
//   - the raw backend floor of that work: 1 list, 10 reads and 20 deletes through the provider
//     itself, with the same concurrency (8);
//   - the way without an index: store.all(), keep the user's sessions, destroy each (a full scan).
// Figures are medians over BENCH_USERS users (5) per tier, after an untimed warm-up; the full scan
// runs once per tier.
//   BENCH_SESSIONS_OF_TIERS=1000,10000,100000 BENCH_USERS=5 BENCH_BACKENDS=file,kv2 npm run bench:sessions-of
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SessionData } from 'express-session';
import { createFileProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../lib';
import { SCAN_CONCURRENCY } from '../lib/session/scan';
import { forEachBounded } from '../lib/shared/bounded';
import { baoRequest, cleanupAll, startOpenBao } from './lib/servers';
import { envInt, fmt, median } from './lib/stats';
import { makeSession, newSid, ops } from './lib/stores';

const TIERS = (process.env.BENCH_SESSIONS_OF_TIERS ?? '1000,10000,100000').split(',').map(Number);
const USERS = envInt('BENCH_USERS', 5);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'file,kv2').split(',') as Backend[];
const PER_USER = 10;
const POPULATE_CONCURRENCY = 32;
type Backend = 'file' | 'kv2';

interface Row {
  backend: Backend;
  sessions: number;
  populateS: number;
  sessionsOfMs: number;
  destroyMs: number;
  floorMs: number;
  scanMs: number;
}

type Session = SessionData & { user: string };

const session = (i: number, user: string): Session => ({ ...makeSession(i), user }) as Session;

/** Writes `sessions` with 32 callers. */
async function write(store: SecretsSessionStore, sessions: [string, Session][]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const [sid, sess] = sessions[next++] as [string, Session];
      await ops.set(store, sid, sess);
    }
  };
  await Promise.all(Array.from({ length: POPULATE_CONCURRENCY }, worker));
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** The backend work of ending one user's 10 sessions, through the provider alone: 1 list, 10 reads, 20 deletes. */
async function floor(provider: SecretProvider, folder: string): Promise<number> {
  const keys = Array.from({ length: PER_USER }, (_, i) => `${folder}/k${i}`);
  for (const key of [...keys, ...keys.map((k) => `${k}-entry`)]) await provider.put(key, { sid: 'x'.repeat(32), expires_at: Date.now() + 60_000 });
  const { ms } = await timed(async () => {
    await provider.list(folder);
    await forEachBounded(keys, SCAN_CONCURRENCY, async (key) => {
      await provider.get(key);
      await provider.delete(key);
      await provider.delete(`${key}-entry`);
    });
  });
  return ms;
}

async function providerFor(backend: Backend, tmpRoot: string, bao: Awaited<ReturnType<typeof startOpenBao>>['bao'] | undefined): Promise<SecretProvider> {
  if (backend === 'file') return createFileProvider({ basePath: join(tmpRoot, 'file') });
  if (!bao) throw new Error('OpenBao is not running');
  return createVaultProvider({ address: bao.address, auth: { method: 'token', token: bao.token }, mount: bao.kv2Mount, kvVersion: 2 });
}

async function benchBackend(backend: Backend, provider: SecretProvider, log: (s: string) => void): Promise<Row[]> {
  const store = new SecretsSessionStore({ provider, path: `bench-sessions-of-${Date.now()}`, cleanupIntervalMs: false, userOf: (s) => (s as Session).user });
  const rows: Row[] = [];
  let total = 0;
  let filler = 0;
  try {
    // Warm-up, untimed (JIT, the index key, keep-alive sockets): one user's sessions listed and ended, one floor pass.
    const warm = 'warm-up@example.com';
    await write(
      store,
      Array.from({ length: PER_USER }, (_, i) => [newSid(), session(i, warm)] as [string, Session]),
    );
    await store.sessionsOf(warm);
    await store.destroySessionsOf(warm);
    await floor(provider, `bench-floor-warm-${Date.now()}`);
    for (const [t, tier] of TIERS.entries()) {
      // Fresh measured users each tier (2 × USERS with 10 sessions, and one for the full scan); filler users make up the rest.
      const measured = Array.from({ length: 2 * USERS + 1 }, (_, u) => `t${t}-user-${u}@example.com`);
      const fillerCount = Math.max(0, tier - total - measured.length * PER_USER);
      const sessions: [string, Session][] = [];
      for (let i = 0; i < fillerCount; i++, filler++) sessions.push([newSid(), session(filler, `filler-${filler}@example.com`)]);
      for (const user of measured) for (let i = 0; i < PER_USER; i++) sessions.push([newSid(), session(i, user)]);
      const populated = await timed(() => write(store, sessions));
      total += sessions.length;

      const listMs: number[] = [];
      const destroyMs: number[] = [];
      const floorMs: number[] = [];
      for (let u = 0; u < USERS; u++) {
        const listed = await timed(() => store.sessionsOf(measured[u] as string));
        if (listed.value.length !== PER_USER) throw new Error(`bench: sessionsOf listed ${listed.value.length} of ${PER_USER}`);
        listMs.push(listed.ms);
        const ended = await timed(() => store.destroySessionsOf(measured[USERS + u] as string));
        if (ended.value !== PER_USER) throw new Error(`bench: destroySessionsOf ended ${ended.value} of ${PER_USER}`);
        destroyMs.push(ended.ms);
        floorMs.push(await floor(provider, `bench-floor-${Date.now()}-${t}-${u}`));
      }
      total -= USERS * PER_USER;

      const target = measured[2 * USERS] as string;
      const scan = await timed(async () => {
        const mine = (await store.all()).filter((s) => (s as unknown as Session).user === target);
        await forEachBounded(mine, SCAN_CONCURRENCY, (s) => ops.destroy(store, s.id as string));
        return mine.length;
      });
      if (scan.value !== PER_USER) throw new Error(`bench: the full scan found ${scan.value} of ${PER_USER}`);
      total -= PER_USER;

      const row: Row = {
        backend,
        sessions: tier,
        populateS: populated.ms / 1000,
        sessionsOfMs: median(listMs),
        destroyMs: median(destroyMs),
        floorMs: median(floorMs),
        scanMs: scan.ms,
      };
      rows.push(row);
      log(
        `  ${backend} ${fmt(tier)}: populate ${fmt(row.populateS, 1)} s, sessionsOf ${fmt(row.sessionsOfMs, 1)} ms, destroySessionsOf ${fmt(row.destroyMs, 1)} ms, floor ${fmt(row.floorMs, 1)} ms, full scan ${fmt(row.scanMs)} ms`,
      );
    }
  } finally {
    await store.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const log = (s: string) => console.error(s);
  const tmpRoot = mkdtempSync(join(tmpdir(), 'esa-bench-sessions-of-'));
  const load = loadavg()[0] ?? 0;
  const rows: Row[] = [];
  try {
    const bao = BACKENDS.includes('kv2') ? (await startOpenBao()).bao : undefined;
    // One version per key, as docs/vault.md asks of a production mount.
    if (bao) await baoRequest(bao.address, bao.token, 'POST', `${bao.kv2Mount}/config`, { max_versions: 1 });
    for (const backend of BACKENDS) {
      const provider = await providerFor(backend, tmpRoot, bao);
      try {
        rows.push(...(await benchBackend(backend, provider, log)));
      } finally {
        await provider.close();
      }
    }
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
    await cleanupAll();
  }
  const label = { file: 'ours: file', kv2: 'ours: OpenBao KV v2' } as const;
  console.log('\n## Sign out everywhere: sessions of one user as the store grows (bench/sessions-of.ts)\n');
  console.log(
    `${cpus().length} cores, load ${load.toFixed(2)} at the start; a user with ${PER_USER} sessions; medians over ${USERS} users per tier (the full scan: 1 run); file with fsync, OpenBao dev server.\n`,
  );
  console.log('| store | total sessions | sessionsOf ms | destroySessionsOf ms | raw floor ms | vs floor | full scan + destroy ms | scan vs index |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${label[r.backend]} | ${fmt(r.sessions)} | ${fmt(r.sessionsOfMs, 1)} | ${fmt(r.destroyMs, 1)} | ${fmt(r.floorMs, 1)} | ${(r.destroyMs / r.floorMs).toFixed(2)}× | ${fmt(r.scanMs)} | ${fmt(r.scanMs / r.destroyMs)}× |`,
    );
  }
  for (const backend of BACKENDS) {
    const mine = rows.filter((r) => r.backend === backend);
    const first = mine[0];
    const last = mine[mine.length - 1];
    if (first && last && first !== last) {
      console.log(
        `\n${label[backend]}: ${fmt(first.sessions)} → ${fmt(last.sessions)} sessions (${fmt(last.sessions / first.sessions)}×): destroySessionsOf ${(last.destroyMs / first.destroyMs).toFixed(2)}×, the full scan ${(last.scanMs / first.scanMs).toFixed(1)}×.`,
      );
    }
  }
}

main().catch(async (err) => {
  console.error(err);
  await cleanupAll();
  process.exit(1);
});
