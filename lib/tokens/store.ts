import { randomBytes } from 'node:crypto';
import type { SecretRefWatcher } from '../config/watch';
import { ConfigError, ConflictError } from '../errors';
import type { SecretProvider } from '../providers/types';
import { isValidSegment, parsePath } from '../providers/paths';
import { TokenError } from './errors';
import { generateToken, isTokenId, isValidPrefix, parseToken } from './format';
import { importedTokenId, MIN_IMPORTED_LENGTH, mayBeImported } from './imported';
import { hashToken, MAX_BCRYPT_COST, MIN_BCRYPT_COST, verifyTokenHash } from './hash';
import { LastUsedWriter } from './last-used';
import { ConcurrencyLimit } from './limit';
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
  private readonly limit: ConcurrencyLimit;
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
    const logger = opts.logger ?? console;
    const intervalMs = opts.lastUsedInterval ?? 300_000;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new ConfigError('TokenStore: lastUsedInterval must be a non-negative number of ms');
    this.lastUsed = new LastUsedWriter({ provider: this.provider, pathOf: (id) => this.recordPath(id), intervalMs, logger, now: this.now });
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
    await this.provider.put(this.recordPath(id), { ...record }, { maxVersions: 1 });
    return toInfo(record);
  }

  /** Every token, stored and static (`source: "config"`), oldest first. */
  async list(): Promise<TokenInfo[]> {
    const ids = (await this.provider.list(this.path)).filter((k) => !k.endsWith('/') && isValidSegment(k));
    const stored: TokenInfo[] = [];
    for (let i = 0; i < ids.length; i += 8) {
      const batch = await Promise.all(ids.slice(i, i + 8).map((id) => this.read(id)));
      for (const found of batch) if (found) stored.push(toInfo(found.record));
    }
    stored.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id));
    return [...stored, ...[...this.statics.byId.values()].map((e) => ({ ...e.info, scopes: [...e.info.scopes] }))];
  }

  /** One token by id (static ones included), or null. */
  async get(id: string): Promise<TokenInfo | null> {
    const fixed = this.statics.byId.get(id);
    if (fixed) return { ...fixed.info, scopes: [...fixed.info.scopes] };
    if (!isValidSegment(id)) return null;
    const found = await this.read(id);
    return found ? toInfo(found.record) : null;
  }

  /**
   * Deletes a stored token; it stops working in this process at once and in others within
   * `verifyCacheTtl`. Resolves false when there was no such token.
   * @throws TokenError TOKEN_READ_ONLY for a static token.
   */
  async revoke(id: string): Promise<boolean> {
    this.refuseStatic(id, 'revoked');
    if (!isValidSegment(id)) return false;
    const found = await this.read(id);
    this.forget(id);
    if (!found) return false;
    await this.provider.delete(this.recordPath(id));
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
    const hash = await hashToken(token, this.cost, this.limit);
    const now = this.now();
    let seenRotatedAt: string | null = null;
    // A concurrent write (e.g. a last_used_at update) makes the check-and-set fail: re-read, retry.
    for (let attempt = 1; ; attempt++) {
      const found = isValidSegment(id) ? await this.read(id) : null;
      if (!found) throw new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
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
        await this.provider.put(this.recordPath(id), { ...record }, found.version === undefined ? {} : { cas: found.version });
      } catch (err) {
        if (err instanceof ConflictError && attempt < 5) continue;
        throw err;
      }
      this.forget(id);
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
    if (!found) {
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

  private async read(id: string): Promise<{ record: TokenRecord; version?: number } | null> {
    const entry = await this.provider.get(this.recordPath(id));
    const record = entry && parseRecord(entry.data, id);
    return record ? { record, version: entry.version } : null;
  }

  /** A fresh record for `credential` under `id`: only its bcrypt hash is kept. */
  private async newRecord(id: string, credential: string, fields: ReturnType<typeof checkCreateInput>, input: CreateTokenInput): Promise<TokenRecord> {
    const now = this.now();
    const expiresAt = input.expiresAt === undefined ? this.expiry(input.expiresIn, now) : this.exactExpiry(input.expiresAt, now);
    return {
      id,
      method: 'TOKEN',
      credential_hash: await hashToken(credential, this.cost, this.limit),
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
