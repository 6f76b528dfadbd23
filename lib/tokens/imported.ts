import { createHash } from 'node:crypto';
import { ID_LENGTH, parseToken } from './format';

/** Shortest credential that can be imported (as for static tokens). */
export const MIN_IMPORTED_LENGTH = 16;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The record id of an imported credential — a static token from configuration moved into the
 * store so that clients keep using the same string. A token in this library's format keeps its
 * own id; any other credential gets 12 base62 characters derived from its SHA-256, so the
 * record can be found from the presented token alone. (A record's id is public, like any token
 * id; the credential itself is stored only as a bcrypt hash.)
 */
export function importedTokenId(credential: string, prefix: string): string {
  const parsed = parseToken(credential, prefix);
  if (parsed) return parsed.id;
  const digest = createHash('sha256').update(`express-secrets-auth/imported-token:${credential}`).digest();
  let n = BigInt(`0x${digest.toString('hex')}`);
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) {
    id += ALPHABET[Number(n % 62n)];
    n /= 62n;
  }
  return id;
}

/**
 * Whether `token` should be looked up as an imported credential: only when the store accepts
 * imported tokens, and never for a string that claims this library's prefix (those must pass the
 * offline checksum, so a tampered token still costs no backend call).
 */
export function mayBeImported(token: string, prefix: string, acceptImported: boolean): boolean {
  return acceptImported && token.length >= MIN_IMPORTED_LENGTH && !token.startsWith(`${prefix}_`);
}
