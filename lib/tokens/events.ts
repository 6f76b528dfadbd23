import { describeError } from '../errors';
import type { TokenLogger } from './types';

/** What a TokenStore itself reports: a retired secret presented again, a token nearing its expiry. */
export type TokenEventAction = 'token.reuse_detected' | 'token.expiring';

/**
 * An event of the TokenStore, in the admin router's AuditEvent shape (so one `onAudit` function
 * serves both): no actor and no ip (found during verification or by the background check). Never
 * holds a token or a hash.
 */
export interface TokenEvent {
  action: TokenEventAction;
  /** ISO 8601 time it was found. */
  at: string;
  actor: null;
  ip: null;
  token: { id: string; name: string; scopes: string[] };
  /** reuse_detected: `successor_id`, `rotated_at`, `revoked`; expiring: `expires_at`, `source`. */
  details: Record<string, string | number | boolean | null>;
}

/** Emits store events to `onAudit` (once per event: the store, not the routers on it, emits). Failures are logged, never thrown. */
export function createEmitter(onAudit: ((event: TokenEvent) => void | Promise<void>) | undefined, logger: TokenLogger, now: () => number) {
  return async (action: TokenEventAction, token: TokenEvent['token'], details: TokenEvent['details']): Promise<void> => {
    const event: TokenEvent = { action, at: new Date(now()).toISOString(), actor: null, ip: null, token: { ...token, scopes: [...token.scopes] }, details };
    if (action === 'token.reuse_detected') logger.warn(`express-secrets-auth: ${action} token=${token.id} revoked=${String(details.revoked)}`);
    if (!onAudit) return;
    try {
      await onAudit(event);
    } catch (err) {
      (logger.error ?? logger.warn).call(logger, `express-secrets-auth: onAudit failed (${describeError(err)}) for ${action} of token ${token.id}`);
    }
  };
}

export type TokenEmitter = ReturnType<typeof createEmitter>;
