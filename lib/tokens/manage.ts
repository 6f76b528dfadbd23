import { ConflictError } from '../errors';
import { forEachBounded } from '../shared/bounded';
import type { TokenChecker } from './check';
import type { ConcurrencyLimit } from './concurrency-limit';
import { TokenError } from './errors';
import { generateToken, isTokenId } from './format';
import { hashToken } from './hash';
import { importedTokenId, MIN_IMPORTED_LENGTH } from './imported';
import { lastUsedOf } from './last-used';
import { type CreateTokenInput, checkCreateInput, durationMs, epoch, iso, toInfo } from './record';
import type { StoredTokens } from './stored';
import type { IssuedToken, TokenInfo, TokenRecord } from './types';

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

/** What the managing part of a TokenStore is built from. */
export interface TokenManagerParts {
  stored: StoredTokens;
  prefix: string;
  cost: number;
  /** Default lifetime in ms, null for none. */
  ttlMs: number | null;
  /** Longest lifetime in ms, null for no limit. */
  maxTtlMs: number | null;
  /** bcrypt slots of creation, import and rotation: their own, so they never delay a verification. */
  createLimit: ConcurrencyLimit;
  /** The checking part: knows the static tokens, and forgets a stored token when it changes. */
  checker: Pick<TokenChecker, 'staticToken' | 'allStaticTokens' | 'forget'>;
  /** How long a rotated-away secret is remembered (after its grace) to detect its reuse, ms. */
  reuseWindowMs: number;
  now: () => number;
}

const copyInfo = (info: TokenInfo): TokenInfo => ({ ...info, scopes: [...info.scopes] });

/**
 * The managing half of a TokenStore: creates, imports, lists, reads, rotates and revokes stored
 * records (static tokens are listed and read, never changed).
 */
export class TokenManager {
  constructor(private readonly parts: TokenManagerParts) {}

  /** See TokenStore.create. */
  async create(input: CreateTokenInput): Promise<IssuedToken> {
    const fields = checkCreateInput(input);
    const { token, id } = generateToken(this.parts.prefix);
    const record = await this.newRecord(id, token, fields, input);
    await this.parts.stored.provider.put(this.parts.stored.recordPath(id), { ...record }, { maxVersions: 1 });
    return { token, record: toInfo(record) };
  }

  /** See TokenStore.importToken. */
  async importToken(credential: string, input: CreateTokenInput): Promise<TokenInfo> {
    const { stored, prefix } = this.parts;
    if (typeof credential !== 'string' || credential.length < MIN_IMPORTED_LENGTH || credential.length > 4096) {
      throw new TokenError('INVALID_TOKEN_INPUT', `credential must be ${MIN_IMPORTED_LENGTH} to 4096 characters`);
    }
    const fields = checkCreateInput(input);
    const id = await importedTokenId(credential, prefix);
    // A read, not check-and-set, so imports work on KV v1 mounts too (an operator runs them once).
    if (await stored.read(id)) throw new TokenError('TOKEN_EXISTS', `Token "${id}" is already in the store.`);
    const record = await this.newRecord(id, credential, fields, input);
    // Importing a credential again after its revocation is an operator's explicit wish (KV v1 tombstone).
    await stored.provider.delete(stored.revokedPath(id));
    await stored.provider.put(stored.recordPath(id), { ...record }, { maxVersions: 1 });
    return toInfo(record);
  }

