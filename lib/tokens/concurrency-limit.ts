import { ConfigError, SecretsAuthError } from '../errors';

/**
 * A bounded task was refused because `maxQueue` tasks are already waiting: the server is
 * overloaded, retry shortly (`retryAfterSeconds`). bearerAuth and the admin router answer it with
 * 503 and `Retry-After: 1`.
 */
export class LimitBusyError extends SecretsAuthError<'BUSY'> {
  /** Seconds after which a retry is sensible. */
  readonly retryAfterSeconds = 1;
  constructor(message = 'Too many bcrypt operations are waiting; retry shortly.') {
    super('BUSY', message);
  }
}

/** How a limit names itself in configuration errors and refusals. */
export interface LimitNames {
  concurrency: string;
  maxQueue: string;
  /** Message of the LimitBusyError thrown when the queue is full. */
  busy?: string;
}

const BCRYPT_NAMES: LimitNames = { concurrency: 'bcryptConcurrency', maxQueue: 'bcryptMaxQueue' };

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
    private readonly names: LimitNames = BCRYPT_NAMES,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigError(`TokenStore: ${names.concurrency} must be a positive integer`);
    if (maxQueue !== Number.POSITIVE_INFINITY && !(Number.isInteger(maxQueue) && maxQueue >= 0)) {
      throw new ConfigError(`TokenStore: ${names.maxQueue} must be a non-negative integer`);
    }
  }

  /** Tasks currently waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Tasks currently running. */
  get running(): number {
    return this.active;
  }

  /**
   * Runs `task` when a slot is free and resolves with its result. With `bounded`, rejects with
   * LimitBusyError at once (without running it) when `maxQueue` tasks are already waiting.
   */
  async run<T>(task: () => Promise<T>, opts: { bounded?: boolean } = {}): Promise<T> {
    if (this.active >= this.concurrency) {
      if (opts.bounded && this.waiting.length >= this.maxQueue) throw new LimitBusyError(this.names.busy);
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
