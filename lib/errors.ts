/**
 * Typed errors. Every message says what went wrong and what to do about it, and none ever
 * contains a secret value, a token, a hash or a session's contents: only paths, names and
 * status codes.
 */
import { types } from 'node:util';

export type ErrorCode =
  | 'SECRET_NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'BACKEND_UNAVAILABLE'
  | 'CONFLICT'
  | 'INVALID_PATH'
  | 'INVALID_SESSION_ID'
  | 'CONFIG_ERROR'
  | 'SECRET_REFERENCE'
  | 'DECRYPTION_FAILED'
  | 'BACKEND_ERROR';

export class SecretsAuthError<C extends string = ErrorCode> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A secret (or a key inside one) that was required is absent. */
export class SecretNotFoundError extends SecretsAuthError {
  readonly path: string;
  constructor(path: string, message?: string) {
    super('SECRET_NOT_FOUND', message ?? `No secret at "${path}". Write it first, or check the path and mount.`);
    this.path = path;
  }
}

/** The backend refused the call (Vault 403: policy denies it, or the token is invalid or expired). */
export class PermissionDeniedError extends SecretsAuthError {
  readonly path: string;
  constructor(path: string, operation: string, options?: { cause?: unknown }) {
    super(
      'PERMISSION_DENIED',
      `Permission denied to ${operation} "${path}". Grant the token's policy this capability on the path, ` + 'or check that the token has not expired.',
      options,
    );
    this.path = path;
  }
}

/** The backend cannot be reached or cannot serve right now (sealed, refused, timed out, 5xx). */
export class BackendUnavailableError extends SecretsAuthError {
  readonly status?: number;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('BACKEND_UNAVAILABLE', message, options);
    this.status = options?.status;
  }
}

/** A check-and-set write lost the race: the stored version is not the one expected. */
export class ConflictError extends SecretsAuthError {
  readonly path: string;
  constructor(path: string, expected?: number, actual?: number) {
    const versions = expected === undefined ? '' : ` (expected version ${expected}${actual === undefined ? '' : `, found ${actual}`})`;
    super('CONFLICT', `Write to "${path}" conflicted with a concurrent change${versions}. Read it again and retry.`);
    this.path = path;
  }
}

/** A path (often built from request input, like a session id) is not a safe secret path. */
export class InvalidPathError extends SecretsAuthError {
  constructor(reason: string) {
    super('INVALID_PATH', `Invalid secret path: ${reason}. Use "/"-separated segments of [A-Za-z0-9._:@+=-].`);
  }
}

/** Configuration is missing or wrong; `problems` lists each one with its config path. */
export class ConfigError extends SecretsAuthError {
  readonly problems: string[];
  constructor(problems: string[] | string, source?: string) {
    const list = Array.isArray(problems) ? problems : [problems];
    const where = source ? ` in ${source}` : '';
    super('CONFIG_ERROR', list.length === 1 ? `Invalid configuration${where}: ${list[0]}` : `Invalid configuration${where}:\n  - ${list.join('\n  - ')}`);
    this.problems = list;
  }
}

/** A `{{ secret... }}`, `${secret:...}` or `${env:...}` reference could not be resolved. Names the reference, never a value. */
export class SecretReferenceError extends SecretsAuthError {
  readonly reference: string;
  constructor(reference: string, reason: string, options?: { cause?: unknown }) {
    super('SECRET_REFERENCE', `Cannot resolve ${reference}: ${reason}`, options);
    this.reference = reference;
  }
}

/** Encrypted data could not be decrypted: wrong key, or the file was altered. */
export class DecryptionError extends SecretsAuthError {
  constructor(path: string) {
    super('DECRYPTION_FAILED', `Cannot decrypt "${path}": the encryption key is wrong or the file was modified. ` + 'Use the key the data was written with.');
  }
}

/** The backend answered with an error we do not map to anything more specific (e.g. 400). */
export class BackendError extends SecretsAuthError {
  readonly status?: number;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('BACKEND_ERROR', message, options);
    this.status = options?.status;
  }
}

/** A session store was given an id it cannot keep (empty, not a string, too long). Never holds the id. */
export class InvalidSessionIdError extends SecretsAuthError {
  constructor(reason: string) {
    super('INVALID_SESSION_ID', `Session id is ${reason}: use a non-empty string of at most 4096 characters (check express-session's \`genid\`).`);
  }
}

/** A foreign error's `name`/constructor is shown only when it looks like an identifier (never free text). */
const ERROR_NAME = /^[A-Za-z_$][\w$.]{0,63}$/;
/** A foreign error's `code` is shown only when it is a short upper-case identifier, like ECONNREFUSED or ERR_SOCKET_CLOSED. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;

/**
 * The one way an error becomes text for a log line. A `SecretsAuthError` gives its message, name
 * and code (its messages never hold a secret, by construction). Any other error gives only its name
 * (and its `code` when that is a short identifier such as `ECONNREFUSED`), never its message: a
 * foreign message may quote a request, a header or a value. A thrown non-Error gives its type.
 */
export function describeError(err: unknown): string {
  if (err instanceof SecretsAuthError) return `${err.message} (${err.name} ${err.code})`;
  // isNativeError: an Error from another realm (a vm context, jest's sandbox) is an Error too.
  if (err instanceof Error || types.isNativeError(err)) {
    const name = [err.name, err.constructor?.name].find((n) => typeof n === 'string' && ERROR_NAME.test(n)) ?? 'Error';
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && ERROR_CODE.test(code) ? `${name} (${code})` : name;
  }
  return `a thrown ${err === null ? 'null' : typeof err} (not an Error)`;
}
