import { ConflictError, describeError } from '../errors';
import { writeSettled } from '../providers/settled-write';
import { forEachBounded } from '../shared/bounded';
import { PeriodicJob } from '../shared/periodic-job';
import type { TokenEmitter } from './events';
import { epoch } from './record';
import type { StoredTokens } from './stored';
import type { TokenInfo, TokenLogger } from './types';

/** Folder (under the token path) of the notice records: `expiry-notices/<store|config>.<id>` = { expires_at, claim }. */
export const NOTICES = 'expiry-notices';

/**
 * Emits `token.expiring` once per token (and per expiry: a rotation to a new lifetime notifies
 * again) when it is within `notifyBeforeMs` of its expiry, across every instance on the backend.
 * The claim is a notice record at `<path>/expiry-notices/<source>.<id>` holding the expiry it was
 * sent for, written with check-and-set (create-only `cas: 0`, or the version read): the instance
 * whose write succeeds emits. On KV v1 (no check-and-set) each instance writes its own claim
 * value, waits SETTLE_MS (settled-write.ts) and reads it back; the one whose claim is read back emits (see README
 * for the bound). Cost of a pass: one LIST and one read per stored token; only due tokens touch
 * their notice record.
 */
export class ExpiryNotifier {
  private readonly job: PeriodicJob<string[]>;

  constructor(
    private readonly opts: {
      stored: StoredTokens;
      /** Static tokens (those with an expiry are notified too). */
      staticTokens: () => TokenInfo[];
      emit: TokenEmitter;
      notifyBeforeMs: number;
      intervalMs: number;
      logger: TokenLogger;
      now: () => number;
    },
  ) {
    this.job = new PeriodicJob({ name: 'expiry check', run: () => this.pass(), intervalMs: opts.intervalMs, jitter: 0.2, logger: opts.logger });
  }

  /** Runs `intervalMs` (jittered ±20%) after each check ends, on an unref'd timer; an interval of 0 never starts. */
  start(): void {
    if (this.opts.intervalMs > 0) this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** One pass (never two at once in this process); resolves with the ids this process notified. */
  runOnce(): Promise<string[]> {
    return this.job.runOnce();
  }

  private due(expiresAt: string | null): number | null {
    const at = epoch(expiresAt);
    const now = this.opts.now();
    return at !== null && at > now && at - now <= this.opts.notifyBeforeMs ? at : null;
  }

  private async pass(): Promise<string[]> {
    const { stored, logger } = this.opts;
    const notified: string[] = [];
    const candidates: TokenInfo[] = this.opts.staticTokens().filter((t) => this.due(t.expiresAt) !== null);
    try {
      await forEachBounded(await stored.ids(), 8, async (id) => {
        const found = await stored.read(id);
        if (found && this.due(found.record.expires_at) !== null && !(await stored.hasTombstone(found, id))) {
          const r = found.record;
          candidates.push({ id, name: r.metadata.name, scopes: r.scopes, expiresAt: r.expires_at, source: 'store' } as TokenInfo);
        }
      });
    } catch (err) {
      logger.warn(`express-secrets-auth: expiry check cannot list tokens, will retry: ${describeError(err)}`);
    }
    for (const t of candidates) {
      try {
        if (await this.claim(`${stored.path}/${NOTICES}/${t.source}.${t.id}`, t.expiresAt as string)) {
          await this.opts.emit('token.expiring', { id: t.id, name: t.name, scopes: t.scopes }, { expires_at: t.expiresAt, source: t.source });
          notified.push(t.id);
        }
      } catch (err) {
        logger.warn(`express-secrets-auth: expiry notice of token ${t.id} not sent, will retry: ${describeError(err)}`);
      }
    }
    return notified;
  }

  /** Whether this process won the notice of `expiresAt` at `path`. */
  private async claim(path: string, expiresAt: string): Promise<boolean> {
    const { provider } = this.opts.stored;
    const current = await provider.get(path);
    if (current?.data.expires_at === expiresAt) return false;
    const claim = `${process.pid}.${Math.random().toString(36).slice(2)}`;
    const data = { expires_at: expiresAt, claim, notified_at: new Date(this.opts.now()).toISOString() };
    const versioned = current ? current.version !== undefined : ((await provider.supportsCheckAndSet?.()) ?? true);
    if (versioned) {
      try {
        await provider.put(path, data, { cas: current?.version ?? 0, maxVersions: 1 });
        return true;
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
    }
    return (await writeSettled(provider, path, data))?.data.claim === claim;
  }
}
