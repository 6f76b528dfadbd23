/** A secret as stored: its key/value data and, where the backend versions secrets, its version. */
export interface SecretEntry {
  data: Record<string, unknown>;
  version?: number;
}

export interface PutOptions {
  /**
   * Check-and-set: write only if the stored version equals `cas` (0 = only if absent).
   * A mismatch rejects with `ConflictError`.
   */
  cas?: number;
  /**
   * Versions the backend should keep for this key. Sessions and tokens ask for 1. Providers
   * without version history ignore it; the vault provider relies on the mount's `max_versions`
   * instead of a per-key metadata write, and warns at start when the mount keeps more.
   */
  maxVersions?: number;
}

/**
 * The one abstraction that sessions and tokens share. Paths are `/`-separated segments of
 * `[A-Za-z0-9._:@+=-]`, validated before any I/O.
 */
export interface SecretProvider {
  /** "memory" | "file" | "vault" | ... */
  readonly kind: string;
  /** The secret at `path`, or null when absent. */
  get(path: string): Promise<SecretEntry | null>;
  /** Create or replace the secret at `path`. */
  put(path: string, data: Record<string, unknown>, opts?: PutOptions): Promise<{ version?: number }>;
  /** Remove the secret at `path` permanently (all versions). Absent is not an error. */
  delete(path: string): Promise<void>;
  /** Direct children of `prefix`; folders end with "/". An absent prefix gives []. */
  list(prefix: string): Promise<string[]>;
  /** Release timers, sockets and file handles. */
  close(): Promise<void>;
  /**
   * Whether `put` honours `cas` (check-and-set). memory and file: always; vault: on KV v2, not on
   * KV v1 (with `kvVersion: 'auto'` the first call asks the mount). Optional for other providers:
   * when absent the answer is unknown, and callers pass `cas` as they would anyway.
   */
  supportsCheckAndSet?(): Promise<boolean>;
}
