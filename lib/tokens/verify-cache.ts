import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ConfigError } from '../errors';
import type { AuthInfo } from './types';

/** A remembered successful verification. */
export interface CachedVerification {
  auth: AuthInfo;
  /** Epoch ms after which the token stops being valid (expiry or end of grace), or null. */
  validUntil: number | null;
}

/** Options for `VerifyCache`. */
export interface VerifyCacheOptions {
  /** How long a verification is remembered, in ms; 0 disables the cache. */
  ttlMs: number;
  /** Most verifications remembered (LRU). */
  max: number;
}

/**
 * Remembers verified tokens so bcrypt runs once per token per process per `ttlMs`. Keys are
 * HMAC-SHA256 under a random key made when the process starts, so neither the token nor a
 * digest usable elsewhere is ever held.
 */
export class VerifyCache {
  private readonly hmacKey = randomBytes(32);
  private readonly lru: LRUCache<string, CachedVerification> | null;

  constructor(private readonly opts: VerifyCacheOptions) {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 0) throw new ConfigError('TokenStore: verifyCacheTtlMs must be a non-negative number of ms');
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new ConfigError('TokenStore: verifyCacheMax must be a positive integer');
    this.lru = opts.ttlMs > 0 ? new LRUCache({ max: opts.max, ttl: opts.ttlMs, ttlAutopurge: false }) : null;
  }

  /** HMAC-SHA256(process key, token) as hex: the only form in which tokens are kept. */
  digest(token: string): string {
    return createHmac('sha256', this.hmacKey).update(token, 'utf8').digest('hex');
  }

  /** The cached principal for a digest, unless absent, expired in the cache, or past validity. */
  get(digest: string, now: number): AuthInfo | undefined {
    const hit = this.lru?.get(digest);
    if (!hit) return undefined;
    if (hit.validUntil !== null && now >= hit.validUntil) {
      this.lru?.delete(digest);
      return undefined;
    }
    return hit.auth;
  }

  /** Remembers a verification, for at most `ttlMs` and never past `validUntil`. */
  set(digest: string, value: CachedVerification, now: number): void {
    if (!this.lru) return;
    const ttl = value.validUntil === null ? this.opts.ttlMs : Math.min(this.opts.ttlMs, value.validUntil - now);
    if (ttl > 0) this.lru.set(digest, value, { ttl });
  }

  /** Forgets every verification whose principal matches `predicate`. */
  invalidate(predicate: (auth: AuthInfo) => boolean): void {
    if (!this.lru) return;
    for (const [k, v] of this.lru.entries()) if (predicate(v.auth)) this.lru.delete(k);
  }

  /** Number of remembered verifications. */
  get size(): number {
    return this.lru?.size ?? 0;
  }
}
