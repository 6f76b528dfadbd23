import { ConfigError } from '../errors';

/** A bounded task was refused because `maxQueue` tasks are already waiting: the server is overloaded, retry shortly. */
export class LimitBusyError extends Error {
  constructor() {
    super('Too many bcrypt operations are waiting; retry shortly.');
    this.name = 'LimitBusyError';
  }
}

/**
 * Runs async tasks with at most `concurrency` in flight; the rest wait in FIFO order. Tasks run
 * with `{ bounded: true }` (those untrusted requests cause) are refused with LimitBusyError
 * instead of waiting when `maxQueue` tasks already wait, so the queue and its latency stay bounded.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueue = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigError('TokenStore: bcryptConcurrency must be a positive integer');
    if (maxQueue !== Number.POSITIVE_INFINITY && !(Number.isInteger(maxQueue) && maxQueue >= 0)) {
      throw new ConfigError('TokenStore: bcryptMaxQueue must be a non-negative integer');
    }
  }

  /** Tasks currently waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when a slot is free and resolves with its result. With `bounded`, rejects with
   * LimitBusyError at once (without running it) when `maxQueue` tasks are already waiting.
   */
  async run<T>(task: () => Promise<T>, opts: { bounded?: boolean } = {}): Promise<T> {
    if (this.active >= this.concurrency) {
      if (opts.bounded && this.waiting.length >= this.maxQueue) throw new LimitBusyError();
      // The finishing task hands its slot over (active stays the same), so none can jump the queue.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
