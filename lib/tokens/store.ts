import type { SecretRefWatcher } from '../shared/watcher';
import { ConfigError, describeError } from '../errors';
import { parsePath } from '../providers/paths';
import { isBcryptCost, MAX_BCRYPT_COST, MIN_BCRYPT_COST } from '../shared/token-limits';
import { TokenChecker } from './check';
import { ConcurrencyLimit } from './concurrency-limit';
import { isValidPrefix } from './format';
import { LastUsedWriter } from './last-used';
import { type RotateOptions, TokenManager } from './manage';
import { FailureLimiter } from './rate-limit';
import { type CreateTokenInput, durationMs } from './record';
import { renamedOption } from '../shared/deprecated-option';
import { followStaticTokens } from './static';
import { StoredTokens } from './stored';
import type { AuthInfo, IssuedToken, StaticTokensInput, TokenInfo, TokenRecord, TokenStoreOptions, TokenVerifier } from './types';
import { VerifyCache } from './verify-cache';
import { createEmitter } from './events';
import { ExpiryNotifier } from './expiry-notice';
import { durationSeconds } from '../shared/duration';

export type { RotateOptions } from './manage';
export type { CreateTokenInput } from './record';
export type { IssuedToken, TokenStoreOptions } from './types';

function isWatcher(value: unknown): value is SecretRefWatcher<StaticTokensInput> {
  return typeof value === 'object' && value !== null && 'current' in value && typeof (value as { on?: unknown }).on === 'function';
}

/**
 * API tokens: stored ones (one bcrypt-hashed record per token under `path` in a SecretProvider)
 * and static ones from configuration (read-only), verified side by side. Composed of a
 * TokenManager (records: create, import, list, get, rotate, revoke) and a TokenChecker (verify,
 * the verify cache, static tokens, last uses).
 */
/** Old names of in-process times (already ms) that gained the `Ms` suffix; kept for one minor version. */
const VERIFY_CACHE_TTL_RENAME = { owner: 'TokenStore', oldName: 'verifyCacheTtl', newName: 'verifyCacheTtlMs', conversion: 'the same number of milliseconds' };
const LAST_USED_INTERVAL_RENAME = {
  owner: 'TokenStore',
  oldName: 'lastUsedInterval',
  newName: 'lastUsedIntervalMs',
  conversion: 'the same number of milliseconds',
};

function positiveDurationMs(value: number | string | undefined, name: string, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds * 1000;
  const s = durationSeconds(value);
  if (s === undefined || s <= 0) throw new ConfigError(`TokenStore: ${name} must be a positive number of seconds or a duration like "7d"`);
  return s * 1000;
}

export class TokenStore implements TokenVerifier {
  readonly prefix: string;
  /** The failed-attempt limiter every `bearerAuth()` on this store shares; null when `rateLimit: false`. */
  readonly failureLimiter: FailureLimiter | null;
  private readonly checker: TokenChecker;
  private readonly manager: TokenManager;
  private readonly lastUsed: LastUsedWriter;
  private unwatch?: () => void;
  private readonly notifier: ExpiryNotifier;

  constructor(opts: TokenStoreOptions) {
    if (!opts?.provider) throw new ConfigError('TokenStore: provider is required');
    const stored = new StoredTokens(opts.provider, parsePath(opts.path ?? 'tokens').join('/'));
    this.prefix = opts.prefix ?? 'esa';
    if (!isValidPrefix(this.prefix)) throw new ConfigError('TokenStore: prefix must be 1-16 letters or digits, starting with a letter');
    const cost = opts.bcryptCost ?? 10;
    if (!isBcryptCost(cost)) throw new ConfigError(`TokenStore: bcryptCost must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`);
    const ttlMs = durationMs(opts.ttl, 'ttl') ?? null;
    const maxTtlMs = durationMs(opts.maxTtl, 'maxTtl') ?? null;
    const now = opts.now ?? Date.now;
    const cache = new VerifyCache({ ttlMs: renamedOption<number>(opts, VERIFY_CACHE_TTL_RENAME) ?? 60_000, max: opts.verifyCacheMax ?? 10_000 });
    const limit = new ConcurrencyLimit(opts.bcryptConcurrency ?? 2, opts.bcryptMaxQueue ?? 64);
    const createLimit = new ConcurrencyLimit(opts.createConcurrency ?? 1, opts.createMaxQueue ?? 16, {
      concurrency: 'createConcurrency',
      maxQueue: 'createMaxQueue',
      busy: 'Too many token creations are waiting; retry shortly.',
    });
    this.failureLimiter = opts.rateLimit === false ? null : new FailureLimiter(opts.rateLimit ?? {}, 'TokenStore');
    const logger = opts.logger ?? console;
    const intervalMs = renamedOption<number>(opts, LAST_USED_INTERVAL_RENAME) ?? 300_000;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new ConfigError('TokenStore: lastUsedIntervalMs must be a non-negative number of ms');
    this.lastUsed = new LastUsedWriter({
      provider: stored.provider,
      recordPath: (id) => stored.recordPath(id),
      lastUsedPath: (id) => stored.lastUsedPath(id),
      intervalMs,
      logger,
      now,
    });
    const emit = createEmitter(opts.onAudit, logger, now);
    const reuseWindowMs = positiveDurationMs(opts.reuseWindow, 'reuseWindow', 30 * 86_400);
    const revokeOnReuse = opts.revokeOnReuse ?? false;
    if (typeof revokeOnReuse !== 'boolean') throw new ConfigError('TokenStore: revokeOnReuse must be true or false');
    const onReuse = async (r: TokenRecord): Promise<void> => {
      let revoked = false;
      if (revokeOnReuse) {
        try {
          revoked = await this.manager.revoke(r.id);
        } catch (err) {
          (logger.error ?? logger.warn).call(logger, `express-secrets-auth: token ${r.id} not revoked after reuse: ${describeError(err)}`);
        }
      }
      await emit(
        'token.reuse_detected',
        { id: r.id, name: r.metadata.name, scopes: r.scopes },
        { successor_id: r.id, rotated_at: r.rotated_at ?? null, revoked },
      );
    };
    const input = opts.staticTokens;
    const acceptImported = opts.acceptImported ?? false;
    this.checker = new TokenChecker(
      { stored, prefix: this.prefix, cost, acceptImported, cache, limit, lastUsed: this.lastUsed, onReuse, reuseWindowMs, now },
      isWatcher(input) ? input.current : input,
    );
    this.manager = new TokenManager({ stored, prefix: this.prefix, cost, ttlMs, maxTtlMs, createLimit, checker: this.checker, reuseWindowMs, now });
    const checkMs = opts.expiryCheckIntervalMs ?? 3_600_000;
    if (!Number.isFinite(checkMs) || checkMs < 0) throw new ConfigError('TokenStore: expiryCheckIntervalMs must be a non-negative number of ms');
    this.notifier = new ExpiryNotifier({
      stored,
      staticTokens: () => this.checker.allStaticTokens().map((e) => e.info),
      emit,
      notifyBeforeMs: positiveDurationMs(opts.notifyBefore, 'notifyBefore', 7 * 86_400),
      intervalMs: opts.onAudit ? checkMs : 0,
      logger,
      now,
    });
    this.notifier.start();
    if (isWatcher(input)) this.unwatch = followStaticTokens(input, (next) => this.setStaticTokens(next), logger);
  }

