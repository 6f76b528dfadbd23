// Section 1: get / set / touch / destroy at 1 and 32 concurrent callers, every store side by side.
import type { SessionData } from 'express-session';
import { runRounds, type Sample, type Summary, shuffle, summarize } from './lib/stats';
import { type BenchStore, makeSession, newSid, ops } from './lib/stores';

export const OPS = ['get', 'set', 'touch', 'destroy'] as const;
export type Op = (typeof OPS)[number];

export interface OpsConfig {
  runs: number;
  /** Timed ms per measurement (rounds stop once it is used up). */
  budgetMs: number;
  /** Operations per measurement at most. */
  maxOps: number;
  concurrencies: number[];
  /** Sessions kept in each store for get/set/touch; also the round size. */
  pool: number;
}

export interface OpsRow {
  store: string;
  label: string;
  op: Op;
  concurrency: number;
  summary: Summary;
}

/** The row of `store`'s `op` at `c` callers. */
export function findRow(rows: OpsRow[] | undefined, store: string, op: Op, c: number): OpsRow | undefined {
  return rows?.find((r) => r.store === store && r.op === op && r.concurrency === c);
}

/** Time per op relative to `ref`: p50 ratio at one caller, inverse throughput ratio above. */
export function costRatio(row: OpsRow | undefined, ref: OpsRow | undefined): number {
  if (!row || !ref) return Number.NaN;
  return row.concurrency === 1 ? row.summary.p50Us / ref.summary.p50Us : ref.summary.opsPerSec / row.summary.opsPerSec;
}

interface Prepared {
  bench: BenchStore;
  pool: Map<string, SessionData>;
}

type Item = [string, SessionData];

const freshCookie = (sess: SessionData): SessionData => {
  const copy = structuredClone(sess);
  copy.cookie.expires = new Date(Date.now() + (copy.cookie.originalMaxAge ?? 86_400_000));
  return copy;
};

/** Calls `fn` on every item, `concurrency` calls in flight. */
export async function forEachConcurrently<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Writes `n` new sessions with bounded concurrency; returns their ids and bodies. */
async function populate(bench: BenchStore, n: number): Promise<Item[]> {
  const items: Item[] = Array.from({ length: n }, (_, i) => [newSid(), makeSession(i)]);
  await forEachConcurrently(items, 32, ([sid, sess]) => ops.set(bench.store, sid, sess));
  return items;
}

function measure(p: Prepared, op: Op, concurrency: number, budgetMs: number, maxOps: number): Promise<Sample> {
  const { store } = p.bench;
  const fromPool = async (): Promise<Item[]> => shuffle([...p.pool.entries()]);
  switch (op) {
    case 'get':
      // Each round reads its sessions once untimed first, so a cache measures its hit path (its
      // miss path is the uncached row); for the other stores it only warms the OS page cache.
      return runRounds({
        concurrency,
        budgetMs,
        maxOps,
        prepare: async () => {
          const items = await fromPool();
          await forEachConcurrently(items, 32, ([sid]) => ops.get(store, sid));
          return items;
        },
        op: ([sid]) => ops.get(store, sid),
      });
    case 'set':
      return runRounds({
        concurrency,
        budgetMs,
        maxOps,
        prepare: async () =>
          (await fromPool()).map(([sid, sess]) => {
            (sess as unknown as { views: number }).views++;
            return [sid, freshCookie(sess)] as Item;
          }),
        op: ([sid, sess]) => ops.set(store, sid, sess),
      });
    case 'touch':
      return runRounds({
        concurrency,
        budgetMs,
        maxOps,
        prepare: async () => (await fromPool()).map(([sid, sess]) => [sid, freshCookie(sess)] as Item),
        op: ([sid, sess]) => ops.touch(store, sid, sess),
      });
    case 'destroy':
      return runRounds({
        concurrency,
        budgetMs,
        maxOps,
        prepare: () => populate(p.bench, p.pool.size),
        op: ([sid]) => ops.destroy(store, sid),
      });
  }
}

/**
 * Every store x op x concurrency, `runs` times, interleaved (run 1 of everything, then run 2, ...)
 * so slow drift of the machine spreads over all rows; `afterRun` (the floor's reads) ends each run.
 * Each row is the median of its runs.
 */
export async function benchStoreOps(stores: BenchStore[], cfg: OpsConfig, log: (s: string) => void, afterRun?: () => Promise<void>): Promise<OpsRow[]> {
  const prepared: Prepared[] = [];
  for (const bench of stores) {
    const items = await populate(bench, cfg.pool);
    // Sanity check: a store that does not return what it was given would make the numbers meaningless.
    const back = await ops.get(bench.store, items[0][0]);
    if (!back || (back as unknown as { userId: string }).userId !== (items[0][1] as unknown as { userId: string }).userId) {
      throw new Error(`${bench.def.label}: get did not return the stored session`);
    }
    const p = { bench, pool: new Map(items) };
    for (const op of OPS) await measure(p, op, 32, 0, 0); // warm-up: one untimed round
    prepared.push(p);
  }
  const samples = new Map<string, Sample[]>();
  for (let run = 1; run <= cfg.runs; run++) {
    const t0 = Date.now();
    for (const p of prepared) {
      for (const op of OPS) {
        for (const c of cfg.concurrencies) {
          const key = `${p.bench.def.id}|${op}|${c}`;
          const list = samples.get(key) ?? [];
          list.push(await measure(p, op, c, cfg.budgetMs, cfg.maxOps));
          samples.set(key, list);
        }
      }
    }
    await afterRun?.();
    log(`  store ops: run ${run}/${cfg.runs} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const rows: OpsRow[] = [];
  for (const p of prepared) {
    for (const op of OPS) {
      for (const c of cfg.concurrencies) {
        const summary = summarize(samples.get(`${p.bench.def.id}|${op}|${c}`)!);
        rows.push({ store: p.bench.def.id, label: p.bench.def.label, op, concurrency: c, summary });
      }
    }
  }
  return rows;
}
