import type { AuthInfo, TokenSource } from './types';

/** What revoking a leaked token needs from a token store (a `TokenStore` fits). */
export interface LeakedTokenStore {
  verify(token: string): Promise<AuthInfo | null>;
  revoke(id: string): Promise<boolean>;
}

/** What became of one reported token that verified. Never holds the token itself. */
export interface LeakedTokenOutcome {
  id: string;
  name: string;
  scopes: string[];
  source: TokenSource;
  /**
   * True when this call revoked it. False for a token from the config (only its owner can remove
   * it there) and for one revoked concurrently by someone else.
   */
  revoked: boolean;
}

/**
 * Revokes `candidate` when it is a live token of `store`: the answer of a leak report (the admin
 * router's `POST /tokens/leaked`, the CLI's `tokens revoke-leaked`). Returns null for anything
 * that does not verify (malformed, unknown, expired, already revoked), so a caller can count
 * outcomes without learning which strings were tokens.
 * @throws whatever the backend throws when it cannot answer (nothing is assumed revoked then).
 */
export async function revokeLeakedToken(store: LeakedTokenStore, candidate: string): Promise<LeakedTokenOutcome | null> {
  const auth = await store.verify(candidate);
  if (!auth) return null;
  const outcome = { id: auth.tokenId, name: auth.name, scopes: [...auth.scopes], source: auth.source };
  if (auth.source === 'config') return { ...outcome, revoked: false };
  return { ...outcome, revoked: await store.revoke(auth.tokenId) };
}
