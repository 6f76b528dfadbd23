/**
 * Limits and patterns of token fields, shared by the token store, the admin API, the bearer
 * middleware and the YAML schema, so that each is defined once.
 */

/** RFC 6749 scope-token characters: printable ASCII except space, `"` and `\`. */
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Whether `value` is one scope name (RFC 6749 scope-token). */
export const isScope = (value: unknown): value is string => typeof value === 'string' && SCOPE_PATTERN.test(value);

/** Longest token name, in characters. */
export const MAX_TOKEN_NAME = 100;
/** Longest token description, in characters. */
export const MAX_TOKEN_DESCRIPTION = 500;
/** Longest `created_by`, in characters: it is usually the creator's token name, and static token names have no limit of their own. */
export const MAX_CREATED_BY = 200;

/** Smallest and largest accepted bcrypt cost. */
export const MIN_BCRYPT_COST = 4;
export const MAX_BCRYPT_COST = 31;

/** Whether `cost` is an accepted bcrypt cost (an integer from MIN_BCRYPT_COST to MAX_BCRYPT_COST). */
export const isBcryptCost = (cost: unknown): cost is number =>
  typeof cost === 'number' && Number.isInteger(cost) && cost >= MIN_BCRYPT_COST && cost <= MAX_BCRYPT_COST;
