import { SecretsAuthError } from '../errors';

/** Why a token operation was refused. */
export type TokenErrorCode = 'TOKEN_NOT_FOUND' | 'TOKEN_READ_ONLY' | 'TOKEN_EXISTS' | 'INVALID_TOKEN_INPUT';

/**
 * A token operation the caller asked for cannot be done (unknown id, a read-only static token,
 * invalid input). Messages name ids and fields, never a token or a hash.
 */
export class TokenError extends SecretsAuthError<TokenErrorCode> {}
