import type { Request } from 'express';
import { ipKeyGenerator, MemoryStore, type Options, type Store } from 'express-rate-limit';

/** Failed-attempt limit per client. Counts only requests refused for a bad or malformed token. */
export interface BearerRateLimit {
  /** Window in ms. Default 60000. */
  windowMs?: number;
  /** Failed attempts allowed per window per client. Default 20. */
  limit?: number;
  /** Client key. Default: the client IP (`req.ip`; IPv6 grouped by /56). Set Express's `trust proxy`. */
  keyGenerator?: (req: Request) => string;
  /**
   * An express-rate-limit store (e.g. rate-limit-redis) to count failures across instances.
   * Default: express-rate-limit's in-process MemoryStore.
   */
  store?: Store;
}

/**
 * Counts failed authentication attempts per client in an express-rate-limit store, and answers
 * "is this client blocked?" from memory, so successful requests pay one Map lookup and nothing
 * else. A client is blocked once its failures in the window reach `limit`, until the window
 * resets. With a shared store the count is shared; each instance blocks the client on the first
 * failure it sees after the shared count is reached.
 */
export class FailureLimiter {
  readonly windowMs: number;
  readonly limit: number;
  private readonly store: Store;
  private readonly blocked = new Map<string, number>();
  private readonly keyOf: (req: Request) => string;

  constructor(opts: BearerRateLimit = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.limit = opts.limit ?? 20;
    if (!(Number.isInteger(this.windowMs) && this.windowMs > 0)) throw new RangeError('rateLimit.windowMs must be a positive integer');
    if (!(Number.isInteger(this.limit) && this.limit > 0)) throw new RangeError('rateLimit.limit must be a positive integer');
    this.store = opts.store ?? new MemoryStore();
    void this.store.init?.({ windowMs: this.windowMs, limit: this.limit } as unknown as Options);
    this.keyOf = opts.keyGenerator ?? ((req) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown'));
  }

  /** The client's key. */
  key(req: Request): string {
    return this.keyOf(req);
  }

  /** Whether any client is blocked right now (if not, requests need no key at all). */
  get anyBlocked(): boolean {
    return this.blocked.size > 0;
  }

  /** Seconds until the client may try again, or 0 when it is not blocked. */
  retryAfter(key: string, now = Date.now()): number {
    const until = this.blocked.get(key);
    if (until === undefined) return 0;
    if (now >= until) {
      this.blocked.delete(key);
      return 0;
    }
    return Math.max(1, Math.ceil((until - now) / 1000));
  }

  /** Records one failed attempt; blocks the client when it reaches the limit. Never throws. */
  async fail(key: string): Promise<void> {
    const { totalHits, resetTime } = await this.store.increment(key);
    if (totalHits < this.limit) return;
    if (this.blocked.size > 100_000) this.sweep();
    this.blocked.set(key, resetTime?.getTime() ?? Date.now() + this.windowMs);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, until] of this.blocked) if (now >= until) this.blocked.delete(k);
  }
}
