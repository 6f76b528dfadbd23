import fc from 'fast-check';
import { ConfigError } from '../../lib';
import { TokenError } from '../../lib/tokens/errors';
import { checksum, generateToken, parseToken } from '../../lib/tokens/format';

describe('token format <prefix>_<id>_<secret><crc32>', () => {
  test('generates 12-char base62 ids, 43-char base62 secrets and a 6-char checksum', () => {
    const { token, id } = generateToken('esa');
    expect(token).toMatch(/^esa_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(token.slice(4, 16)).toBe(id);
    expect(token.slice(-6)).toBe(checksum(token.slice(0, -6)));
    expect(parseToken(token, 'esa')).toEqual({ prefix: 'esa', id, secret: token.slice(17, 60) });
  });

  test('tokens are unique and every one has the same length', () => {
    const tokens = new Set(Array.from({ length: 2000 }, () => generateToken('esa').token));
    expect(tokens.size).toBe(2000);
    expect(new Set([...tokens].map((t) => t.length))).toEqual(new Set([66]));
  });

  test('any single-character change anywhere is refused offline (CRC32 catches it)', () => {
    const { token } = generateToken('esa');
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, c) => {
        fc.pre(token[i] !== c);
        expect(parseToken(token.slice(0, i) + c + token.slice(i + 1), 'esa')).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  test('wrong prefix, wrong length, bad separators and non-strings are refused', () => {
    const { token } = generateToken('esa');
    expect(parseToken(token, 'ghp')).toBeNull();
    expect(parseToken(token.slice(1), 'sa')).toBeNull();
    expect(parseToken(token.slice(0, -1), 'esa')).toBeNull();
    expect(parseToken(token.replace('_', '-'), 'esa')).toBeNull();
    expect(parseToken(undefined, 'esa')).toBeNull();
    expect(parseToken(42, 'esa')).toBeNull();
  });

  test('custom prefixes work; prefixes that would break parsing are refused', () => {
    const { token } = generateToken('acme');
    expect(parseToken(token, 'acme')).not.toBeNull();
    expect(() => generateToken('a_b')).toThrow(ConfigError);
    expect(() => generateToken('')).toThrow(ConfigError);
    expect(() => generateToken('1abc')).toThrow(ConfigError);
    expect(() => generateToken('esa', 'short')).toThrow(TokenError);
  });
});
