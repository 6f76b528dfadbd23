import type { SecretProvider } from '../../lib/providers/types';

/** A provider plus the number of calls that reached it: wraps any provider in a counting proxy. */
export function counting(inner: SecretProvider): SecretProvider & { calls: number } {
  const wrapped = {
    calls: 0,
    kind: inner.kind,
    get: (path: string) => {
      wrapped.calls++;
      return inner.get(path);
    },
    put: (...args: Parameters<SecretProvider['put']>) => {
      wrapped.calls++;
      return inner.put(...args);
    },
    delete: (path: string) => {
      wrapped.calls++;
      return inner.delete(path);
    },
    list: (prefix: string) => {
      wrapped.calls++;
      return inner.list(prefix);
    },
    close: () => inner.close(),
  };
  return wrapped;
}
