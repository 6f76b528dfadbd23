import { createHash } from 'node:crypto';

/** Length of `sidDigest()`: 32 bytes in base64url without padding. */
export const SID_DIGEST_LENGTH = 43;

/**
 * The name a session is stored under: base64url(SHA-256(sid)), 43 characters of [A-Za-z0-9_-].
 * A session id is a bearer credential, and storage keys are not secret: on Vault/OpenBao the key is
 * in every request URL, and audit devices HMAC request and response data but not paths; on the file
 * provider it is a file name. Session ids are high-entropy random strings, so a plain (unkeyed)
 * hash cannot be reversed, and every app instance computes the same name without sharing a key.
 */
export function sidDigest(sid: string): string {
  return createHash('sha256').update(sid, 'utf8').digest('base64url');
}
