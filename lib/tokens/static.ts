import { createHash } from 'node:crypto';
import { isNonArrayObject } from '../shared/objects';
import type { SecretRefWatcher } from '../shared/watcher';
import { BackendUnavailableError, ConfigError, describeError, SecretReferenceError } from '../errors';
import { isValidSegment } from '../providers/paths';
import { isSupportedHash } from './hash';
import type { AuthInfo, StaticTokenConfig, StaticTokensInput, TokenInfo, TokenLogger } from './types';

/** Shortest plaintext static credential accepted (16 characters, like a 64-bit+ random secret). */
export const MIN_STATIC_CREDENTIAL_LENGTH = 16;

const UNRESOLVED = /\{\{\s*secret\.|\$\{(?:secret|env):/;

/** One static token, ready to match. Holds digests only, never the credential. */
export interface StaticEntry {
  auth: AuthInfo;
  info: TokenInfo;
  expiresAt: number | null;
  /** `bcrypt:` hash to compare against (slow path), when configured that way. */
  bcryptHash?: string;
}

/** Static tokens indexed for O(1) matching by HMAC (plaintext credentials) or SHA-256 (hashes). */
export interface StaticIndex {
  byId: Map<string, StaticEntry>;
  /** HMAC(process key, credential) hex -> entry. */
  byHmac: Map<string, StaticEntry>;
  /** SHA-256 hex -> entry, for `sha256:` credential hashes. */
  bySha256: Map<string, StaticEntry>;
  /** Entries with `bcrypt:` hashes: each costs one bcrypt compare per unknown token. */
  bcrypt: StaticEntry[];
}

function toList(input: StaticTokensInput | null | undefined): [string, Partial<StaticTokenConfig>][] {
  if (input === null || input === undefined) return [];
  if (Array.isArray(input)) return input.map((t, i) => [`staticTokens[${i}]`, isNonArrayObject(t) ? t : {}]);
  if (!isNonArrayObject(input)) throw new ConfigError('staticTokens must be a list or a map of name -> token');
  return Object.entries(input).map(([name, t]) => [`staticTokens.${name}`, isNonArrayObject(t) ? { name, ...t } : { name }]);
}

/** A static token's default id: its name with every run of other characters turned into "-" ("CI Pipeline Token" -> "CI-Pipeline-Token"). */
function idFromName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._:@+=-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 100) || 'token'
  );
}

function readScopes(t: Partial<StaticTokenConfig>): unknown {
  if (t.scopes !== undefined) return t.scopes;
  const fromMeta = t.metadata?.scopes;
  return typeof fromMeta === 'string' ? fromMeta.split(/[\s,]+/).filter(Boolean) : (fromMeta ?? []);
}

/**
 * Validates static token configuration and indexes it. `hmac` maps a credential to the digest
 * the verify path computes for a presented token. Problems are collected into one ConfigError
 * naming config paths, never values.
 */
