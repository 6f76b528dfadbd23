import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ConfigError } from '../errors';
import { isBase62, randomBase62, toBase62 } from './base62';
import { TokenError } from './errors';

/**
 * Token format: `<prefix>_<id>_<secret><checksum>`, e.g. `esa_0AbC...` (GitHub-style).
 *
 * - `prefix`: 1-16 ASCII letters/digits starting with a letter (default `esa`), so secret
 *   scanners can recognise the token and a double-click selects all of it.
 * - `id`: 12 base62 characters, public: the record's key and what the UI shows.
 * - `secret`: 32 random bytes written as exactly 43 base62 characters.
 * - `checksum`: CRC32 of everything before it, as exactly 6 base62 characters, so a mistyped or
 *   truncated token is refused offline, without a backend call.
 */

const PREFIX = /^[A-Za-z][A-Za-z0-9]{0,15}$/;

/** Length of a token id. */
export const ID_LENGTH = 12;
/** Random bytes in a token's secret. */
export const SECRET_BYTES = 32;
/** Length of the secret in base62: ceil(256 / log2(62)). */
export const SECRET_LENGTH = 43;
/** Length of the checksum: 62^6 > 2^32. */
export const CHECKSUM_LENGTH = 6;

/** The parts of a well-formed token. */
export interface ParsedToken {
  prefix: string;
  id: string;
  secret: string;
}

/** Whether `prefix` is usable as a token prefix. */
export function isValidPrefix(prefix: string): boolean {
  return typeof prefix === 'string' && PREFIX.test(prefix);
}

/** 6-character base62 CRC32 of `text`. */
export function checksum(text: string): string {
  return toBase62(BigInt(crc32(text)), CHECKSUM_LENGTH);
}

/** Whether `id` has the shape of a token id (12 base62 characters). */
export function isTokenId(id: unknown): id is string {
  return typeof id === 'string' && id.length === ID_LENGTH && isBase62(id);
}

/** A fresh random token id (12 base62 characters). */
export function generateId(): string {
  return randomBase62(ID_LENGTH);
}

/**
 * Builds a token for `id` with a fresh 256-bit secret.
 * @throws ConfigError for an invalid prefix; TokenError INVALID_TOKEN_INPUT for an invalid id.
 */
export function generateToken(prefix: string, id: string = generateId()): { token: string; id: string } {
  if (!isValidPrefix(prefix)) throw new ConfigError('token prefix must be 1-16 letters or digits, starting with a letter');
  if (!isTokenId(id)) throw new TokenError('INVALID_TOKEN_INPUT', `token id must be ${ID_LENGTH} base62 characters`);
  const secret = toBase62(BigInt(`0x${randomBytes(SECRET_BYTES).toString('hex')}`), SECRET_LENGTH);
  const body = `${prefix}_${id}_${secret}`;
  return { token: body + checksum(body), id };
}

/**
 * Splits a token into its parts, or returns null when it is not a well-formed token with this
 * prefix: wrong type, length, prefix, separators, alphabet or checksum. Pure: no I/O.
 */
export function parseToken(token: unknown, prefix: string): ParsedToken | null {
  if (typeof token !== 'string') return null;
  const expected = prefix.length + 2 + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
  if (token.length !== expected || !token.startsWith(`${prefix}_`)) return null;
  const id = token.slice(prefix.length + 1, prefix.length + 1 + ID_LENGTH);
  const rest = token.slice(prefix.length + 1 + ID_LENGTH);
  if (rest[0] !== '_') return null;
  const secret = rest.slice(1, 1 + SECRET_LENGTH);
  const sum = rest.slice(1 + SECRET_LENGTH);
  if (!isBase62(id) || !isBase62(secret) || !isBase62(sum)) return null;
  if (checksum(token.slice(0, token.length - CHECKSUM_LENGTH)) !== sum) return null;
  return { prefix, id, secret };
}
