import { randomBytes } from 'node:crypto';

/** The base62 digits, in value order. */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const BASE62 = /^[0-9A-Za-z]+$/;

/** Whether `text` is a non-empty string of base62 digits. */
export const isBase62 = (text: string): boolean => BASE62.test(text);

/** Writes a non-negative integer in base62, most significant digit first, left-padded with "0" to `width`. */
export function toBase62(value: bigint, width: number): string {
  let out = '';
  let n = value;
  while (n > 0n) {
    out = BASE62_ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(width, '0');
}

/** The `count` lowest base62 digits of `value`, least significant first. */
export function lowBase62Digits(value: bigint, count: number): string {
  let out = '';
  let n = value;
  for (let i = 0; i < count; i++) {
    out += BASE62_ALPHABET[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}

/** Uniform random base62 string (rejection sampling: bytes >= 248 are discarded). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62_ALPHABET[byte % 62];
    }
  }
  return out;
}
