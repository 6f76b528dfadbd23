/**
 * node-vault's `tv4` hook. Its `request` checks each call's options against one JSON schema
 * (`path` and `method` are strings) with tv4, a general schema engine costing ~5 µs a request;
 * this checks exactly that. Only `request` is used here, never node-vault's schema'd commands.
 */
export const requestCheck = {
  error: null as Error | null,
  validate(options: { path?: unknown; method?: unknown }): boolean {
    if (typeof options?.path === 'string' && typeof options.method === 'string') return true;
    requestCheck.error = new TypeError('node-vault request: path and method must be strings');
    return false;
  },
};
