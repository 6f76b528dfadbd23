import { BackendError, BackendUnavailableError, ConflictError, PermissionDeniedError } from '../errors';

/**
 * What a failed Vault request means: a typed error for the caller (never carrying the raw client
 * error, whose request headers hold the token), and whether the request may be sent again.
 */

interface ApiResponseError extends Error {
  response?: { statusCode: number; body?: { errors?: unknown[] } };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** The HTTP status of a node-vault error, if the server answered. */
export function responseStatus(err: unknown): number | undefined {
  return (err as ApiResponseError).response?.statusCode;
}

/** Statuses with which a node refuses a request without acting on it: worth another node. */
const REFUSAL_STATUSES = new Set([307, 412, 429, 472, 473, 503]);

export interface FailureContext {
  /** Verb for messages: "read", "write", ... */
  operation: string;
  /** Secret path for messages (never a value). */
  subject: string;
  /** The node the request went to. */
  address: string;
  /** The attempt's timeout, for the message of a request that ran out of time. */
  timeoutMs: number;
}

/**
 * How a failed attempt may be retried: `no` (an answer that will not change: 4xx), `safe` (the
 * request surely did not apply: refused connection, or a node that refused to act), `unknown`
 * (the answer was lost, or a 5xx: it may have applied).
 */
export type Retry = 'no' | 'safe' | 'unknown';

export class AttemptFailure {
  constructor(
    readonly error: Error,
    readonly retry: Retry,
    readonly status?: number,
  ) {}
}

/** Maps a failed request to a typed error and says whether it may be sent again. */
export function classifyFailure(err: unknown, at: FailureContext): AttemptFailure {
  const mapped = mapVaultError(err, at);
  const response = (err as ApiResponseError).response;
  if (!response) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(mapped instanceof BackendUnavailableError)) return new AttemptFailure(mapped, 'no');
    return new AttemptFailure(mapped, code === 'ECONNREFUSED' ? 'safe' : 'unknown');
  }
  const status = response.statusCode;
  if (REFUSAL_STATUSES.has(status)) return new AttemptFailure(mapped, 'safe', status);
  if (status >= 500) return new AttemptFailure(mapped, 'unknown', status);
  return new AttemptFailure(mapped, 'no', status);
}

/** Status codes and network errors as typed errors; messages name address, path and status only. */
function mapVaultError(err: unknown, at: FailureContext): Error {
  const { address, timeoutMs } = at;
  const o = at;
  const response = (err as ApiResponseError).response;
  if (!response) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    if (NETWORK_CODES.has(code) || timedOut) {
      return new BackendUnavailableError(
        timedOut
          ? `Vault at ${address} did not answer within ${timeoutMs} ms (${o.operation} "${o.subject}"). Check that it is up, or raise timeoutMs.`
          : `Cannot reach Vault at ${address} (${code}) to ${o.operation} "${o.subject}". Check that it is running and the address is right.`,
      );
    }
    return new BackendError(`Vault request to ${o.operation} "${o.subject}" failed: ${code}`);
  }
  const status = response.statusCode;
  const first = String(response.body?.errors?.[0] ?? '').slice(0, 200);
  if (status === 403) return new PermissionDeniedError(o.subject, o.operation);
  if (status === 400 && first.includes('check-and-set')) return new ConflictError(o.subject);
  if (status === 503 && /sealed/i.test(first)) {
    return new BackendUnavailableError(`Vault at ${address} is sealed; unseal it to ${o.operation} "${o.subject}".`, { status });
  }
  if (status === 429 || status >= 500 || REFUSAL_STATUSES.has(status)) {
    return new BackendUnavailableError(`Vault answered ${status} to ${o.operation} "${o.subject}"${first ? `: ${first}` : ''}. Try again later.`, { status });
  }
  return new BackendError(`Vault answered ${status} to ${o.operation} "${o.subject}"${first ? `: ${first}` : ''}.`, { status });
}
