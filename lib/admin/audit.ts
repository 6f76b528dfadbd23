import type { Request } from 'express';
import { describeError } from '../errors';
import type { TokenInfo } from '../tokens/types';
import type { AdminLogger, AuditAction, AuditEvent } from './types';

/** Emits audit events to the `onAudit` hook and the logger. A failing hook is logged, never thrown. */
export type Auditor = (action: AuditAction, req: Request | null, token: TokenInfo, details: AuditEvent['details']) => Promise<void>;

const quote = (value: string | null): string => (value === null ? '-' : JSON.stringify(value));

/** One log line for an event: names and ids only. */
export function auditLine(e: AuditEvent): string {
  const who = e.actor ? quote(e.actor.name ?? e.actor.tokenId) : 'auto-rotation';
  const extra = Object.entries(e.details)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? quote(v) : String(v)}`)
    .join('');
  return `express-secrets-auth audit: ${e.action} token=${e.token.id} name=${quote(e.token.name)} by=${who} ip=${e.ip ?? '-'} at=${e.at}${extra}`;
}

export function createAuditor(opts: {
  onAudit?: (event: AuditEvent) => void | Promise<void>;
  logger: AdminLogger;
  now: () => number;
  createdBy: (req: Request) => string | null;
}): Auditor {
  return async (action, req, token, details) => {
    const event: AuditEvent = {
      action,
      at: new Date(opts.now()).toISOString(),
      actor: req ? { name: opts.createdBy(req), tokenId: req.auth?.tokenId ?? null, source: req.auth?.source ?? null } : null,
      ip: req?.ip ?? null,
      token: { id: token.id, name: token.name, scopes: [...token.scopes] },
      details,
    };
    opts.logger.info(auditLine(event));
    if (!opts.onAudit) return;
    try {
      await opts.onAudit(event);
    } catch (err) {
      (opts.logger.error ?? opts.logger.warn).call(
        opts.logger,
        `express-secrets-auth admin: onAudit failed (${describeError(err)}) for ${action} of token ${token.id}`,
      );
    }
  };
}
