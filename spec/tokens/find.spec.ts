import { checksum, generateToken } from '../../lib/tokens/format';
import { findTokens } from '../../lib/tokens/find';

describe('findTokens (the documented scanning pattern + CRC32 check)', () => {
  const real = Array.from({ length: 20 }, () => generateToken('esa').token);
  const flip = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
  const body = (t: string) => t.slice(0, -6);
  const nearMisses = [
    ...real.slice(0, 5).map(flip), // wrong CRC
    ...real.slice(0, 3).map((t) => t.slice(0, -1)), // one short
    ...real.slice(0, 3).map((t) => `${t}x`), // one long (inside a longer word)
    (() => {
      const b = `esa_${'a'.repeat(11)}_${'b'.repeat(44)}`;
      return b + checksum(b);
    })(), // other lengths, valid CRC
    (() => {
      const b = `xsa_${'a'.repeat(12)}_${'b'.repeat(43)}`;
      return b + checksum(b);
    })(), // other prefix
    `esa_${'Z'.repeat(12)}_${'9'.repeat(49)}`, // random base62 of the right shape
    `Xesa${body(real[0]).slice(3)}${checksum(body(real[0]))}`,
  ];
  it('finds every real token inside URLs, JSON and quotes, and no near-miss', () => {
    const text = [
      `https://example.test/cb?token=${real[0]}&x=1`,
      JSON.stringify({ token: real[1], list: real.slice(2, 6) }),
      `'${real[6]}' "${real[7]}" \`${real[8]}\``,
      ...real.slice(9),
      ...nearMisses,
      nearMisses.join(' '),
    ].join('\n');
    const found = findTokens(text, 'esa');
    expect(found.sort()).toEqual([...real].sort());
    console.log(`findTokens: ${found.length}/${real.length} real tokens found, 0/${nearMisses.length} near-misses reported`);
  });
  it('follows a configured prefix', () => {
    const t = generateToken('acme').token;
    expect(findTokens(`${t} ${real[0]}`, 'acme')).toEqual([t]);
  });
});