export function indexStaticTokens(input: StaticTokensInput | null | undefined, hmac: (token: string) => string): StaticIndex {
  const index: StaticIndex = { byId: new Map(), byHmac: new Map(), bySha256: new Map(), bcrypt: [] };
  const problems: string[] = [];
  for (const [where, t] of toList(input)) {
    const name = t.name;
    const id = t.id ?? (typeof name === 'string' ? idFromName(name) : name);
    const scopes = readScopes(t);
    const description = t.description ?? t.metadata?.description ?? '';
    const expires = t.expires_at ? Date.parse(t.expires_at) : null;
    const before = problems.length;
    if (typeof name !== 'string' || name === '') problems.push(`${where}.name is required`);
    else if (typeof id !== 'string' || !isValidSegment(id)) problems.push(`${where}.id must be a path segment of [A-Za-z0-9._:@+=-]`);
    else if (index.byId.has(id)) problems.push(`${where}: duplicate token id "${id}"`);
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) problems.push(`${where}.scopes must be a list of strings`);
    if (typeof description !== 'string') problems.push(`${where}.description must be a string`);
    if (expires !== null && Number.isNaN(expires)) problems.push(`${where}.expires_at must be an ISO 8601 date`);
    if ((t.credential === undefined) === (t.credential_hash === undefined)) {
      problems.push(`${where}: set exactly one of credential and credential_hash`);
    } else if (t.credential !== undefined) {
      if (typeof t.credential !== 'string' || UNRESOLVED.test(t.credential)) {
        problems.push(`${where}.credential is not a resolved string; resolve secret references first (resolveSecretRefs / watchSecretRefs)`);
      } else if (t.credential.length < MIN_STATIC_CREDENTIAL_LENGTH) {
        problems.push(`${where}.credential must be at least ${MIN_STATIC_CREDENTIAL_LENGTH} characters`);
      }
    } else if (!isSupportedHash(t.credential_hash)) {
      problems.push(`${where}.credential_hash must be "bcrypt:$2b$..." or "sha256:<64 hex>"`);
    }
    if (problems.length > before) continue;

    const auth: AuthInfo = Object.freeze({
      tokenId: id as string,
      name: name as string,
      scopes: Object.freeze([...(scopes as string[])]) as string[],
      source: 'config',
    });
    const info: TokenInfo = {
      id: auth.tokenId,
      name: auth.name,
      description: description as string,
      scopes: [...auth.scopes],
      createdBy: null,
      createdAt: null,
      expiresAt: expires === null ? null : new Date(expires).toISOString(),
      lastUsedAt: null,
      rotatedAt: null,
      previousExpiresAt: null,
      source: 'config',
    };
    const entry: StaticEntry = { auth, info, expiresAt: expires };
    index.byId.set(auth.tokenId, entry);
    if (t.credential !== undefined) {
      const digest = hmac(t.credential);
      if (index.byHmac.has(digest)) problems.push(`${where}.credential is the same as another static token's`);
      index.byHmac.set(digest, entry);
    } else if (t.credential_hash?.startsWith('sha256:')) {
      index.bySha256.set(t.credential_hash.slice(7).toLowerCase(), entry);
    } else {
      entry.bcryptHash = t.credential_hash;
      index.bcrypt.push(entry);
    }
  }
  if (problems.length) throw new ConfigError(problems, 'staticTokens');
  return index;
}

/** SHA-256 hex of a presented token, to look up `sha256:` static hashes. */
export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Whether a watcher's refresh failure means a referenced secret, key or provider is definitely
 * gone (a SecretReferenceError not caused by an unreachable backend), as opposed to the backend
 * being down for a while, when the last good value is kept.
 */
function isDefinitelyGone(err: unknown): err is SecretReferenceError {
  return err instanceof SecretReferenceError && !(err.cause instanceof BackendUnavailableError);
}

/**
 * Follows a `watchSecretRefs` watcher of static tokens: `apply` gets each new value. The watcher
 * keeps its last good value on any failed refresh; when the failure says a referenced secret or
 * key is gone (not merely unreachable), `apply([])` disables every static token (fail closed) until
 * a later refresh emits a value again. Logs name references, never values. Returns "stop following".
 */
export function followStaticTokens(watcher: SecretRefWatcher<StaticTokensInput>, apply: (next: StaticTokensInput) => void, logger: TokenLogger): () => void {
  let dropped = false;
  const onChange = (next: StaticTokensInput) => {
    try {
      apply(next);
    } catch (err) {
      logger.warn(`express-secrets-auth: static tokens not replaced, keeping the previous ones: ${describeError(err)}`);
      return;
    }
    if (dropped) logger.warn("express-secrets-auth: the static tokens' secret references resolve again; static tokens restored");
    dropped = false;
  };
  const onError = (err: Error) => {
    if (!isDefinitelyGone(err)) return;
    if (!dropped) logger.warn(`express-secrets-auth: static tokens disabled until their secret references resolve again. ${describeError(err)}`);
    dropped = true;
    apply([]);
  };
  watcher.on('change', onChange);
  watcher.on('error', onError);
  return () => {
    watcher.off('change', onChange);
    watcher.off('error', onError);
  };
}
