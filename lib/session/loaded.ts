/**
 * The backend version a session object was loaded at (or last written at), kept beside the object
 * (a WeakMap keyed by it, so it goes when the object goes): express-session hands the same object
 * back to `set` and `touch` at the end of the request, so each request's save is a check-and-set
 * against what that request read, whatever other requests or processes did meanwhile. Nothing is
 * added to the object, so serializers and copies never see it (and a WeakMap entry costs less per
 * get than a non-enumerable property, which gives the object a new shape).
 */
const LOADED = new WeakMap<object, Loaded>();

/** Where a session object came from. `version` is undefined on backends without versions (KV v1). */
export interface Loaded {
  version: number | undefined;
  /** The user index name the stored record had (undefined: none). */
  user?: string;
  createdAt?: number;
}

/** Notes that `session` is the stored record at `version`. */
export function markLoaded(session: unknown, version: number | undefined, meta: { user?: string; createdAt?: number } = {}): void {
  if (typeof session !== 'object' || session === null) return;
  LOADED.set(session, { version, user: meta.user, createdAt: meta.createdAt });
}

/** How `session` was loaded, or undefined for a session that was never read from the store (a new one). */
export function loadedOf(session: unknown): Loaded | undefined {
  if (typeof session !== 'object' || session === null) return undefined;
  return LOADED.get(session);
}

/** Copies the mark from the data `get` returned to the Session express-session builds from it. */
export function carryLoaded(from: unknown, to: unknown): void {
  const loaded = loadedOf(from);
  if (loaded) markLoaded(to, loaded.version, loaded);
}

/** Session objects given to a save, which may have reached the backend even if the save failed. */
const SAVING = new WeakSet<object>();

/** Notes, before a save writes, that `session` may be in the backend from now on. */
export function noteSaving(session: unknown): void {
  if (typeof session === 'object' && session !== null) SAVING.add(session);
}

/**
 * Whether `session` may be stored: it was read from the backend or given to a save. A session
 * object for which neither holds is one express-session made in this request with a fresh random
 * id: nothing of it is in the backend (see SecretsSessionStore.regenerate).
 */
export function mayBeStored(session: unknown): boolean {
  return typeof session !== 'object' || session === null || LOADED.has(session) || SAVING.has(session);
}
