// Timing loops and summaries shared by the benchmark sections.
import { performance } from 'node:perf_hooks';

/** One timed measurement: how many operations, how long the timed part took, each latency (µs). */
export interface Sample {
  ops: number;
  wallMs: number;
  latenciesUs: number[];
}

/** What a table shows for one measurement (the median of several samples). */
export interface Summary {
  p50Us: number;
  p99Us: number;
  opsPerSec: number;
  /** Operations timed, summed over the samples. */
  ops: number;
  samples: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

export interface RoundsOptions<T> {
  /** Callers in flight at once. */
  concurrency: number;
  /** Stop starting new rounds once this much timed work was done (ms). */
  budgetMs: number;
  /** Stop starting new rounds after this many operations. */
  maxOps: number;
  /** Untimed: the items of the next round (each item is used by exactly one call). */
  prepare: () => Promise<T[]>;
  /** The timed operation. */
  op: (item: T) => Promise<unknown>;
}

/**
 * Runs rounds of `op` over prepared items with `concurrency` workers. Only the rounds themselves
 * are timed (preparing, e.g. creating sessions to destroy, is not). At least one round runs.
 */
export async function runRounds<T>(o: RoundsOptions<T>): Promise<Sample> {
  const latenciesUs: number[] = [];
  let wallMs = 0;
  do {
    const items = await o.prepare();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++];
        const t0 = performance.now();
        await o.op(item);
        latenciesUs.push((performance.now() - t0) * 1000);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(o.concurrency, items.length) }, worker));
    wallMs += performance.now() - start;
  } while (wallMs < o.budgetMs && latenciesUs.length < o.maxOps);
  return { ops: latenciesUs.length, wallMs, latenciesUs };
}

/** Median over samples of each sample's p50, p99 and ops/s. */
export function summarize(samples: readonly Sample[]): Summary {
  const per = samples.map((s) => {
    const sorted = [...s.latenciesUs].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), rate: (s.ops / s.wallMs) * 1000 };
  });
  return {
    p50Us: median(per.map((x) => x.p50)),
    p99Us: median(per.map((x) => x.p99)),
    opsPerSec: median(per.map((x) => x.rate)),
    ops: samples.reduce((n, s) => n + s.ops, 0),
    samples: samples.length,
  };
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Formats a number for a table: 3 significant digits below 100, none above. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (digits > 0 || Math.abs(n) >= 100) return n.toLocaleString('en-US', { maximumFractionDigits: digits });
  return n.toPrecision(3);
}

/** "1.23×" or "n/a". */
export function ratio(ours: number, reference: number): string {
  const r = ours / reference;
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}
