import { describeError } from '../errors';
import { afterFullDelayUnref } from '../timers';

/** Where a background job reports a failed pass (`console` fits). */
export interface PassLogger {
  warn(message: string): void;
}

export interface PeriodicJobOptions<T> {
  /** What the job is called in log lines, e.g. "auto-rotate". */
  name: string;
  /** One pass. It may reject (or throw): the failure is reported and the next pass still comes. */
  run: () => Promise<T>;
  /** Ms to wait after each pass ends before the next starts (also before the first). Any length, even past ~24.8 days. */
  intervalMs: number;
  /** Spread of each wait as a fraction of `intervalMs`: 0.2 waits 80–120%. Default 0 (exact). */
  jitter?: number;
  /** Reports a failed background pass. Default: a warning through `logger` (see passFailedMessage). */
  onError?: (err: unknown) => void;
  /** Default `console`. Also warned when `onError` itself throws. */
  logger?: PassLogger;
  /** Default Math.random (for tests). */
  random?: () => number;
}

/** A delay randomised within ±`spread` of `ms` (0.5: 50–150%), so many instances do not run in step. */
export function jittered(ms: number, spread: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}

/** The warning for a failed pass; holds only what describeError lets through (never a foreign message or a secret). */
export function passFailedMessage(name: string, err: unknown): string {
  return `express-secrets-auth ${name}: pass failed, will retry: ${describeError(err)}`;
}

/**
 * Runs `run` in the background: waits `intervalMs` (jittered), runs one pass, waits again from the
 * moment that pass ended, and so on. Passes never overlap: `runOnce()` (a pass now) joins a pass in
 * flight, and the timer is armed only once a pass has ended. The timer is unref'd (never keeps the
 * process alive); a failed pass is reported and the job carries on; nothing it does can crash the
 * process. `start()` is idempotent (at most one timer, whatever the order of start/stop calls);
 * `stop()` cancels the timer and resolves once a pass in flight has ended.
 */
export class PeriodicJob<T> {
  private cancelTimer: (() => void) | undefined;
  private running: Promise<T> | undefined;
  private active = false;
  private stopRequested = false;

  constructor(private readonly opts: PeriodicJobOptions<T>) {}

  /** Arms the timer (no-op when already started). After a stop(), starts again. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.stopRequested = false;
    if (!this.running) this.arm(); // else the pass in flight arms it when it ends
  }

  /** True from stop() until the next start(): a long pass may check it to end early. */
  get isStopped(): boolean {
    return this.stopRequested;
  }

  /** The configured wait between passes, in ms (before jitter). */
  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  /** Whether a timer is armed now (for tests and diagnostics). */
  get isScheduled(): boolean {
    return this.cancelTimer !== undefined;
  }

  /** One pass now, or the one in flight; resolves with its result, rejects with its error. */
  runOnce(): Promise<T> {
    if (!this.running) {
      let pass: Promise<T>;
      try {
        pass = Promise.resolve(this.opts.run());
      } catch (err) {
        pass = Promise.reject(err);
      }
      this.running = pass.finally(() => {
        this.running = undefined;
        if (this.active && !this.cancelTimer) this.arm();
      });
    }
    return this.running;
  }

  /** Cancels the timer and resolves once a pass in flight has ended (its failure is not rethrown). */
  async stop(): Promise<void> {
    this.active = false;
    this.stopRequested = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running?.catch(() => undefined);
  }

  private arm(): void {
    const { intervalMs, jitter = 0, random = Math.random } = this.opts;
    this.cancelTimer = afterFullDelayUnref(
      () => {
        this.cancelTimer = undefined;
        this.runOnce().catch((err: unknown) => this.report(err));
      },
      jittered(intervalMs, jitter, random),
    );
  }

  private report(err: unknown): void {
    const { name, onError, logger = console } = this.opts;
    const warn = (): void => {
      try {
        logger.warn(passFailedMessage(name, err));
      } catch {
        // A logger that throws leaves nowhere to report to; the job still carries on.
      }
    };
    if (!onError) {
      warn();
      return;
    }
    try {
      onError(err);
    } catch {
      warn();
    }
  }
}
