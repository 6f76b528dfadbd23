import type { Request } from 'express';
import { describeError } from '../errors';
import type { TokenInfo } from '../tokens/types';
import type { AdminLogger, AuditEvent, SessionAuditAction, SessionAuditEvent, TokenAuditAction } from './types';

type Details = AuditEvent['details'];

/** An anonymous caller (a leak report): only its address is known. */
export interface AnonymousCaller {
  anonymous: true;
  ip: string | null;
}

/**
 * Emits a token audit event to the `onAudit` hook and the logger. `by` is the request of the
 * caller, an anonymous caller, or null for the auto-rotation job. A failing hook is logged, never thrown.
 */
export type Auditor = (
  action: TokenAuditAction,
  by: Request | AnonymousCaller | null,
  token: Pick<TokenInfo, 'id' | 'name' | 'scopes'>,
  details: Details,
) => Promise<void>;

/** Emits a session audit event the same way. */
export type SessionAuditor = (action: SessionAuditAction, req: Request, session: SessionAuditEvent['session'], details: Details) => Promise<void>;

const quote = (value: string | null): string => (value === null ? '-' : JSON.stringify(value));

/** What an event is about, for its log line: the token, or the session key / user. */
function subjectOf(e: AuditEvent): string {
  if ('token' in e) return `token=${e.token.id} name=${quote(e.token.name)}`;
  return e.session.key === null ? `user=${quote(e.session.user)}` : `session=${e.session.key}`;
}

/** One log line for an event: names, ids and session keys only. */
export function auditLine(e: AuditEvent): string {
  const who = e.actor ? quote(e.actor.name ?? e.actor.tokenId) : e.action === 'token.leaked' ? 'leak-report' : 'auto-rotation';
  const extra = Object.entries(e.details)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? quote(v) : String(v)}`)
    .join('');
  return `express-secrets-auth audit: ${e.action} ${subjectOf(e)} by=${who} ip=${e.ip ?? '-'} at=${e.at}${extra}`;
}

/** The token and session auditors of one router: one hook, one logger, one clock. */
export function createAuditor(opts: {
  onAudit?: (event: AuditEvent) => void | Promise<void>;
  logger: AdminLogger;
  now: () => number;
  createdBy: (req: Request) => string | null;
}): { token: Auditor; session: SessionAuditor } {
  const common = (by: Request | AnonymousCaller | null, details: Details) => {
    const req = by && !('anonymous' in by) ? by : null;
    return {
      at: new Date(opts.now()).toISOString(),
      actor: req ? { name: opts.createdBy(req), tokenId: req.auth?.tokenId ?? null, source: req.auth?.source ?? null } : null,
      ip: by?.ip ?? null,
      details,
    };
  };
  const emit = async (event: AuditEvent): Promise<void> => {
    opts.logger.info(auditLine(event));
    if (!opts.onAudit) return;
    try {
      await opts.onAudit(event);
    } catch (err) {
      (opts.logger.error ?? opts.logger.warn).call(
        opts.logger,
        `express-secrets-auth admin: onAudit failed (${describeError(err)}) for ${event.action} of ${subjectOf(event)}`,
      );
    }
  };
  return {
    token: (action, by, token, details) => emit({ action, ...common(by, details), token: { id: token.id, name: token.name, scopes: [...token.scopes] } }),
    session: (action, req, session, details) => emit({ action, ...common(req, details), session: { ...session } }),
  };
}
