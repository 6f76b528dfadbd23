import type { SweepResult } from './types';
import { laterUnref } from '../timers';

/** Default ms between sweeps (connect-pg-simple prunes every 15 minutes too). */
export const DEFAULT_CLEANUP_INTERVAL_MS = 900_000;

/** A delay randomised between 50% and 150% of `ms`, so many instances do not sweep in step. */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.5 + random()));
}

/**
 * Runs `sweep` in the background every ~`intervalMs` (jittered), one sweep at a time, on an
 * unref'd timer that never keeps the process alive. `stop()` cancels the timer and waits for a
 * running sweep to end. A failed sweep goes to `onError` and the next one is still scheduled.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sweep: () => Promise<SweepResult>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (!this.stopped && !this.timer) this.schedule();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private schedule(): void {
    this.timer = laterUnref(() => {
      this.timer = undefined;
      this.running = this.sweep()
        .then(
          () => undefined,
          (err: unknown) => this.onError(err),
        )
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule();
        });
    }, jittered(this.intervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