  /** Replaces the static tokens (e.g. after a secret reference changed); old ones stop at once. */
  setStaticTokens(input: StaticTokensInput | null | undefined): void {
    this.checker.setStaticTokens(input);
  }

  /** Issues a new token. The returned `token` is the only copy of the plaintext. */
  create(input: CreateTokenInput): Promise<IssuedToken> {
    return this.manager.create(input);
  }

  /**
   * Stores an existing credential (e.g. a static token from configuration) as a hashed record,
   * so clients keep using the same string. Verified only by stores with `acceptImported: true`,
   * unless it is already in this library's token format.
   * @throws TokenError TOKEN_EXISTS when it was imported before; INVALID_TOKEN_INPUT.
   */
  importToken(credential: string, input: CreateTokenInput): Promise<TokenInfo> {
    return this.manager.importToken(credential, input);
  }

  /** Every token, stored and static (`source: "config"`), oldest first. */
  list(): Promise<TokenInfo[]> {
    return this.manager.list();
  }

  /** One token by id (static ones included), or null. */
  get(id: string): Promise<TokenInfo | null> {
    return this.manager.get(id);
  }

  /**
   * Revokes a stored token (deletes its record and its last-use record); it stops working in this process at once
   * and in others within `verifyCacheTtlMs`. Resolves false when there was no such token. On a
   * backend without versions (KV v1) a tombstone `<path>/revoked/<id>` is written first, which
   * verification and rotation check, so a rotation racing this revocation cannot revive it.
   * @throws TokenError TOKEN_READ_ONLY for a static token.
   */
  revoke(id: string): Promise<boolean> {
    return this.manager.revoke(id);
  }

  /**
   * Gives a stored token a new secret (same id). Without `grace` the old secret stops at once;
   * with `grace` (seconds or a duration) it keeps working until then. `expiresIn` sets a new
   * lifetime (default: keep the current expiry).
   * @throws TokenError TOKEN_NOT_FOUND, TOKEN_READ_ONLY (static token), INVALID_TOKEN_INPUT.
   */
  rotate(id: string, opts: RotateOptions = {}): Promise<IssuedToken> {
    return this.manager.rotate(id, opts);
  }

  /**
   * The principal of `token`, or null when it is malformed, unknown, expired or revoked.
   * Malformed tokens (bad prefix, length or checksum) never reach the backend.
   * @throws BackendUnavailableError (or another provider error) when the backend cannot answer.
   */
  verify(token: string): Promise<AuthInfo | null> {
    return this.checker.verify(token);
  }

  /**
   * What `verify` would answer, when it can tell without I/O or bcrypt: a recently verified or
   * static token, or a malformed one. `undefined` means "ask `verify`". Lets `bearerAuth` serve
   * warm tokens without an async hop.
   */
  verifySync(token: string): AuthInfo | null | undefined {
    return this.checker.verifySync(token);
  }

  /** Resolves when background `last_used_at` writes in flight have finished. */
  flush(): Promise<void> {
    return this.lastUsed.flush();
  }

  /**
   * Runs one expiry check now (what the `expiryCheckIntervalMs` timer does): emits `token.expiring`
   * for every token within `notifyBefore` of its expiry that no instance has notified yet.
   * Resolves with the ids this process notified.
   */
  notifyExpiring(): Promise<string[]> {
    return this.notifier.runOnce();
  }

  /** Stops the expiry check and the static-token watcher and waits for background writes. Leaves the provider open. */
  async close(): Promise<void> {
    this.unwatch?.();
    await this.notifier.stop();
    await this.flush();
  }
}
