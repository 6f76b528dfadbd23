import type { Request } from 'express';
import { ipKeyGenerator, MemoryStore, type Options, type Store } from 'express-rate-limit';
import { ConfigError } from '../errors';

/**
 * Failed-attempt limit per client. Counts requests refused for a bad or malformed token, plus the
 * client's verifications still in flight (ones that need a backend read or bcrypt), so a burst of
 * concurrent bad tokens is refused before it reaches the backend.
 */
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
 *
 * Failures are known only once a verification ends, so slow verifications (backend read, bcrypt)
 * are also counted while in flight (`begin`/`end`): a client whose verifications in flight plus
 * failures in the window reach `limit` is refused before any backend call or bcrypt. Otherwise
 * hundreds of concurrent bad tokens would all be verified before the first failure was counted.
 */
export class FailureLimiter {
  readonly windowMs: number;
  readonly limit: number;
  private readonly store: Store;
  private readonly blocked = new Map<string, number>();
  /** Slow verifications in flight per client. */
  private readonly inFlight = new Map<string, number>();
  /** Failures per client in the current window as this instance knows them (counted before the store answers). */
  private readonly failures = new Map<string, { hits: number; until: number }>();
  private readonly keyOf: (req: Request) => string;

  /** `owner` names the option's owner in configuration errors ("TokenStore", "bearerAuth"). */
  constructor(opts: BearerRateLimit = {}, owner = 'TokenStore') {
    this.windowMs = opts.windowMs ?? 60_000;
    this.limit = opts.limit ?? 20;
    if (!(Number.isInteger(this.windowMs) && this.windowMs > 0)) throw new ConfigError(`${owner}: rateLimit.windowMs must be a positive integer (ms)`);
    if (!(Number.isInteger(this.limit) && this.limit > 0)) throw new ConfigError(`${owner}: rateLimit.limit must be a positive integer`);
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

  /**
   * Starts a slow verification for the client: 0 when it may go ahead (call `end` when it is
   * over), or the seconds to wait when its verifications in flight plus failures in the window
   * already reach the limit (nothing was counted).
   */
  begin(key: string, now = Date.now()): number {
    const blockedFor = this.retryAfter(key, now);
    if (blockedFor > 0) return blockedFor;
    const running = this.inFlight.get(key) ?? 0;
    const recent = this.failures.get(key);
    const failed = recent && now < recent.until ? recent.hits : 0;
    // Busy with its own attempts: it may retry once they end (unless they fail and block it).
    if (running + failed >= this.limit) return 1;
    this.inFlight.set(key, running + 1);
    return 0;
  }

  /** Ends a verification started with `begin`. Call it after `fail` for a failed one, so the attempt is never uncounted. */
  end(key: string): void {
    const running = (this.inFlight.get(key) ?? 1) - 1;
    if (running > 0) this.inFlight.set(key, running);
    else this.inFlight.delete(key);
  }

  /** Records one failed attempt; blocks the client when it reaches the limit. Never throws. */
  async fail(key: string): Promise<void> {
    // Counted here at once, so concurrent requests see it before the (possibly remote) store answers.
    const now = Date.now();
    let recent = this.failures.get(key);
    if (!recent || now >= recent.until) {
      if (this.failures.size > 100_000) this.sweep(now);
      recent = { hits: 0, until: now + this.windowMs };
      this.failures.set(key, recent);
    }
    recent.hits++;
    const { totalHits, resetTime } = await this.store.increment(key);
    const until = resetTime?.getTime() ?? now + this.windowMs;
    if (this.failures.get(key) === recent) {
      recent.hits = Math.max(recent.hits, totalHits);
      recent.until = until;
    }
    if (totalHits < this.limit) return;
    if (this.blocked.size > 100_000) this.sweep(Date.now());
    this.blocked.set(key, until);
  }

  private sweep(now: number): void {
    for (const [k, until] of this.blocked) if (now >= until) this.blocked.delete(k);
    for (const [k, recent] of this.failures) if (now >= recent.until) this.failures.delete(k);
  }
}
