import { createHash } from 'node:crypto';

/** Length of `sidDigest()`: 32 bytes in base64url without padding. */
export const SID_DIGEST_LENGTH = 43;

/** Longest session id the store accepts, in UTF-16 code units (`sid.length`). */
export const MAX_SESSION_ID_LENGTH = 4096;

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What is wrong with `sid` as a session id, or null when the store can keep it: any non-empty,
 * well-formed string of at most 4096 characters is fine. express-session's `genid` may return
 * anything (`%`, `/`, `..`, base64 with `/`, unicode); the id never reaches a key, path or file name
 * (keys are a SHA-256 of it), so no character needs refusing. Lone surrogates are refused: they do
 * not survive UTF-8, so two such ids could hash alike. The answer never contains the id.
 */
export function sessionIdProblem(sid: unknown): string | null {
  if (typeof sid !== 'string') return `a ${sid === null ? 'null' : typeof sid}, not a string`;
  if (sid.length === 0) return 'empty';
  if (sid.length > MAX_SESSION_ID_LENGTH) return `${sid.length} characters long`;
  if (LONE_SURROGATE.test(sid)) return 'not well-formed (a lone UTF-16 surrogate)';
  return null;
}

export function isValidSessionId(sid: unknown): sid is string {
  return sessionIdProblem(sid) === null;
}

/**
 * The name a session is stored under: base64url(SHA-256(sid)), 43 characters of [A-Za-z0-9_-].
 * A session id is a bearer credential, and storage keys are not secret: on Vault/OpenBao the key is
 * in every request URL, and audit devices HMAC request and response data but not paths; on the file
 * provider it is a file name. Session ids are high-entropy random strings, so a plain (unkeyed)
 * hash cannot be reversed, and every app instance computes the same name without sharing a key.
 */
export function sidDigest(sid: string): string {
  let digest = recentDigests.get(sid);
  if (digest === undefined) {
    digest = createHash('sha256').update(sid, 'utf8').digest('base64url');
    // A request reads, then saves or touches, the same session: remember the last few thousand ids'
    // digests (SHA-256 was a tenth of a cached get). Ids are only ever held in this process's
    // memory, as express-session holds them; cleared whole when full, so it stays bounded.
    if (recentDigests.size >= DIGEST_MEMO_SIZE) recentDigests.clear();
    recentDigests.set(sid, digest);
  }
  return digest;
}

const DIGEST_MEMO_SIZE = 4096;
const recentDigests = new Map<string, string>();
