import { ConfigError } from '../errors';
import { CHECKSUM_LENGTH, ID_LENGTH, isValidPrefix, parseToken, SECRET_LENGTH } from './format';

/**
 * The scanning pattern of tokens with `prefix` (documented in docs/leaked-tokens.md): the prefix,
 * `_`, 12 base62 id characters, `_`, 43 + 6 base62 characters, not inside a longer word.
 */
export function tokenPattern(prefix: string): RegExp {
  if (!isValidPrefix(prefix)) throw new ConfigError('token prefix must be 1-16 letters or digits, starting with a letter');
  return new RegExp(`(?<![A-Za-z0-9_])${prefix}_[0-9A-Za-z]{${ID_LENGTH}}_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}(?![A-Za-z0-9_])`, 'g');
}

/**
 * Every well-formed token with `prefix` in `text` (a scanner report, a log, a file): matches of
 * `tokenPattern(prefix)` whose CRC32 checksum holds, without duplicates, in order of appearance.
 * Pure: no I/O.
 */
export function findTokens(text: string, prefix = 'esa'): string[] {
  const found = new Set<string>();
  for (const m of String(text).matchAll(tokenPattern(prefix))) {
    if (parseToken(m[0], prefix)) found.add(m[0]);
  }
  return [...found];
}
