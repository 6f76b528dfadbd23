import { PeriodicJob, passFailedMessage } from '../shared/periodic-job';
import type { SweepResult } from './types';

/** Default ms between sweeps (connect-pg-simple prunes every 15 minutes too). */
export const DEFAULT_CLEANUP_INTERVAL_MS = 900_000;

/** Each wait between sweeps is randomised to 50–150% of the interval, so many instances do not sweep in step. */
export const SWEEP_JITTER = 0.5;

const SWEEP_NAME = 'session sweep';

/** The background sweeper of a session store. */
export type Sweeper = PeriodicJob<SweepResult>;

/**
 * The background sweeper: `sweep` every ~`intervalMs` (jittered, counted from the end of the last
 * sweep), one sweep at a time, on an unref'd timer that never keeps the process alive; `stop()`
 * cancels the timer and waits for a running sweep to end. A failed sweep goes to `emitError`
 * (the store's 'sweepError' event), or when that reaches no listener (returns false) to a
 * console warning, never silent; the next sweep is still scheduled.
 */
export function createSweeper(sweep: () => Promise<SweepResult>, intervalMs: number, emitError: (err: unknown) => boolean): Sweeper {
  const onError = (err: unknown): void => {
    if (!emitError(err)) console.warn(passFailedMessage(SWEEP_NAME, err));
  };
  return new PeriodicJob({ name: SWEEP_NAME, run: sweep, intervalMs, jitter: SWEEP_JITTER, onError });
}
