import { ConflictError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { epoch, iso, parseRecord } from './record';
import type { TokenLogger } from './types';

/** Options for `LastUsedWriter`. */
export interface LastUsedOptions {
  provider: SecretProvider;
  pathOf: (id: string) => string;
  intervalMs: number;
  logger: TokenLogger;
  now: () => number;
}

/**
 * Writes `last_used_at` at most once per token per `intervalMs` in this process, after the
 * request that used the token (never on its path). Each write re-reads the record and writes it
 * back with check-and-set where the backend has versions, so it cannot undo a concurrent rotate
 * or resurrect a revoked token. Failures are logged, never thrown.
 */
export class LastUsedWriter {
  /** Token id -> when (opts.now) its last write was scheduled. Read on every request: a plain Map. */
  private readonly recent = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: LastUsedOptions) {}

  /** Records that token `id` was just used; schedules a write when one is due. */
  note(id: string): void {
    const now = this.opts.now();
    const last = this.recent.get(id);
    if (last !== undefined && now - last < this.opts.intervalMs) return;
    if (this.recent.size >= 100_000) this.recent.clear(); // bounded; at worst a few early writes
    this.recent.set(id, now);
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.write(id))
      .catch((err: unknown) => {
        const reason = err instanceof Error ? err.message : 'unknown error';
        this.opts.logger.warn(`express-secrets-auth: could not record last use of token ${id}: ${reason}`);
      })
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Forgets that `id` was written recently (after revoke/rotate). */
  forget(id: string): void {
    this.recent.delete(id);
  }

  /** Resolves when every write in flight has finished. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async write(id: string): Promise<void> {
    const path = this.opts.pathOf(id);
    const entry = await this.opts.provider.get(path);
    const record = entry && parseRecord(entry.data, id);
    if (!entry || !record) return; // revoked (or replaced by something foreign) meanwhile
    const now = this.opts.now();
    const last = epoch(record.last_used_at);
    if (last !== null && now - last < this.opts.intervalMs) return; // another instance wrote it
    const cas = entry.version === undefined ? {} : { cas: entry.version };
    try {
      await this.opts.provider.put(path, { ...entry.data, last_used_at: iso(now) }, cas);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // changed meanwhile: that write wins
    }
  }
}
