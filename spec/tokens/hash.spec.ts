import { sleep } from '../support/sleep';
import { ConfigError } from '../../lib/errors';
import { hashToken, sha256Hash, verifyTokenHash } from '../../lib/tokens/hash';
import { ConcurrencyLimit } from '../../lib/tokens/concurrency-limit';

describe('credential hashes', () => {
  test('bcrypt:$2b$ at the requested cost (default 10), verified by the token only', async () => {
    const hash = await hashToken('esa_token-one');
    expect(hash).toMatch(/^bcrypt:\$2b\$10\$/);
    expect(await verifyTokenHash('esa_token-one', hash)).toBe(true);
    expect(await verifyTokenHash('esa_token-two', hash)).toBe(false);
    expect(await hashToken('x', 4)).toMatch(/^bcrypt:\$2b\$04\$/);
    await expect(hashToken('x', 3)).rejects.toThrow(ConfigError);
  });

  test('nothing past 72 bytes is ignored: tokens differing only at the end do not match', async () => {
    const long = 'p'.repeat(100);
    const hash = await hashToken(`${long}A`, 4);
    expect(await verifyTokenHash(`${long}A`, hash)).toBe(true);
    expect(await verifyTokenHash(`${long}B`, hash)).toBe(false);
  });

  test('legacy sha256:<hex> hashes verify in constant time on fixed-length digests', async () => {
    const hash = sha256Hash('legacy-token');
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await verifyTokenHash('legacy-token', hash)).toBe(true);
    expect(await verifyTokenHash('legacy-tokeN', hash)).toBe(false);
    expect(await verifyTokenHash('legacy-token', hash.toUpperCase().replace('SHA256', 'sha256'))).toBe(true);
  });

  test('unknown or malformed hashes never match (and never throw)', async () => {
    for (const bad of ['', 'plain', 'md5:abc', 'sha256:abc', 'bcrypt:nope', '$2b$10$abc']) {
      expect(await verifyTokenHash('anything', bad)).toBe(false);
    }
  });

  test('bcrypt runs behind the concurrency limit', async () => {
    const limit = new ConcurrencyLimit(2);
    let active = 0;
    let peak = 0;
    const task = async () => {
      active++;
      peak = Math.max(peak, active);
      await sleep(5);
      active--;
    };
    await Promise.all(Array.from({ length: 10 }, () => limit.run(task)));
    expect(peak).toBe(2);
    const hash = await hashToken('t', 4);
    const results = await Promise.all(Array.from({ length: 8 }, () => verifyTokenHash('t', hash, limit)));
    expect(results.every(Boolean)).toBe(true);
  });
});
