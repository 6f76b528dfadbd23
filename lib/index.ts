// Public API of express-secrets-auth. Everything a user imports comes from here, and nothing else:
// the list is pinned by spec/exports.list.txt and documented in README "Exports".

export {
  BackendError,
  BackendUnavailableError,
  ConfigError,
  ConflictError,
  DecryptionError,
  type ErrorCode,
  InvalidPathError,
  InvalidSessionIdError,
  PermissionDeniedError,
  SecretNotFoundError,
  SecretReferenceError,
  SecretsAuthError,
} from './errors';
export { describeError } from './errors';
export type { AuthConfig, AuthConfigInput } from './config/schema';
export { loadConfig, parseConfig } from './config/load';
export { type CreateProvidersOptions, createProvidersFromConfig } from './config/providers';
export { hasSecretRefs, type ResolveOptions, resolveSecretRefs } from './config/refs';
export { type WatchOptions, watchSecretRefs } from './config/watch';
export type { SecretRefWatcher } from './shared/watcher';
export { type AuthFromConfigOptions, type ConfiguredAuth, createAuthFromConfig } from './setup';
export { type CachedProvider, type CacheOptions, cached } from './providers/cached';
export { createFileProvider, type FileProviderOptions } from './providers/file';
export { createMemoryProvider } from './providers/memory';
export type { PutOptions, SecretEntry, SecretProvider } from './providers/types';
export type { VaultAuth, VaultProvider, VaultProviderOptions, VaultTlsOptions } from './providers/vault';
export { createVaultProvider } from './providers/vault-lazy';
export { SecretsSessionStore } from './session/store';
export type { SecretsSessionStoreOptions, SessionSerializer, StoreCallback, StoredSession, SweepResult, UserSession } from './session/types';
export { LimitBusyError } from './tokens/concurrency-limit';
export { TokenError, type TokenErrorCode } from './tokens/errors';
export { findTokens, tokenPattern } from './tokens/find';
export { generateToken, parseToken, type ParsedToken } from './tokens/format';
export { hashToken } from './tokens/hash';
export { type BearerAuthOptions, type BearerRateLimit, bearerAuth } from './tokens/middleware';
export type { CreateTokenInput } from './tokens/record';
export { type RotateOptions, TokenStore } from './tokens/store';
export type {
  AuthInfo,
  IssuedToken,
  StaticTokenConfig,
  StaticTokensInput,
  TokenInfo,
  TokenLogger,
  TokenRecord,
  TokenSource,
  TokenStoreOptions,
  TokenVerifier,
} from './tokens/types';
export { ApiError } from './admin/errors';
export { DeliveryRefusedError } from './admin/auto-rotate';
export { tokenAdminRouter } from './admin/router';
export type {
  AdminLogger,
  AuditAction,
  AuditEvent,
  AutoRotateOptions,
  SessionAdminBackend,
  SessionAuditAction,
  SessionAuditEvent,
  TokenAdminRouter,
  TokenAdminRouterOptions,
  TokenAuditAction,
  TokenAuditEvent,
} from './admin/types';
export type { TokenEvent, TokenEventAction } from './tokens/events';
export type { TokenState, TokenView } from './admin/view';
