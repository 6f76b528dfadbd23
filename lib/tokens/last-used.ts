import { describeError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { epoch, iso } from './record';
import type { TokenLogger } from './types';

/** Options for `LastUsedWriter`. */
export interface LastUsedOptions {
  provider: SecretProvider;
  /** Where the token record of `id` lives. */
  recordPath: (id: string) => string;
  /** Where the last-use record of `id` lives (`<path>/last-used/<id>`). */
  lastUsedPath: (id: string) => string;
  intervalMs: number;
  logger: TokenLogger;
  now: () => number;
}

/** The last use recorded in a last-use record, as epoch ms, or null. */
export function lastUsedOf(data: Record<string, unknown> | undefined): number | null {
  const at = data?.last_used_at;
  if (typeof at !== 'string') return null;
  const ms = epoch(at);
  return ms === null || Number.isNaN(ms) ? null : ms;
}

/**
 * Writes `last_used_at` at most once per token per `intervalMs` in this process, after the
 * request that used the token (never on its path), into a record of its own,
 * `<path>/last-used/<id>`: a plain create-or-overwrite that never reads or writes the token record,
 * so on no provider (KV v1 included) can it undo a rotation or bring back a revoked token.
 *
 * A write that lands after a revocation leaves at most an orphan last-use record: after each write
 * the token record is read, and when it is gone the last-use record is deleted again (revoke
 * deletes the token record first and the last-use record second, so one of the two deletes comes
 * last). Failures are logged, never thrown.
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
        this.opts.logger.warn(`express-secrets-auth: could not record last use of token ${id}: ${describeError(err)}`);
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
    const { provider } = this.opts;
    const path = this.opts.lastUsedPath(id);
    await provider.put(path, { last_used_at: iso(this.opts.now()) }, { maxVersions: 1 });
    // Revoked meanwhile: take the orphan away again (revoke deletes it too; whichever runs last wins).
    if (!(await provider.get(this.opts.recordPath(id)))) await provider.delete(path);
  }
}
