import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { ConfigError } from '../errors';

const ALGORITHM = 'aes-256-gcm';
const KDF_SALT = 'express-secrets-auth/file-provider/v1';

export interface Sealed {
  alg: typeof ALGORITHM;
  iv: string;
  tag: string;
  ct: string;
}

/**
 * Turns the configured key into 32 bytes: 64 hex characters or base64 of 32 bytes are used as
 * they are; any other string of at least 16 characters is a passphrase stretched once with scrypt.
 */
export function deriveKey(encryptionKey: string | Buffer): Buffer {
  if (Buffer.isBuffer(encryptionKey)) {
    if (encryptionKey.length !== 32) throw new ConfigError('encryptionKey: a Buffer key must be exactly 32 bytes');
    return encryptionKey;
  }
  if (typeof encryptionKey !== 'string' || encryptionKey.length === 0) {
    throw new ConfigError('encryptionKey: must be a non-empty string or a 32-byte Buffer');
  }
  if (/^[0-9a-fA-F]{64}$/.test(encryptionKey)) return Buffer.from(encryptionKey, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(encryptionKey)) return Buffer.from(encryptionKey, 'base64');
  if (encryptionKey.length < 16) {
    throw new ConfigError('encryptionKey: use 64 hex characters, base64 of 32 bytes, or a passphrase of at least 16 characters');
  }
  return scryptSync(encryptionKey, KDF_SALT, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}

/** Encrypts `plaintext`, binding it to `aad` (the secret's path and version) so files cannot be swapped. */
export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { alg: ALGORITHM, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

/** Decrypts a sealed value; returns null when the key is wrong or the data was altered. */
export function unseal(key: Buffer, sealed: Sealed, aad: string): string | null {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
