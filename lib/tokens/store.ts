import { randomBytes } from 'node:crypto';
import type { SecretRefWatcher } from '../config/watch';
import { ConfigError, ConflictError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { isValidSegment, parsePath } from '../providers/paths';
import { forEachBounded } from '../shared/bounded';
import { TokenError } from './errors';
import { generateToken, isTokenId, isValidPrefix, parseToken } from './format';
import { importedTokenId, MIN_IMPORTED_LENGTH, mayBeImported } from './imported';
import { hashToken, MAX_BCRYPT_COST, MIN_BCRYPT_COST, verifyTokenHash } from './hash';
import { LastUsedWriter, lastUsedOf } from './last-used';
import { ConcurrencyLimit } from './concurrency-limit';
import { FailureLimiter } from './rate-limit';
import { type CreateTokenInput, checkCreateInput, durationMs, epoch, iso, parseRecord, toInfo } from './record';
import { followStaticTokens, indexStaticTokens, type StaticIndex, sha256Hex } from './static';
import type { AuthInfo, IssuedToken, StaticTokensInput, TokenInfo, TokenRecord, TokenStoreOptions, TokenVerifier } from './types';
import { VerifyCache } from './verify-cache';

export type { CreateTokenInput } from './record';

/** Options for `TokenStore.rotate()`. */
export interface RotateOptions {
  /** How long the replaced secret keeps working (seconds or a duration); default: it stops at once. */
  grace?: number | string | null;
  /** A new lifetime from now; default: keep the current expiry. */
  expiresIn?: number | string | null;
  /**
   * Called with the new token before the record changes (e.g. to write it where its consumer reads
   * it). If it throws, nothing changes. When given, a rotation by someone else in the meantime makes
   * this one fail with ConflictError instead of rotating twice.
   */
  deliver?: (token: string, next: TokenInfo) => Promise<void>;
}
export type { IssuedToken, TokenStoreOptions } from './types';

/** A read-only principal: shared by the verify cache and every request it authenticates. */
export const freezeAuth = (auth: AuthInfo): AuthInfo => Object.freeze({ ...auth, scopes: Object.freeze([...auth.scopes]) as string[] });

/** Children of `path` that hold no token: last-use records and (on KV v1) revocation tombstones. Token ids are 12 base62 characters, never these. */
const LAST_USED = 'last-used';
const REVOKED = 'revoked';

type Found = { record: TokenRecord; version?: number };

const usable = (token: unknown): token is string => typeof token === 'string' && token.length > 0 && token.length <= 4096;

function isWatcher(value: unknown): value is SecretRefWatcher<StaticTokensInput> {
  return typeof value === 'object' && value !== null && 'current' in value && typeof (value as { on?: unknown }).on === 'function';
}

/**
 * API tokens: stored ones (one bcrypt-hashed record per token under `path` in a SecretProvider)
 * and static ones from configuration (read-only), verified side by side.
 */
export class TokenStore implements TokenVerifier {
  readonly prefix: string;
  private readonly provider: SecretProvider;
  private readonly path: string;
  private readonly cost: number;
  private readonly ttlMs: number | null;
  private readonly maxTtlMs: number | null;
  private readonly cache: VerifyCache;
  /** bcrypt slots of verification. */
  private readonly limit: ConcurrencyLimit;
  /** bcrypt slots of creation, import and rotation: their own, so they never delay a verification. */
  private readonly createLimit: ConcurrencyLimit;
  /** The failed-attempt limiter every `bearerAuth()` on this store shares; null when `rateLimit: false`. */
  readonly failureLimiter: FailureLimiter | null;
  private readonly lastUsed: LastUsedWriter;
  private readonly now: () => number;
  private statics: StaticIndex;
  private readonly inflight = new Map<string, Promise<AuthInfo | null>>();
  /** Bumped by revoke/rotate/setStaticTokens so verifications already in flight are not cached. */
  private generation = 0;
  private unwatch?: () => void;
  /** A hash of a random secret, compared against for unknown ids (see verifyStored). */
  private dummyHash?: Promise<string>;
  private readonly acceptImported: boolean;

  constructor(opts: TokenStoreOptions) {
    if (!opts?.provider) throw new ConfigError('TokenStore: provider is required');
    this.provider = opts.provider;
    this.path = parsePath(opts.path ?? 'tokens').join('/');
    this.prefix = opts.prefix ?? 'esa';
    if (!isValidPrefix(this.prefix)) throw new ConfigError('TokenStore: prefix must be 1-16 letters or digits, starting with a letter');
    this.cost = opts.bcryptCost ?? 10;
    if (!Number.isInteger(this.cost) || this.cost < MIN_BCRYPT_COST || this.cost > MAX_BCRYPT_COST) {
      throw new ConfigError(`TokenStore: bcryptCost must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`);
    }
    this.ttlMs = durationMs(opts.ttl, 'ttl') ?? null;
    this.maxTtlMs = durationMs(opts.maxTtl, 'maxTtl') ?? null;
    this.now = opts.now ?? Date.now;
    this.acceptImported = opts.acceptImported ?? false;
    this.cache = new VerifyCache({ ttlMs: opts.verifyCacheTtl ?? 60_000, max: opts.verifyCacheMax ?? 10_000 });
    this.limit = new ConcurrencyLimit(opts.bcryptConcurrency ?? 2, opts.bcryptMaxQueue ?? 64);
    this.createLimit = new ConcurrencyLimit(opts.createConcurrency ?? 1, opts.createMaxQueue ?? 16, {
      concurrency: 'createConcurrency',
      maxQueue: 'createMaxQueue',
      busy: 'Too many token creations are waiting; retry shortly.',
    });
    this.failureLimiter = opts.rateLimit === false ? null : new FailureLimiter(opts.rateLimit ?? {}, 'TokenStore');
    const logger = opts.logger ?? console;
    const intervalMs = opts.lastUsedInterval ?? 300_000;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new ConfigError('TokenStore: lastUsedInterval must be a non-negative number of ms');
    this.lastUsed = new LastUsedWriter({
      provider: this.provider,
      recordPath: (id) => this.recordPath(id),
      lastUsedPath: (id) => this.lastUsedPath(id),
      intervalMs,
      logger,
      now: this.now,
    });
    const input = opts.staticTokens;
    this.statics = this.index(isWatcher(input) ? input.current : input);
    if (isWatcher(input)) this.unwatch = followStaticTokens(input, (next) => this.setStaticTokens(next), logger);
  }

  /** Replaces the static tokens (e.g. after a secret reference changed); old ones stop at once. */
  setStaticTokens(input: StaticTokensInput | null | undefined): void {
    const next = this.index(input);
    this.generation++;
    this.statics = next;
    this.cache.invalidate((auth) => auth.source === 'config');
    this.inflight.clear();
  }

  /** Issues a new token. The returned `token` is the only copy of the plaintext. */
  async create(input: CreateTokenInput): Promise<IssuedToken> {
    const fields = checkCreateInput(input);
    const { token, id } = generateToken(this.prefix);
    const record = await this.newRecord(id, token, fields, input);
    await this.provider.put(this.recordPath(id), { ...record }, { maxVersions: 1 });
    return { token, record: toInfo(record) };
  }

  /**
   * Stores an existing credential (e.g. a static token from configuration) as a hashed record,
   * so clients keep using the same string. Verified only by stores with `acceptImported: true`,
   * unless it is already in this library's token format.
   * @throws TokenError TOKEN_EXISTS when it was imported before; INVALID_TOKEN_INPUT.
   */
  async importToken(credential: string, input: CreateTokenInput): Promise<TokenInfo> {
    if (typeof credential !== 'string' || credential.length < MIN_IMPORTED_LENGTH || credential.length > 4096) {
      throw new TokenError('INVALID_TOKEN_INPUT', `credential must be ${MIN_IMPORTED_LENGTH} to 4096 characters`);
    }
    const fields = checkCreateInput(input);
    const id = await importedTokenId(credential, this.prefix);
    // A read, not check-and-set, so imports work on KV v1 mounts too (an operator runs them once).
    if (await this.read(id)) throw new TokenError('TOKEN_EXISTS', `Token "${id}" is already in the store.`);
    const record = await this.newRecord(id, credential, fields, input);
    // Importing a credential again after its revocation is an operator's explicit wish (KV v1 tombstone).
    await this.provider.delete(this.revokedPath(id));
    await this.provider.put(this.recordPath(id), { ...record }, { maxVersions: 1 });
    return toInfo(record);
  }

  /** Every token, stored and static (`source: "config"`), oldest first. */
  async list(): Promise<TokenInfo[]> {
    const ids = (await this.provider.list(this.path)).filter((k) => !k.endsWith('/') && k !== LAST_USED && k !== REVOKED && isValidSegment(k));
    const stored: TokenInfo[] = [];
    await forEachBounded(ids, 8, async (id) => {
      const info = await this.readInfo(id);
      if (info) stored.push(info);
    });
    stored.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id));
    return [...stored, ...[...this.statics.byId.values()].map((e) => ({ ...e.info, scopes: [...e.info.scopes] }))];
  }

  /** One token by id (static ones included), or null. */
  async get(id: string): Promise<TokenInfo | null> {
    const fixed = this.statics.byId.get(id);
    if (fixed) return { ...fixed.info, scopes: [...fixed.info.scopes] };
    if (!isValidSegment(id) || id === LAST_USED || id === REVOKED) return null;
    return this.readInfo(id);
  }

  /**
   * Deletes a stored token (and its last-use record); it stops working in this process at once
   * and in others within `verifyCacheTtl`. Resolves false when there was no such token. On a
   * backend without versions (KV v1) a tombstone `<path>/revoked/<id>` is written first, which
   * verification and rotation check, so a rotation racing this revocation cannot revive it.
   * @throws TokenError TOKEN_READ_ONLY for a static token.
   */
  async revoke(id: string): Promise<boolean> {
    this.refuseStatic(id, 'revoked');
    if (!isValidSegment(id) || id === LAST_USED || id === REVOKED) return false;
    const found = await this.read(id);
    this.forget(id);
    if (!found) return false;
    if (found.version === undefined) await this.provider.put(this.revokedPath(id), { revoked_at: iso(this.now()) });
    await this.provider.delete(this.recordPath(id));
    // After the record: a last-use write racing this finds the record gone and deletes its own (last-used.ts).
    await this.provider.delete(this.lastUsedPath(id));
    this.forget(id);
    return true;
  }

  /**
   * Gives a stored token a new secret (same id). Without `grace` the old secret stops at once;
   * with `grace` (seconds or a duration) it keeps working until then. `expiresIn` sets a new
   * lifetime (default: keep the current expiry).
   * @throws TokenError TOKEN_NOT_FOUND, TOKEN_READ_ONLY (static token), INVALID_TOKEN_INPUT.
   */
  async rotate(id: string, opts: RotateOptions = {}): Promise<IssuedToken> {
    this.refuseStatic(id, 'rotated');
    if (!isTokenId(id)) throw new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
    const graceMs = durationMs(opts.grace, 'grace') ?? null;
    const { token } = generateToken(this.prefix, id);
    const hash = await this.hashForCreate(token);
    const now = this.now();
    let seenRotatedAt: string | null = null;
    // A concurrent write (e.g. a last_used_at update) makes the check-and-set fail: re-read, retry.
    for (let attempt = 1; ; attempt++) {
      const found = isValidSegment(id) ? await this.read(id) : null;
      if (!found || (found.version === undefined && (await this.isRevoked(id)))) throw new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
      if (attempt === 1) seenRotatedAt = found.record.rotated_at ?? null;
      else if (opts.deliver && (found.record.rotated_at ?? null) !== seenRotatedAt) throw new ConflictError(this.recordPath(id));
      const expiresAt = opts.expiresIn === undefined ? epoch(found.record.expires_at) : this.expiry(opts.expiresIn, now);
      const record: TokenRecord = {
        ...found.record,
        credential_hash: hash,
        expires_at: expiresAt === null ? null : iso(expiresAt),
        rotated_at: iso(now),
        previous_credential_hash: graceMs === null ? null : found.record.credential_hash,
        previous_expires_at: graceMs === null ? null : iso(now + graceMs),
      };
      if (attempt === 1 && opts.deliver) await opts.deliver(token, toInfo(record));
      try {
        if (found.version === undefined) await this.putUnversioned(id, record);
        else await this.provider.put(this.recordPath(id), { ...record }, { cas: found.version });
      } catch (err) {
        if (err instanceof ConflictError && found.version !== undefined && attempt < 5) continue;
        throw err;
      } finally {
        this.forget(id);
      }
      return { token, record: toInfo(record) };
    }
  }

  /**
   * The principal of `token`, or null when it is malformed, unknown, expired or revoked.
   * Malformed tokens (bad prefix, length or checksum) never reach the backend.
   * @throws BackendUnavailableError (or another provider error) when the backend cannot answer.
   */
  async verify(token: string): Promise<AuthInfo | null> {
    if (!usable(token)) return null;
    const digest = this.cache.digest(token);
    const quick = this.fast(token, digest);
    if (quick !== undefined) return quick;
    let running = this.inflight.get(digest);
    if (!running) {
      running = this.verifySlow(token, digest).finally(() => this.inflight.delete(digest));
      this.inflight.set(digest, running);
    }
    const auth = await running;
    return auth && this.accept(auth);
  }

  /**
   * What `verify` would answer, when it can tell without I/O or bcrypt: a recently verified or
   * static token, or a malformed one. `undefined` means "ask `verify`". Lets `bearerAuth` serve
   * warm tokens without an async hop.
   */
  verifySync(token: string): AuthInfo | null | undefined {
    return usable(token) ? this.fast(token, this.cache.digest(token)) : null;
  }

  /** Resolves when background `last_used_at` writes in flight have finished. */
  flush(): Promise<void> {
    return this.lastUsed.flush();
  }

  /** Stops following the static-token watcher and waits for background writes. Leaves the provider open. */
  async close(): Promise<void> {
    this.unwatch?.();
    await this.flush();
  }

  private fast(token: string, digest: string): AuthInfo | null | undefined {
    const now = this.now();
    const hit = this.cache.get(digest, now);
    if (hit) return this.accept(hit);
    const fixed = this.statics.byHmac.get(digest) ?? this.statics.bySha256.get(sha256Hex(token));
    if (fixed) return fixed.expiresAt !== null && now >= fixed.expiresAt ? null : fixed.auth;
    if (this.statics.bcrypt.length === 0 && !parseToken(token, this.prefix) && !mayBeImported(token, this.prefix, this.acceptImported)) return null;
    return undefined;
  }

  private async verifySlow(token: string, digest: string): Promise<AuthInfo | null> {
    const generation = this.generation;
    const parsed = parseToken(token, this.prefix);
    let verified: { auth: AuthInfo; validUntil: number | null } | null = null;
    if (parsed) verified = await this.verifyStored(token, parsed.id);
    else if (mayBeImported(token, this.prefix, this.acceptImported)) verified = await this.verifyStored(token, await importedTokenId(token, this.prefix));
    if (!verified) verified = await this.verifyStaticBcrypt(token);
    if (verified && generation === this.generation) this.cache.set(digest, verified, this.now());
    return verified?.auth ?? null;
  }

  private async verifyStored(token: string, id: string): Promise<{ auth: AuthInfo; validUntil: number | null } | null> {
    const found = await this.read(id);
    if (!found || (found.version === undefined && (await this.isRevoked(id)))) {
      // Pay the bcrypt an existing id would cost, so response time does not tell which ids exist.
      this.dummyHash ??= hashToken(randomBytes(32).toString('hex'), this.cost, this.limit);
      await verifyTokenHash(token, await this.dummyHash, this.limit);
      return null;
    }
    const r = found.record;
    const matches = await verifyTokenHash(token, r.credential_hash, this.limit);
    const now = this.now();
    const expires = epoch(r.expires_at);
    if (expires !== null && now >= expires) return null;
    const auth = freezeAuth({ tokenId: r.id, name: r.metadata.name, scopes: [...r.scopes], source: 'store' });
    if (matches) return { auth, validUntil: expires };
    const graceEnd = epoch(r.previous_expires_at);
    if (!r.previous_credential_hash || graceEnd === null || now >= graceEnd) return null;
    if (!(await verifyTokenHash(token, r.previous_credential_hash, this.limit))) return null;
    return { auth, validUntil: expires === null ? graceEnd : Math.min(expires, graceEnd) };
  }

  private async verifyStaticBcrypt(token: string): Promise<{ auth: AuthInfo; validUntil: number | null } | null> {
    for (const entry of this.statics.bcrypt) {
      if (entry.expiresAt !== null && this.now() >= entry.expiresAt) continue;
      if (await verifyTokenHash(token, entry.bcryptHash as string, this.limit)) return { auth: entry.auth, validUntil: entry.expiresAt };
    }
    return null;
  }

  /** Principals are frozen (shared between requests and the cache), so they are returned as is. */
  private accept(auth: AuthInfo): AuthInfo {
    if (auth.source === 'store') this.lastUsed.note(auth.tokenId);
    return auth;
  }

  private async read(id: string): Promise<Found | null> {
    const entry = await this.provider.get(this.recordPath(id));
    const record = entry && parseRecord(entry.data, id);
    return record ? { record, version: entry.version } : null;
  }

  /** The public view of stored token `id`, its last use merged in from `<path>/last-used/<id>`. */
  private async readInfo(id: string): Promise<TokenInfo | null> {
    const [found, used] = await Promise.all([this.read(id), this.provider.get(this.lastUsedPath(id))]);
    if (!found || (found.version === undefined && (await this.isRevoked(id)))) return null;
    const info = toInfo(found.record);
    const separate = lastUsedOf(used?.data);
    const inRecord = epoch(info.lastUsedAt); // records written before last uses had their own record
    const latest = Math.max(separate ?? -1, inRecord ?? -1);
    return latest < 0 ? info : { ...info, lastUsedAt: iso(latest) };
  }

  /** Whether a revocation left its tombstone for `id` (backends without versions only). */
  private async isRevoked(id: string): Promise<boolean> {
    return (await this.provider.get(this.revokedPath(id))) !== null;
  }

  /**
   * A rotation's write on a backend without check-and-set (KV v1). A revocation between the read
   * and this write would be undone by it, so the tombstone is checked after writing and the record
   * deleted again (TOKEN_NOT_FOUND); verification refuses the token meanwhile (it checks the
   * tombstone too). Reading the record back catches a concurrent rotation that already landed
   * (ConflictError); one landing after the read-back cannot be told apart (see docs).
   */
  private async putUnversioned(id: string, record: TokenRecord): Promise<void> {
    const path = this.recordPath(id);
    await this.provider.put(path, { ...record });
    if (await this.isRevoked(id)) {
      await this.provider.delete(path);
      await this.provider.delete(this.lastUsedPath(id));
      throw new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
    }
    const after = await this.read(id);
    if (after?.record.credential_hash !== record.credential_hash) throw new ConflictError(path);
  }

  /** bcrypt for a new credential, in the creation budget: refused with LimitBusyError when its queue is full. */
  private hashForCreate(credential: string): Promise<string> {
    return this.createLimit.run(() => hashToken(credential, this.cost), { bounded: true });
  }

  /** A fresh record for `credential` under `id`: only its bcrypt hash is kept. */
  private async newRecord(id: string, credential: string, fields: ReturnType<typeof checkCreateInput>, input: CreateTokenInput): Promise<TokenRecord> {
    const now = this.now();
    const expiresAt = input.expiresAt === undefined ? this.expiry(input.expiresIn, now) : this.exactExpiry(input.expiresAt, now);
    return {
      id,
      method: 'TOKEN',
      credential_hash: await this.hashForCreate(credential),
      scopes: fields.scopes,
      metadata: { name: fields.name, description: fields.description, created_by: fields.createdBy },
      created_at: iso(now),
      expires_at: expiresAt === null ? null : iso(expiresAt),
      last_used_at: null,
      ...(fields.deliveryPath ? { delivery_path: fields.deliveryPath } : {}),
    };
  }

  private recordPath(id: string): string {
    return `${this.path}/${id}`;
  }

  private lastUsedPath(id: string): string {
    return `${this.path}/${LAST_USED}/${id}`;
  }

  private revokedPath(id: string): string {
    return `${this.path}/${REVOKED}/${id}`;
  }

  private expiry(expiresIn: number | string | null | undefined, now: number): number | null {
    const lifetime = expiresIn === undefined ? this.ttlMs : (durationMs(expiresIn, 'expiresIn') ?? null);
    if (this.maxTtlMs !== null) {
      if (lifetime === null) throw new TokenError('INVALID_TOKEN_INPUT', 'expiresIn is required: this store has a maxTtl, so every token must expire');
      if (lifetime > this.maxTtlMs) throw new TokenError('INVALID_TOKEN_INPUT', `expiresIn is longer than the maximum of ${this.maxTtlMs / 1000} seconds`);
    }
    return lifetime === null ? null : now + lifetime;
  }

  /** `expiresAt` as epoch ms: in the future and within `maxTtl`, kept exactly (no rounding). */
  private exactExpiry(at: number | string, now: number): number {
    const ms = new Date(at).getTime();
    if (Number.isNaN(ms) || ms <= now) throw new TokenError('INVALID_TOKEN_INPUT', 'expiresAt must be a time in the future');
    if (this.maxTtlMs !== null && ms - now > this.maxTtlMs) throw new TokenError('INVALID_TOKEN_INPUT', `expiresAt is later than the maximum lifetime of ${this.maxTtlMs / 1000} seconds`);
    return ms;
  }

  private refuseStatic(id: string, verb: string): void {
    if (this.statics.byId.has(id)) {
      throw new TokenError('TOKEN_READ_ONLY', `Token "${id}" comes from configuration and cannot be ${verb} here; change the configuration instead.`);
    }
  }

  private forget(id: string): void {
    this.generation++;
    this.cache.invalidate((auth) => auth.source === 'store' && auth.tokenId === id);
    this.inflight.clear();
    this.lastUsed.forget(id);
  }

  private index(input: StaticTokensInput | null | undefined): StaticIndex {
    return indexStaticTokens(input, (credential) => this.cache.digest(credential));
  }
}
