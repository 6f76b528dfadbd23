import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Longest stretch of work before giving the event loop a turn, in ms. */
const SLICE_MS = 5;

/**
 * Calls `fn` on every item with at most `concurrency` calls in flight. Fast providers (memory,
 * cached) resolve in microtasks, which never let timers or I/O run; so the workers yield to the
 * event loop whenever they have run for SLICE_MS, keeping long scans from blocking requests.
 * Stops taking new items once `stop()` returns true.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let sliceStart = performance.now();
  // One pause shared by all workers: each waiting on its own setImmediate would let every worker
  // run a full slice in turn within a single check phase (concurrency x SLICE_MS of blocking).
  let pause: Promise<void> | undefined;
  const breathe = (): Promise<void> => {
    pause ??= yieldToEventLoop().then(() => {
      pause = undefined;
      sliceStart = performance.now();
    });
    return pause;
  };
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const index = next++;
      await fn(items[index], index);
      if (pause || performance.now() - sliceStart > SLICE_MS) await breathe();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
