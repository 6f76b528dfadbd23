import type { PutOptions, SecretProvider } from '../../lib';

type ProviderMethod = 'get' | 'put' | 'delete' | 'list' | 'close';

/** A provider that forwards every call to another one and records what reached it. */
export interface CountingProvider extends SecretProvider {
  /** Calls that reached the inner provider: get, put, delete and list (close is not counted here). */
  calls: number;
  /** Calls per method, close included. */
  count: Record<ProviderMethod, number>;
  /** The options of every put, in order (`{}` for a put without options). */
  putOptions: PutOptions[];
  /** When set, runs after each get has read its entry and before it answers (to let a test interleave). */
  afterGet?: (path: string) => Promise<void>;
}

/** Wraps any provider in a counting proxy: the one spy on provider calls for every spec. */
export function counting(inner: SecretProvider): CountingProvider {
  const wrapped: CountingProvider = {
    calls: 0,
    count: { get: 0, put: 0, delete: 0, list: 0, close: 0 },
    putOptions: [],
    kind: inner.kind,
    get: async (path) => {
      wrapped.calls++;
      wrapped.count.get++;
      const entry = await inner.get(path);
      await wrapped.afterGet?.(path);
      return entry;
    },
    put: (path, data, opts) => {
      wrapped.calls++;
      wrapped.count.put++;
      wrapped.putOptions.push(opts ?? {});
      return inner.put(path, data, opts);
    },
    delete: (path) => {
      wrapped.calls++;
      wrapped.count.delete++;
      return inner.delete(path);
    },
    list: (prefix) => {
      wrapped.calls++;
      wrapped.count.list++;
      return inner.list(prefix);
    },
    close: () => {
      wrapped.count.close++;
      return inner.close();
    },
  };
  return wrapped;
}
