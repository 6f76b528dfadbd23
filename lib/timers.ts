/** Longest delay `setTimeout` honours; a longer one fires after 1 ms (Node clamps it with a warning). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * An unref'd timer whose delay is capped at ~24.8 days, so a long configured interval (a 60-day
 * sweep, a Vault lease of months) waits the longest it can instead of firing at once in a loop.
 */
export function laterUnref(fn: () => void, delayMs: number): NodeJS.Timeout {
  const timer = setTimeout(fn, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  timer.unref();
  return timer;
}

/**
 * Calls `fn` once after the whole of `delayMs`, however long: a delay past MAX_TIMER_DELAY_MS is
 * waited in a chain of unref'd timers of at most that length each (setTimeout alone would fire
 * after 1 ms). Never keeps the process alive. Returns the function that cancels it.
 */
export function afterFullDelayUnref(fn: () => void, delayMs: number): () => void {
  let timer: NodeJS.Timeout;
  const wait = (remainingMs: number): void => {
    const stepMs = Math.min(remainingMs, MAX_TIMER_DELAY_MS);
    timer = setTimeout(() => (remainingMs > stepMs ? wait(remainingMs - stepMs) : fn()), stepMs);
    timer.unref();
  };
  wait(Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs)); // NaN waits 0; Infinity never fires
  return () => clearTimeout(timer);
}
