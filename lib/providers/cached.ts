import { LRUCache } from 'lru-cache';
import { ConfigError } from '../errors';
import { renamedOption } from '../shared/deprecated-option';
import { parsePath } from './paths';
import type { SecretEntry, SecretProvider } from './types';
import { copyOf } from './copy';

export interface CacheOptions {
  /** How long a read may be served from memory, in ms. Default 5000. Bounds staleness across instances. */
  ttlMs?: number;
  /** @deprecated Milliseconds; use `ttlMs` (same value). Removed in the next minor version. */
  ttl?: number;
  /** Most entries kept. Default 10000. */
  max?: number;
}

export interface CachedProvider extends SecretProvider {
  /** Drops one path from this process's cache (other processes keep theirs until `ttlMs`). */
  invalidate(path: string): void;
  /** Drops every cached entry. */
  clear(): void;
}

/** `ttl` (already ms) became `ttlMs`; the old name works for one minor version. */
const TTL_RENAME = { owner: 'cache', oldName: 'ttl', newName: 'ttlMs', conversion: 'the same number of milliseconds' };

/**
 * Read-through, write-through cache for any provider. Writes and deletes made through this
 * wrapper are seen at once in this process; changes made elsewhere (another instance, the Vault
 * CLI) are seen after at most `ttlMs`. Absent secrets are not cached, so a secret created
 * elsewhere is seen on the next read. Concurrent reads of one path share one backend call.
 */
export function cached(provider: SecretProvider, options: CacheOptions = {}): CachedProvider {
  const ttl = renamedOption<number>(options, TTL_RENAME) ?? 5_000;
  const max = options.max ?? 10_000;
  if (!(Number.isFinite(ttl) && ttl > 0)) throw new ConfigError('cache: ttlMs must be a positive number of milliseconds');
  if (!(Number.isInteger(max) && max > 0)) throw new ConfigError('cache: max must be a positive integer');

  const cache = new LRUCache<string, SecretEntry>({ max, ttl });
  const inflight = new Map<string, Promise<SecretEntry | null>>();
  // A read caches its result only while it is still the in-flight read of its path: writes and
  // deletes drop the in-flight entry (before and after they run), so a read that raced with a
  // write can never put stale data into the cache.
  const forget = (path: string) => {
    cache.delete(path);
    inflight.delete(path);
  };
  // The newest write (put or delete) started on each path; entries live only while writes run.
  // Only the newest write may fill the cache, so writes that finish out of order (a slow set and
  // a quick touch) never leave the older value cached.
  let writes = 0;
  const newestWrite = new Map<string, number>();
  async function write<T>(path: string, run: () => Promise<T>, fill: (result: T) => void): Promise<T> {
    const id = ++writes;
    newestWrite.set(path, id);
    forget(path);
    try {
      const result = await run();
      forget(path);
      if (newestWrite.get(path) === id) fill(result);
      return result;
    } finally {
      if (newestWrite.get(path) === id) newestWrite.delete(path);
    }
  }
  const copy = (entry: SecretEntry | null): SecretEntry | null => entry && { data: copyOf(entry.data), version: entry.version };

  function load(path: string): Promise<SecretEntry | null> {
    const promise: Promise<SecretEntry | null> = provider.get(path).then(
      (entry) => {
        if (inflight.get(path) !== promise) return entry;
        inflight.delete(path);
        if (entry) cache.set(path, entry);
        return entry;
      },
      (err) => {
        if (inflight.get(path) === promise) inflight.delete(path);
        throw err;
      },
    );
    inflight.set(path, promise);
    return promise;
  }

  return {
    kind: provider.kind,

    async get(path) {
      // Only valid paths are ever cached (a miss below validates first), so a hit needs no check.
      const hit = cache.get(path);
      if (hit) return copy(hit);
      parsePath(path);
      return copy(await (inflight.get(path) ?? load(path)));
    },

    async put(path, data, opts) {
      parsePath(path); // before anything is cached: a hit is never checked again (get)
      const stored = copyOf(data);
      return write(
        path,
        () => provider.put(path, data, opts),
        (result) => cache.set(path, { data: stored, version: result.version }),
      );
    },

    async delete(path) {
      parsePath(path);
      return write(
        path,
        () => provider.delete(path),
        () => undefined,
      );
    },

    list: (prefix) => provider.list(prefix),

    invalidate: forget,

    clear() {
      cache.clear();
      inflight.clear();
    },

    close: () => provider.close(),

    // Asked of the provider underneath; absent there (unknown), absent here.
    ...(provider.supportsCheckAndSet && { supportsCheckAndSet: () => (provider.supportsCheckAndSet as () => Promise<boolean>).call(provider) }),
  };
}
