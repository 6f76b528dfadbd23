import type { ErrorRequestHandler, Response } from 'express';
import { describeError, SecretsAuthError } from '../errors';
import { TokenError } from '../tokens/errors';
import { LimitBusyError } from '../tokens/concurrency-limit';
import type { AdminLogger } from './types';

/**
 * A refusal of the admin API with an HTTP status; the message says what to do. `wireCode` is the
 * lower-case `error.code` of the JSON body (part of the HTTP API, e.g. `invalid_request`); `code`
 * is the same word upper-case, like every other SecretsAuthError (`INVALID_REQUEST`).
 */
export class ApiError<W extends string = string> extends SecretsAuthError<Uppercase<W>> {
  /** The `error.code` sent in the response body. */
  readonly wireCode: W;
  constructor(
    readonly status: number,
    wireCode: W,
    message: string,
  ) {
    super(wireCode.toUpperCase() as Uppercase<W>, message);
    this.wireCode = wireCode;
  }
}

/** Sends `{ error: { code, message } }` with `Cache-Control: no-store`. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({ error: { code, message } });
}

const TOKEN_STATUS: Record<TokenError['code'], [number, string]> = {
  TOKEN_NOT_FOUND: [404, 'not_found'],
  TOKEN_READ_ONLY: [409, 'read_only'],
  TOKEN_EXISTS: [409, 'conflict'],
  INVALID_TOKEN_INPUT: [400, 'invalid_request'],
};

const STORE_STATUS: Partial<Record<SecretsAuthError['code'], [number, string, string]>> = {
  BACKEND_UNAVAILABLE: [503, 'backend_unavailable', 'The secrets backend is unavailable; retry shortly.'],
  CONFLICT: [409, 'conflict', 'The token changed at the same time; reload and try again.'],
  PERMISSION_DENIED: [502, 'backend_permission_denied', 'The secrets backend refused the operation; check the policy of the credentials the app uses.'],
  INVALID_PATH: [400, 'invalid_request', 'A path in the request is not a valid secret path.'],
};

/** body-parser failures, by their `type`. */
const PARSER_STATUS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'The request body is not valid JSON.'],
  'entity.too.large': [413, 'payload_too_large', 'The request body is larger than 16 KB.'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'Send the body as UTF-8 JSON without content encoding.'],
  'charset.unsupported': [415, 'unsupported_media_type', 'Send the body as UTF-8 JSON.'],
};

function parserFailure(err: unknown): [number, string, string] | null {
  if (typeof err !== 'object' || err === null) return null;
  // A malformed percent-escape in the URL (e.g. `/tokens/%zz`) makes Express throw URIError.
  if (err instanceof URIError) return [400, 'invalid_request', 'The request URL has a malformed percent-escape.'];
  const { type, status, limit } = err as { type?: unknown; status?: unknown; limit?: unknown };
  // Each route has its own body limit (16 KB; 64 KB for leak reports): name the one exceeded.
  if (type === 'entity.too.large' && typeof limit === 'number') {
    return [413, 'payload_too_large', `The request body is larger than ${Math.round(limit / 1024)} KB.`];
  }
  if (typeof type === 'string' && PARSER_STATUS[type]) return PARSER_STATUS[type];
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return [status, 'invalid_request', 'The request body could not be read.'];
  }
  return null;
}

/** Final error handler: every failure becomes a JSON error; unexpected ones are logged without details that could hold secrets. */
export function errorHandler(logger: AdminLogger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ApiError) return sendError(res, err.status, err.wireCode, err.message);
    if (err instanceof TokenError) {
      const [status, code] = TOKEN_STATUS[err.code];
      return sendError(res, status, code, err.message);
    }
    if (err instanceof LimitBusyError) {
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
      return sendError(res, 503, 'temporarily_unavailable', err.message);
    }
    const parser = parserFailure(err);
    if (parser) return sendError(res, ...parser);
    const mapped = err instanceof SecretsAuthError ? STORE_STATUS[(err as SecretsAuthError).code] : undefined;
    if (mapped) {
      const [status, code, message] = mapped;
      (logger.error ?? logger.warn).call(logger, `express-secrets-auth admin: ${describeError(err)}`);
      if (status === 503) res.setHeader('Retry-After', '5');
      return sendError(res, status, code, message);
    }
    (logger.error ?? logger.warn).call(logger, `express-secrets-auth admin: unexpected error while handling a request: ${describeError(err)}`);
    sendError(res, 500, 'internal', 'Something went wrong on the server; the details are in its log.');
  };
}