  /** See TokenStore.list. */
  async list(): Promise<TokenInfo[]> {
    const ids = await this.parts.stored.ids();
    const stored: TokenInfo[] = [];
    await forEachBounded(ids, 8, async (id) => {
      const info = await this.readInfo(id);
      if (info) stored.push(info);
    });
    stored.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id));
    return [...stored, ...this.parts.checker.allStaticTokens().map((e) => copyInfo(e.info))];
  }

  /** See TokenStore.get. */
  async get(id: string): Promise<TokenInfo | null> {
    const entry = this.parts.checker.staticToken(id);
    if (entry) return copyInfo(entry.info);
    if (!this.parts.stored.isRecordId(id)) return null;
    return this.readInfo(id);
  }

  /** See TokenStore.revoke. */
  async revoke(id: string): Promise<boolean> {
    const { stored, checker } = this.parts;
    this.refuseStatic(id, 'revoked');
    if (!stored.isRecordId(id)) return false;
    const found = await stored.read(id);
    checker.forget(id);
    if (!found) return false;
    if (found.version === undefined) await stored.provider.put(stored.revokedPath(id), { revoked_at: iso(this.parts.now()) });
    await stored.provider.delete(stored.recordPath(id));
    // After the record: a last-use write racing this finds the record gone and deletes its own (last-used.ts).
    await stored.provider.delete(stored.lastUsedPath(id));
    await stored.provider.delete(`${stored.path}/expiry-notices/store.${id}`); // its expiry notice record, if any
    checker.forget(id);
    return true;
  }

  /** See TokenStore.rotate. */
  async rotate(id: string, opts: RotateOptions = {}): Promise<IssuedToken> {
    const { stored, checker } = this.parts;
    this.refuseStatic(id, 'rotated');
    if (!isTokenId(id)) throw notFound(id);
    const graceMs = durationMs(opts.grace, 'grace') ?? null;
    const { token } = generateToken(this.parts.prefix, id);
    const hash = await this.hashForCreate(token);
    const now = this.parts.now();
    let seenRotatedAt: string | null = null;
    // A concurrent write (e.g. a last_used_at update) makes the check-and-set fail: re-read, retry.
    for (let attempt = 1; ; attempt++) {
      const found = await stored.read(id);
      if (!found || (await stored.hasTombstone(found, id))) throw notFound(id);
      if (attempt === 1) seenRotatedAt = found.record.rotated_at ?? null;
      else if (opts.deliver && (found.record.rotated_at ?? null) !== seenRotatedAt) throw new ConflictError(stored.recordPath(id));
      const expiresAt = opts.expiresIn === undefined ? epoch(found.record.expires_at) : this.expiry(opts.expiresIn, now);
      const record: TokenRecord = {
        ...found.record,
        credential_hash: hash,
        expires_at: expiresAt === null ? null : iso(expiresAt),
        rotated_at: iso(now),
        previous_credential_hash: graceMs === null ? null : found.record.credential_hash,
        previous_expires_at: graceMs === null ? null : iso(now + graceMs),
        retired_credentials: retire(found.record, now + (graceMs ?? 0) + this.parts.reuseWindowMs, now),
      };
      if (attempt === 1 && opts.deliver) await opts.deliver(token, toInfo(record));
      try {
        if (found.version === undefined) await this.putUnversioned(id, record);
        else await stored.provider.put(stored.recordPath(id), { ...record }, { cas: found.version });
      } catch (err) {
        if (err instanceof ConflictError && found.version !== undefined && attempt < 5) continue;
        throw err;
      } finally {
        checker.forget(id);
      }
      return { token, record: toInfo(record) };
    }
  }

  /** The public view of stored token `id`, its last use merged in from `<path>/last-used/<id>`. */
  private async readInfo(id: string): Promise<TokenInfo | null> {
    const { stored } = this.parts;
    const [found, used] = await Promise.all([stored.read(id), stored.provider.get(stored.lastUsedPath(id))]);
    if (!found || (await stored.hasTombstone(found, id))) return null;
    const info = toInfo(found.record);
    const separate = lastUsedOf(used?.data);
    const inRecord = epoch(info.lastUsedAt); // records written before last uses had their own record
    const latest = Math.max(separate ?? -1, inRecord ?? -1);
    return latest < 0 ? info : { ...info, lastUsedAt: iso(latest) };
  }

  /**
   * A rotation's write on a backend without check-and-set (KV v1). A revocation between the read
   * and this write would be undone by it, so the tombstone is checked after writing and the record
   * deleted again (TOKEN_NOT_FOUND); verification refuses the token meanwhile (it checks the
   * tombstone too). Reading the record back catches a concurrent rotation that already landed
   * (ConflictError); one landing after the read-back cannot be told apart (see docs).
   */
  private async putUnversioned(id: string, record: TokenRecord): Promise<void> {
    const { stored } = this.parts;
    const path = stored.recordPath(id);
    await stored.provider.put(path, { ...record });
    if (await stored.isRevoked(id)) {
      await stored.provider.delete(path);
      await stored.provider.delete(stored.lastUsedPath(id));
      throw notFound(id);
    }
    const after = await stored.read(id);
    if (after?.record.credential_hash !== record.credential_hash) throw new ConflictError(path);
  }

  /** bcrypt for a new credential, in the creation budget: refused with LimitBusyError when its queue is full. */
  private hashForCreate(credential: string): Promise<string> {
    return this.parts.createLimit.run(() => hashToken(credential, this.parts.cost), { bounded: true });
  }

  /** A fresh record for `credential` under `id`: only its bcrypt hash is kept. */
  private async newRecord(id: string, credential: string, fields: ReturnType<typeof checkCreateInput>, input: CreateTokenInput): Promise<TokenRecord> {
    const now = this.parts.now();
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

  private expiry(expiresIn: number | string | null | undefined, now: number): number | null {
    const { ttlMs, maxTtlMs } = this.parts;
    const lifetime = expiresIn === undefined ? ttlMs : (durationMs(expiresIn, 'expiresIn') ?? null);
    if (maxTtlMs !== null) {
      if (lifetime === null) throw new TokenError('INVALID_TOKEN_INPUT', 'expiresIn is required: this store has a maxTtl, so every token must expire');
      if (lifetime > maxTtlMs) throw new TokenError('INVALID_TOKEN_INPUT', `expiresIn is longer than the maximum of ${maxTtlMs / 1000} seconds`);
    }
    return lifetime === null ? null : now + lifetime;
  }

  /** `expiresAt` as epoch ms: in the future and within `maxTtl`, kept exactly (no rounding). */
  private exactExpiry(at: number | string, now: number): number {
    const { maxTtlMs } = this.parts;
    const ms = new Date(at).getTime();
    if (Number.isNaN(ms) || ms <= now) throw new TokenError('INVALID_TOKEN_INPUT', 'expiresAt must be a time in the future');
    if (maxTtlMs !== null && ms - now > maxTtlMs)
      throw new TokenError('INVALID_TOKEN_INPUT', `expiresAt is later than the maximum lifetime of ${maxTtlMs / 1000} seconds`);
    return ms;
  }

  private refuseStatic(id: string, verb: string): void {
    if (this.parts.checker.staticToken(id)) {
      throw new TokenError('TOKEN_READ_ONLY', `Token "${id}" comes from configuration and cannot be ${verb} here; change the configuration instead.`);
    }
  }
}

/** Most rotated-away secrets remembered per token: each costs one bcrypt on a failed verification of that id. */
export const MAX_RETIRED = 2;

/** The record's retired secrets after a rotation: its current one added first, lapsed ones dropped. */
function retire(r: TokenRecord, until: number, now: number): { hash: string; until: string }[] {
  const kept = (r.retired_credentials ?? []).filter((e) => Date.parse(e.until) > now && e.hash !== r.credential_hash);
  return [{ hash: r.credential_hash, until: iso(until) }, ...kept].slice(0, MAX_RETIRED);
}

const notFound = (id: string): TokenError => new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
