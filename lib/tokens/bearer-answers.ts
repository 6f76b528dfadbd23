import type { Response } from 'express';

/** A refusal bearerAuth answers with: JSON `{ error: { code, message } }` and its headers. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  /** `WWW-Authenticate` value, when the answer carries one. */
  challenge?: string;
  /** Seconds for `Retry-After` on a 503. */
  retryAfter?: number;
}

/** Printable ASCII without `"` and `\`: what an auth-param value may hold (RFC 6750 §3). */
export const AUTH_PARAM_PATTERN = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/** A quoted auth-param value; anything RFC 6750 does not allow in it becomes `'`. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "'")}"`;
}

/** The RFC 6750 answers of one bearerAuth(): its realm and required scopes go into every challenge. */
export class BearerAnswers {
  private readonly scopeParam: string;

  constructor(
    private readonly realm: string,
    required: readonly string[],
  ) {
    this.scopeParam = required.length ? `, scope=${quote(required.join(' '))}` : '';
  }

  /** No credentials: 401 with a challenge without an error code. */
  missing(): Refusal {
    return {
      status: 401,
      code: 'unauthorized',
      message: 'Authentication required: send the header Authorization: Bearer <token>.',
      challenge: this.challenge(),
    };
  }

  malformed(message: string): Refusal {
    return { status: 400, code: 'invalid_request', message, challenge: this.challenge('invalid_request', message) };
  }

  invalidToken(): Refusal {
    const message = 'The access token is invalid, expired or revoked.';
    return { status: 401, code: 'invalid_token', message, challenge: this.challenge('invalid_token', message) };
  }

  insufficientScope(missing: readonly string[]): Refusal {
    const message = `The token lacks the scope(s): ${missing.join(' ')}.`;
    return { status: 403, code: 'insufficient_scope', message, challenge: this.challenge('insufficient_scope', message) };
  }

  /** Overload (bcrypt queue full), not a fault: a short Retry-After. */
  overloaded(): Refusal {
    return { status: 503, code: 'temporarily_unavailable', message: 'Authentication is temporarily overloaded; retry shortly.', retryAfter: 1 };
  }

  /** The backend could not answer: fail closed. */
  unavailable(): Refusal {
    return { status: 503, code: 'temporarily_unavailable', message: 'Authentication is temporarily unavailable; retry shortly.', retryAfter: 5 };
  }

  private challenge(error?: string, description?: string): string {
    return `Bearer realm=${quote(this.realm)}${this.scopeParam}${error ? `, error=${quote(error)}` : ''}${description ? `, error_description=${quote(description)}` : ''}`;
  }
}

/** Whether a refusal counts as a failed attempt against the client's limit: malformed or bad credentials, not missing ones. */
export const isFailedAttempt = (refusal: Refusal): boolean => refusal.status === 400 || (refusal.status === 401 && refusal.code === 'invalid_token');

export function sendRefusal(res: Response, refusal: Refusal): void {
  if (refusal.challenge !== undefined) res.setHeader('WWW-Authenticate', refusal.challenge);
  if (refusal.status === 503) res.setHeader('Retry-After', String(refusal.retryAfter ?? 5));
  res.setHeader('Cache-Control', 'no-store');
  res.status(refusal.status).json({ error: { code: refusal.code, message: refusal.message } });
}

/** 429: the client failed too often (or has too many attempts in flight); retry in `wait` seconds. */
export function sendTooMany(res: Response, wait: number): void {
  res.setHeader('Retry-After', String(wait));
  res.setHeader('Cache-Control', 'no-store');
  res.status(429).json({ error: { code: 'too_many_requests', message: `Too many failed authentication attempts; retry in ${wait} s.` } });
}
