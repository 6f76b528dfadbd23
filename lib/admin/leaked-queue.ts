import { describeError } from '../errors';
import { type LeakedTokenOutcome, type LeakedTokenStore, revokeLeakedToken } from '../tokens/leaked';
import type { AdminLogger } from './types';

/** Most reported tokens waiting to be checked; reports beyond it are dropped (with a warning). */
export const MAX_QUEUED_LEAKED = 1000;

/** Where a report came from, for its audit events (the reporter is anonymous). */
export interface LeakReportOrigin {
  ip: string | null;
}

/** What the queue is built from. */
export interface LeakedTokenQueueOptions {
  store: LeakedTokenStore;
  /** Called (awaited) for each reported token that verified, revoked or not; a failure is logged, never thrown. */
  onVerified: (outcome: LeakedTokenOutcome, origin: LeakReportOrigin) => Promise<void>;
  logger: AdminLogger;
  /** Bound of the queue. Default MAX_QUEUED_LEAKED. */
  max?: number;
}

const PREFIX = 'express-secrets-auth admin: leaked-token report';

/**
 * Checks reported tokens in the background, one at a time, so the leak-report route answers at
 * once whatever the tokens are: its answer time says nothing about them (no timing oracle), and a
 * flood of reports costs at most one bcrypt comparison at a time (no CPU amplifier). A token
 * already waiting or being checked is not queued twice; at most `max` wait, and the rest are
 * dropped with a warning. Nothing here logs or throws a token.
 */
export class LeakedTokenQueue {
  /** Waiting candidates (insertion order is check order) and where each was reported from. */
  private readonly waiting = new Map<string, LeakReportOrigin>();
  private current: string | null = null;
  private worker: Promise<void> | null = null;
  private stopped = false;
  private readonly max: number;

  constructor(private readonly opts: LeakedTokenQueueOptions) {
    this.max = opts.max ?? MAX_QUEUED_LEAKED;
  }

  /** Tokens waiting or being checked. */
  get size(): number {
    return this.waiting.size + (this.current === null ? 0 : 1);
  }

  /** Queues `candidates` for checking; returns how many were dropped because the queue was full (or stopped). */
  add(candidates: readonly string[], origin: LeakReportOrigin): number {
    if (this.stopped) {
      this.opts.logger.warn(`${PREFIX}: ${candidates.length} reported token(s) not checked, the admin router is closed`);
      return candidates.length;
    }
    let dropped = 0;
    for (const candidate of candidates) {
      if (candidate === this.current || this.waiting.has(candidate)) continue;
      if (this.size >= this.max) {
        dropped++;
        continue;
      }
      this.waiting.set(candidate, origin);
    }
    if (dropped > 0) {
      this.opts.logger.warn(
        `${PREFIX}: ${dropped} reported token(s) dropped, ${this.max} already wait to be checked; ask the reporter to send them again later`,
      );
    }
    if (this.waiting.size > 0 && this.worker === null) this.worker = this.drain();
    return dropped;
  }

  /** Resolves once every queued token has been checked (at once when none is queued). Never rejects. */
  idle(): Promise<void> {
    return this.worker ?? Promise.resolve();
  }

  /**
   * Stops checking (shutdown): tokens still waiting are dropped with a warning, later ones too;
   * the one being checked finishes, and `idle()` resolves after it.
   */
  stop(): void {
    this.stopped = true;
    if (this.waiting.size === 0) return;
    this.opts.logger.warn(`${PREFIX}: ${this.waiting.size} reported token(s) not checked, the admin router was closed before their turn`);
    this.waiting.clear();
  }

  private async drain(): Promise<void> {
    // Start on a later turn of the event loop: the answer to the report is written before any
    // work on its tokens, so not even the synchronous part of a check delays it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      for (let next = this.takeNext(); next !== null; next = this.takeNext()) {
        await this.check(next[0], next[1]);
      }
    } finally {
      this.current = null;
      this.worker = null;
    }
  }

  private takeNext(): [string, LeakReportOrigin] | null {
    this.current = null;
    const first = this.waiting.entries().next();
    if (first.done) return null;
    const [candidate, origin] = first.value;
    this.waiting.delete(candidate);
    this.current = candidate;
    return [candidate, origin];
  }

  private async check(candidate: string, origin: LeakReportOrigin): Promise<void> {
    let outcome: LeakedTokenOutcome | null;
    try {
      outcome = await revokeLeakedToken(this.opts.store, candidate);
    } catch (err) {
      this.opts.logger.warn(`${PREFIX}: a reported token could not be checked, nothing was revoked for it (${describeError(err)})`);
      return;
    }
    if (outcome === null) return;
    if (outcome.source === 'config') {
      this.opts.logger.warn(
        `${PREFIX}: config token ${JSON.stringify(outcome.id)} was reported leaked and still works: its owner must remove it from the configuration (it cannot be revoked through the API)`,
      );
    }
    try {
      await this.opts.onVerified(outcome, origin);
    } catch (err) {
      this.opts.logger.warn(`${PREFIX}: handling token ${outcome.id} failed (${describeError(err)})`);
    }
  }
}
