/**
 * The backend version a session object was loaded at (or last written at), carried on the object
 * itself under a private symbol: express-session hands the same object back to `set` and `touch`
 * at the end of the request, so each request's save is a check-and-set against what that request
 * read, whatever other requests or processes did meanwhile. Not enumerable and keyed by a symbol:
 * serializers (JSON) never see it.
 */
const LOADED = Symbol('express-secrets-auth.loaded');

/** Where a session object came from. `version` is undefined on backends without versions (KV v1). */
export interface Loaded {
  version: number | undefined;
  /** The user index name the stored record had (undefined: none). */
  user?: string;
  createdAt?: number;
}

/** Notes that `session` is the stored record at `version`. */
export function markLoaded(session: unknown, version: number | undefined, meta: { user?: string; createdAt?: number } = {}): void {
  if (typeof session !== 'object' || session === null || !Object.isExtensible(session)) return;
  Object.defineProperty(session, LOADED, {
    value: { version, user: meta.user, createdAt: meta.createdAt } satisfies Loaded,
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

/** How `session` was loaded, or undefined for a session that was never read from the store (a new one). */
export function loadedOf(session: unknown): Loaded | undefined {
  if (typeof session !== 'object' || session === null) return undefined;
  return (session as { [LOADED]?: Loaded })[LOADED];
}

/** Copies the mark from the data `get` returned to the Session express-session builds from it. */
export function carryLoaded(from: unknown, to: unknown): void {
  const loaded = loadedOf(from);
  if (loaded) markLoaded(to, loaded.version, loaded);
}
