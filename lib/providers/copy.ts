/**
 * A copy of `data` the caller may change without changing what is kept (the cache, the memory
 * provider). A flat record (every value a primitive, as a session record is) is copied by
 * spreading: its strings are immutable, and structuredClone costs several times more on the
 * cached-get hot path (6.7 vs 5.2 µs per session get, BENCHMARKS.md). Anything else is cloned.
 */
export function copyOf(data: Record<string, unknown>): Record<string, unknown> {
  for (const key in data) {
    const value = data[key];
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') return structuredClone(data);
  }
  return { ...data };
}
