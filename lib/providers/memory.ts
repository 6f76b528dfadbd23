import { ConflictError } from '../errors';
import { parsePath, parsePrefix } from './paths';
import { listChildren } from './list-children';
import type { PutOptions, SecretEntry, SecretProvider } from './types';
import { copyOf } from './copy';

/** In-process provider for tests and demos. Versions and check-and-set behave like KV v2. */
export function createMemoryProvider(): SecretProvider {
  const store = new Map<string, SecretEntry & { version: number }>();

  return {
    kind: 'memory',

    async get(path) {
      parsePath(path);
      const entry = store.get(path);
      return entry ? { data: copyOf(entry.data), version: entry.version } : null;
    },

    async put(path, data, opts: PutOptions = {}) {
      parsePath(path);
      const current = store.get(path)?.version ?? 0;
      if (opts.cas !== undefined && opts.cas !== current) throw new ConflictError(path, opts.cas, current);
      const version = current + 1;
      store.set(path, { data: copyOf(data), version });
      return { version };
    },

    async delete(path) {
      parsePath(path);
      store.delete(path);
    },

    async list(prefix) {
      return listChildren(store.keys(), parsePrefix(prefix));
    },

    async close() {},

    async supportsCheckAndSet() {
      return true;
    },
  };
}
