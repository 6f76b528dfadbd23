import { randomBytes } from 'node:crypto';
import type { ConcurrencyLimit } from './concurrency-limit';
import { parseToken } from './format';
import { hashToken, verifyTokenHash } from './hash';
import { importedTokenId, mayBeImported } from './imported';
import type { LastUsedWriter } from './last-used';
import { epoch } from './record';
import { indexStaticTokens, type StaticEntry, type StaticIndex, sha256Hex } from './static';
import type { StoredTokens } from './stored';
import type { AuthInfo, StaticTokensInput, TokenRecord } from './types';
import type { VerifyCache } from './verify-cache';

/** A read-only principal: shared by the verify cache and every request it authenticates. */
export const freezeAuth = (auth: AuthInfo): AuthInfo => Object.freeze({ ...auth, scopes: Object.freeze([...auth.scopes]) as string[] });

const usable = (token: unknown): token is string => typeof token === 'string' && token.length > 0 && token.length <= 4096;

type Verified = { auth: AuthInfo; validUntil: number | null };

/** What the checking part of a TokenStore is built from. */
export interface TokenCheckerParts {
  stored: StoredTokens;
  prefix: string;
  /** bcrypt cost of the dummy hash compared against for unknown ids. */
  cost: number;
  acceptImported: boolean;
  cache: VerifyCache;
  /** bcrypt slots of verification. */
  limit: ConcurrencyLimit;
  lastUsed: LastUsedWriter;
  /** Called (awaited, never throws) when a rotated-away secret is presented; absent: reuse is not looked for. */
  onReuse?: (record: TokenRecord) => Promise<void>;
  /** See TokenManagerParts.reuseWindowMs (for records rotated before retired_credentials existed). */
  reuseWindowMs: number;
  now: () => number;
}

/**
 * The checking half of a TokenStore: verifies presented tokens against the static tokens and the
 * stored records, remembers verified ones (verify cache), shares one verification per token in
 * flight, and notes last uses. Holds the static tokens (it is what matches them).
 */
