import { scrypt } from 'node:crypto';
import { lowBase62Digits } from './base62';
import { ID_LENGTH, parseToken } from './format';

/** Shortest credential that can be imported (as for static tokens). */
export const MIN_IMPORTED_LENGTH = 16;

// scrypt cost for imported ids: about 20-50 ms and 16 MiB per derivation (paid once per token
// per process thanks to the verify cache), so a public id is no cheap oracle for guessing the
// credential offline.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 32 * 1024 * 1024 };
const SALT = 'express-secrets-auth/imported-token/v1';

/**
 * The record id of an imported credential — a static token from configuration moved into the
 * store so that clients keep using the same string. A token in this library's format keeps its
 * own id; any other credential gets 12 base62 characters derived from it with scrypt, so the
 * record can be found from the presented token alone while the public id costs an attacker a
 * slow hash per guess. The credential itself is stored only as a bcrypt hash.
 */
export async function importedTokenId(credential: string, prefix: string): Promise<string> {
  const parsed = parseToken(credential, prefix);
  if (parsed) return parsed.id;
  const digest = await new Promise<Buffer>((resolve, reject) => scrypt(credential, SALT, 16, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
  return lowBase62Digits(BigInt(`0x${digest.toString('hex')}`), ID_LENGTH);
}

/**
 * Whether `token` should be looked up as an imported credential: only when the store accepts
 * imported tokens, and never for a string that claims this library's prefix (those must pass the
 * offline checksum, so a tampered token still costs no backend call).
 */
export function mayBeImported(token: string, prefix: string, acceptImported: boolean): boolean {
  return acceptImported && token.length >= MIN_IMPORTED_LENGTH && !token.startsWith(`${prefix}_`);
}
