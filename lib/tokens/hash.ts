import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcrypt';
import { ConfigError } from '../errors';
import { isBcryptCost, MAX_BCRYPT_COST, MIN_BCRYPT_COST } from '../shared/token-limits';
import type { ConcurrencyLimit } from './concurrency-limit';

/**
 * Credential hashes, stored as `<scheme>:<hash>`:
 *
 * - `bcrypt:$2b$...` (what this library writes). bcrypt reads at most 72 bytes, so it is given
 *   base64(SHA-256(token)) — 44 bytes that depend on every character of the token (prefix, id
 *   and secret) — instead of the token itself: nothing is silently truncated.
 * - `sha256:<64 hex>`: SHA-256 of the whole token, accepted for imported and legacy tokens.
 *   Compared in constant time on the fixed-length digests.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** What bcrypt is given for `token`: base64 of its SHA-256 (44 bytes, no NUL). */
function bcryptInput(token: string): string {
  return sha256(token).toString('base64');
}

/** Whether `stored` names a scheme this library can verify. */
export function isSupportedHash(stored: unknown): stored is string {
  if (typeof stored !== 'string') return false;
  if (stored.startsWith('bcrypt:')) return BCRYPT.test(stored.slice(7));
  if (stored.startsWith('sha256:')) return SHA256_HEX.test(stored.slice(7));
  return false;
}

/** `sha256:<hex>` of a token, the legacy/import form (fast; only for high-entropy tokens). */
export function sha256Hash(token: string): string {
  return `sha256:${sha256(token).toString('hex')}`;
}

/**
 * `bcrypt:$2b$...` of a token at `cost` (default 10), run behind `limit` when given.
 * Use it to prepare a static token's `credential_hash`.
 */
export async function hashToken(token: string, cost = 10, limit?: ConcurrencyLimit): Promise<string> {
  if (!isBcryptCost(cost)) {
    throw new ConfigError(`hashToken: bcrypt cost must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`);
  }
  const run = () => bcrypt.hash(bcryptInput(token), cost);
  return `bcrypt:${await (limit ? limit.run(run) : run())}`;
}

/**
 * Whether `token` matches `stored` (`bcrypt:` or `sha256:`). An unknown or malformed hash never
 * matches. bcrypt comparisons run behind `limit` when given, bounded: when its queue is full this
 * rejects with LimitBusyError instead of waiting (verification is what untrusted requests cause).
 */
export async function verifyTokenHash(token: string, stored: string, limit?: ConcurrencyLimit): Promise<boolean> {
  if (!isSupportedHash(stored)) return false;
  if (stored.startsWith('sha256:')) {
    return timingSafeEqual(Buffer.from(stored.slice(7), 'hex'), sha256(token));
  }
  const run = () => bcrypt.compare(bcryptInput(token), stored.slice(7));
  return limit ? limit.run(run, { bounded: true }) : run();
}