export class TokenChecker {
  private staticTokens: StaticIndex;
  private readonly inflight = new Map<string, Promise<AuthInfo | null>>();
  /** Bumped by forget/setStaticTokens so verifications already in flight are not cached. */
  private generation = 0;
  /** A hash of a random secret, compared against for unknown ids (see verifyStored). */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly parts: TokenCheckerParts,
    staticTokens: StaticTokensInput | null | undefined,
  ) {
    this.staticTokens = this.index(staticTokens);
  }

  /** Replaces the static tokens; old ones stop at once. Throws ConfigError (keeping the old ones) when `input` is invalid. */
  setStaticTokens(input: StaticTokensInput | null | undefined): void {
    const next = this.index(input);
    this.generation++;
    this.staticTokens = next;
    this.parts.cache.invalidate((auth) => auth.source === 'config');
    this.inflight.clear();
  }

  /** The static token with this id, if any. */
  staticToken(id: string): StaticEntry | undefined {
    return this.staticTokens.byId.get(id);
  }

  /** Every static token, in configuration order. */
  allStaticTokens(): StaticEntry[] {
    return [...this.staticTokens.byId.values()];
  }

  /** Stored token `id` changed or is gone: drop what this process remembers of it. */
  forget(id: string): void {
    this.generation++;
    this.parts.cache.invalidate((auth) => auth.source === 'store' && auth.tokenId === id);
    this.inflight.clear();
    this.parts.lastUsed.forget(id);
  }

  /** See TokenStore.verify. */
  async verify(token: string): Promise<AuthInfo | null> {
    if (!usable(token)) return null;
    const digest = this.parts.cache.digest(token);
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

  /** See TokenStore.verifySync. */
  verifySync(token: string): AuthInfo | null | undefined {
    return usable(token) ? this.fast(token, this.parts.cache.digest(token)) : null;
  }

  private fast(token: string, digest: string): AuthInfo | null | undefined {
    const { cache, prefix, acceptImported } = this.parts;
    const now = this.parts.now();
    const hit = cache.get(digest, now);
    if (hit) return this.accept(hit);
    const entry = this.staticTokens.byHmac.get(digest) ?? this.staticTokens.bySha256.get(sha256Hex(token));
    if (entry) return entry.expiresAt !== null && now >= entry.expiresAt ? null : entry.auth;
    if (this.staticTokens.bcrypt.length === 0 && !parseToken(token, prefix) && !mayBeImported(token, prefix, acceptImported)) return null;
    return undefined;
  }

  private async verifySlow(token: string, digest: string): Promise<AuthInfo | null> {
    const { prefix, acceptImported } = this.parts;
    const generation = this.generation;
    const parsed = parseToken(token, prefix);
    let verified: Verified | null = null;
    if (parsed) verified = await this.verifyStored(token, parsed.id);
    else if (mayBeImported(token, prefix, acceptImported)) verified = await this.verifyStored(token, await importedTokenId(token, prefix));
    if (!verified) verified = await this.verifyStaticBcrypt(token);
    if (verified && generation === this.generation) this.parts.cache.set(digest, verified, this.parts.now());
    return verified?.auth ?? null;
  }

  private async verifyStored(token: string, id: string): Promise<Verified | null> {
    const { stored, limit } = this.parts;
    const found = await stored.read(id);
    if (!found || (await stored.hasTombstone(found, id))) {
      // Pay the bcrypt an existing id would cost, so response time does not tell which ids exist.
      this.dummyHash ??= hashToken(randomBytes(32).toString('hex'), this.parts.cost, limit);
      await verifyTokenHash(token, await this.dummyHash, limit);
      return null;
    }
    const r = found.record;
    const matches = await verifyTokenHash(token, r.credential_hash, limit);
    const now = this.parts.now();
    const expires = epoch(r.expires_at);
    if (expires !== null && now >= expires) return null;
    const auth = freezeAuth({ tokenId: r.id, name: r.metadata.name, scopes: [...r.scopes], source: 'store' });
    if (matches) return { auth, validUntil: expires };
    const graceEnd = epoch(r.previous_expires_at);
    const inGrace = Boolean(r.previous_credential_hash) && graceEnd !== null && now < graceEnd;
    if (inGrace && (await verifyTokenHash(token, r.previous_credential_hash as string, limit))) {
      return { auth, validUntil: expires === null ? graceEnd : Math.min(expires, graceEnd as number) };
    }
    await this.detectReuse(token, r, inGrace ? (r.previous_credential_hash as string) : null, now);
    return null;
  }

  /**
   * Failure path only: whether `token` is a secret this record rotated away (its grace over). Only
   * a token that verifies against a retired hash counts (ids are public: a forged token with a
   * known id and a valid CRC never does). Costs one bcrypt per retired hash (at most MAX_RETIRED).
   */
  private async detectReuse(token: string, r: TokenRecord, checked: string | null, now: number): Promise<void> {
    const { onReuse, limit } = this.parts;
    if (!onReuse) return;
    const candidates = [...(r.retired_credentials ?? [])];
    const graceEnd = epoch(r.previous_expires_at);
    // Records rotated before retired_credentials existed: the previous secret, once its grace ended.
    if (r.previous_credential_hash && graceEnd !== null && !candidates.some((e) => e.hash === r.previous_credential_hash))
      candidates.push({ hash: r.previous_credential_hash, until: new Date(graceEnd + this.parts.reuseWindowMs).toISOString() });
    for (const e of candidates) {
      if (e.hash === checked || e.hash === r.credential_hash || Date.parse(e.until) <= now) continue;
      if (await verifyTokenHash(token, e.hash, limit)) {
        await onReuse(r);
        return;
      }
    }
  }

  private async verifyStaticBcrypt(token: string): Promise<Verified | null> {
    for (const entry of this.staticTokens.bcrypt) {
      if (entry.expiresAt !== null && this.parts.now() >= entry.expiresAt) continue;
      if (await verifyTokenHash(token, entry.bcryptHash as string, this.parts.limit)) return { auth: entry.auth, validUntil: entry.expiresAt };
    }
    return null;
  }

  /** Principals are frozen (shared between requests and the cache), so they are returned as is. */
  private accept(auth: AuthInfo): AuthInfo {
    if (auth.source === 'store') this.parts.lastUsed.note(auth.tokenId);
    return auth;
  }

  private index(input: StaticTokensInput | null | undefined): StaticIndex {
    return indexStaticTokens(input, (credential) => this.parts.cache.digest(credential));
  }
}
