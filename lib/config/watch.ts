import { EventEmitter } from 'node:events';
import { BackendError, ConfigError, describeError, SecretsAuthError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { type ResolveOptions, resolveSecretRefs } from './refs';
import { isPlainObject } from '../shared/objects';
import type { SecretRefWatcher } from '../shared/watcher';
import { laterUnref } from '../timers';
import { renamedOption } from '../shared/deprecated-option';

/** `refreshInterval` (already ms) became `refreshIntervalMs`; the old name works for one minor version. */
const REFRESH_INTERVAL_RENAME = {
  owner: 'watchSecretRefs',
  oldName: 'refreshInterval',
  newName: 'refreshIntervalMs',
  conversion: 'the same number of milliseconds',
};

/** Structural equality over plain objects, arrays and primitives; anything else by identity. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
}

/** Options for `watchSecretRefs`. */
export interface WatchOptions extends ResolveOptions {
  /** Milliseconds between re-resolutions; 0 or absent means only on `refresh()`. */
  refreshIntervalMs?: number;
  /** @deprecated Milliseconds; use `refreshIntervalMs` (same value). Removed in the next minor version. */
  refreshInterval?: number;
  /** Called when a timed refresh fails (the last good value is kept). */
  onError?: (err: Error) => void;
}

class Watcher<T> implements SecretRefWatcher<T> {
  current: T;
  private readonly events = new EventEmitter();
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<boolean>;
  private closed = false;
  private failed = false;

  constructor(
    private readonly source: T,
    initial: T,
    private readonly providers: Record<string, SecretProvider>,
    private readonly opts: WatchOptions,
  ) {
    this.current = initial;
    this.schedule();
  }

  on(event: 'change' | 'error', listener: (...args: never[]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off(event: 'change' | 'error', listener: (...args: never[]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  refresh(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.inflight ??= this.resolveOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async resolveOnce(): Promise<boolean> {
    let next: T;
    try {
      next = await resolveSecretRefs(this.source, this.providers, this.opts);
    } catch (err) {
      this.failed = true;
      throw err;
    }
    // The first success after a failure is a change even when the value is the same as before:
    // listeners may have acted on the failure (TokenStore drops static tokens whose secret vanished).
    const recovered = this.failed;
    this.failed = false;
    if (this.closed || (!recovered && sameValue(next, this.current))) return false;
    const prev = this.current;
    this.current = next;
    this.events.emit('change', next, prev);
    return true;
  }

  private schedule(): void {
    const interval = this.opts.refreshIntervalMs ?? 0;
    if (this.closed || interval <= 0) return;
    this.timer = laterUnref(() => void this.tick(), interval);
  }

  private async tick(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      this.report(err instanceof SecretsAuthError ? err : new BackendError(`secret references not refreshed: ${describeError(err)}`, { cause: err }));
    }
    this.schedule();
  }

  private report(err: Error): void {
    if (this.closed) return;
    this.opts.onError?.(err);
    // An 'error' event without a listener would throw; without one the failure is only reported via onError.
    if (this.events.listenerCount('error') > 0) this.events.emit('error', err);
  }
}

/**
 * Resolves `value` (see `resolveSecretRefs`) and keeps re-resolving it every
 * `refreshIntervalMs` on an unref'd timer, emitting `'change'` with `(next, prev)` only when
 * the resolved value differs. A failed timed refresh keeps the last good value and is reported
 * to `onError` and to `'error'` listeners (never thrown). Call `close()` to stop.
 *
 * @throws SecretReferenceError when the first resolution fails.
 */
export async function watchSecretRefs<T>(value: T, providers: Record<string, SecretProvider>, opts: WatchOptions = {}): Promise<SecretRefWatcher<T>> {
  const interval = renamedOption<number>(opts, REFRESH_INTERVAL_RENAME) ?? 0;
  if (!Number.isFinite(interval) || interval < 0) throw new ConfigError('refreshIntervalMs must be a non-negative number of milliseconds');
  const initial = await resolveSecretRefs(value, providers, opts);
  return new Watcher(value, initial, providers, { ...opts, refreshInterval: undefined, refreshIntervalMs: interval });
}
