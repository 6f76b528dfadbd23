// The shape of a value kept up to date from secret references. The type lives here, low, so the
// token store can take a watcher without importing config/; config/watch.ts builds one.

/** A resolved value kept up to date; built by `watchSecretRefs` (config/watch.ts). */
export interface SecretRefWatcher<T> {
  /** The latest successfully resolved value. */
  readonly current: T;
  on(event: 'change', listener: (next: T, prev: T) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  off(event: 'change', listener: (next: T, prev: T) => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
  /** Re-resolves now; true when the value changed (and 'change' was emitted). Rejects on failure. */
  refresh(): Promise<boolean>;
  /** Stops the timer; no events are emitted afterwards. */
  close(): void;
}
