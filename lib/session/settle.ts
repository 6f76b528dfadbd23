import type { StoreCallback } from './types';

/**
 * Runs `work` and reports its outcome once: to `callback` when one is given, else through the
 * returned promise. The callback is called exactly once — if it throws, its error is never fed
 * back into it (connect-redis does that, calling it twice); instead the returned promise rejects
 * with it, which surfaces as an unhandled rejection when nobody awaits it, like a throw in any
 * other callback. With a callback the returned promise never rejects for a store error.
 */
export function settle<T>(work: () => Promise<T>, callback?: StoreCallback<T>): Promise<T | undefined> {
  const promise = Promise.resolve().then(work);
  if (typeof callback !== 'function') return promise;
  return promise.then(
    (value) => {
      callback(null, value);
      return undefined;
    },
    (err: unknown) => {
      callback(err);
      return undefined;
    },
  );
}
