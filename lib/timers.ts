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
