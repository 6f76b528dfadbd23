import { z } from 'zod';
import { parsePath } from '../providers/paths';
import { isNonArrayObject } from '../shared/objects';
import { MAX_BCRYPT_COST, MIN_BCRYPT_COST } from '../shared/token-limits';
import { DURATION_HINT, durationSeconds } from '../shared/duration';
import { hasSecretRefs } from './refs';

/**
 * The shape of the YAML config file (snake_case keys, as written). Durations are parsed to
 * seconds. Unknown keys are rejected. Rules that need the whole config (which provider a storage
 * names, where references point) live in `load.ts`.
 */

type Dict = Record<string, unknown>;

/** Runs a refinement even when sibling fields failed, as long as the value is an object. */
const onObjects = { when: (payload: { value: unknown }) => isNonArrayObject(payload.value) };

/** A duration ("30s", "5m", "1h30m", "90d" or seconds), parsed to seconds. */
function duration() {
  return z
    .custom<string | number>((v) => typeof v === 'string' || typeof v === 'number', { message: `expected ${DURATION_HINT}` })
    .transform((value, ctx) => {
      const seconds = durationSeconds(value);
      if (seconds !== undefined) return seconds;
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}` });
      return z.NEVER;
    });
}

function positiveDuration() {
  return duration().refine((seconds) => seconds > 0, { message: 'must be longer than 0' });
}

function isSecretPath(value: string): boolean {
  try {
    parsePath(value);
    return true;
  } catch {
    return false;
  }
}

const secretPath = () => z.string().refine(isSecretPath, { message: 'must be "/"-separated segments of [A-Za-z0-9._:@+=-]' });

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** `enabled` defaults to true when a provider's block is present. */
function enabledByDefault(value: unknown): unknown {
  return isNonArrayObject(value) && !('enabled' in value) ? { ...value, enabled: true } : value;
}

/** Builds a provider schema: all fields checked when enabled; optional (still strict) when not. */
function provider<S extends z.ZodRawShape>(shape: S) {
  const enabled = z.strictObject({ ...shape, enabled: z.literal(true) });
  const disabled = enabled.partial().extend({ enabled: z.literal(false) });
  return { enabled, disabled };
}

const file = provider({
  /** Folder holding one file per secret; relative paths are resolved against the working directory. */
  base_path: z.string().min(1),
  /** AES-256-GCM key or passphrase (may be a secret reference); omit for plain files. */
  encryption_key: z.string().min(1).optional(),
  /** A write's lock file left this long unrefreshed (its process died) is taken over; unset: 5s. */
  lock_stale: duration().optional(),
});

const vaultTls = z.strictObject({
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  skip_verify: z.boolean().default(false),
});

const vaultUrl = () => z.string().refine((v) => hasSecretRefs(v) || isHttpUrl(v), { message: 'must be an http:// or https:// URL' });

const vault = provider({
  /** One server, or a load balancer over a cluster. */
  address: vaultUrl().optional(),
  /** Every node of an HA cluster (instead of `address`). */
  addresses: z.array(vaultUrl()).min(1).optional(),
  consistency: z.enum(['strong', 'eventual']).optional(),
  /** How long one call may keep failing over through a leader election (default 20s with `addresses`). */
  failover_budget: duration().optional(),
  mount: z.string().min(1).default('secret'),
  kv_version: z.literal([1, 2, 'auto']).default(2),
  namespace: z.string().min(1).optional(),
  auth_method: z.enum(['token', 'approle', 'kubernetes']).default('token'),
  token: z.string().min(1).optional(),
  role_id: z.string().min(1).optional(),
  secret_id: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  jwt_path: z.string().min(1).optional(),
  auth_mount: z.string().min(1).optional(),
  tls: vaultTls.optional(),
  timeout: positiveDuration().optional(),
  retries: z.number().int().min(0).max(10).optional(),
});

function checkVaultAuth(value: Dict, ctx: z.RefinementCtx): void {
  if (value.address === undefined && value.addresses === undefined) {
    ctx.addIssue({ code: 'custom', path: ['address'], message: 'required' }); // or addresses, for every node of a cluster
  } else if (value.address !== undefined && value.addresses !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['addresses'],
      message: 'set either address (one server or a load balancer) or addresses (every node of a cluster), not both',
    });
  }
  if (value.auth_method === 'kubernetes' && value.role === undefined) {
    ctx.addIssue({ code: 'custom', path: ['role'], message: 'required when auth_method is "kubernetes"' });
  }
  const tls = isNonArrayObject(value.tls) ? value.tls : {};
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'cert_file and key_file must be set together' });
  }
}

const memory = provider({});

/** `secrets.providers.<name>`: each optional; `enabled` defaults to true when the block is present. */
export const ProvidersSchema = z.strictObject({
  file: z.preprocess(enabledByDefault, z.discriminatedUnion('enabled', [file.enabled, file.disabled])).optional(),
  vault: z.preprocess(enabledByDefault, z.discriminatedUnion('enabled', [vault.enabled.superRefine(checkVaultAuth, onObjects), vault.disabled])).optional(),
  memory: z.preprocess(enabledByDefault, z.discriminatedUnion('enabled', [memory.enabled, memory.disabled])).optional(),
});

/** The provider names a config can enable. */
export const PROVIDER_NAMES = ['file', 'vault', 'memory'] as const;

const SecretsSchema = z.strictObject({
  providers: ProvidersSchema.prefault({}),
  /** Re-resolve secret references this often (seconds); absent = resolve once at start-up. */
  refresh_interval: positiveDuration().optional(),
});

const CacheSchema = z.strictObject({
  enabled: z.boolean().default(false),
  ttl: positiveDuration().default(5),
  max: z.number().int().positive().default(10_000),
});

const SessionSecretsSchema = z.strictObject({
  provider: z.string().min(1),
  path: secretPath().default('sessions'),
  prefix: z.string().default('sess:'),
  ttl: positiveDuration().default(86_400),
  touch_after: duration().optional(),
  cache: CacheSchema.prefault({}),
  cleanup_interval: positiveDuration().optional(),
});

/** `type` defaults to "secrets" when a `secrets` block is present, else "memory". */
function storageTypeByDefault(value: unknown): unknown {
  return isNonArrayObject(value) && !('type' in value) ? { ...value, type: 'secrets' in value ? 'secrets' : 'memory' } : value;
}

function requireSecretsBlock(value: Dict, ctx: z.RefinementCtx): void {
  if (value.type === 'secrets' && value.secrets === undefined) {
    ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'required when type is "secrets"' });
  }
}

/** A storage block: `{ type: secrets | memory, secrets?: <block> }`. */
function storage<S extends z.ZodType>(secrets: S) {
  const shape = z.strictObject({ type: z.enum(['secrets', 'memory']), secrets: secrets.optional() }).superRefine(requireSecretsBlock, onObjects);
  return z.preprocess(storageTypeByDefault, shape);
}

const TokenStorageSecretsSchema = z.strictObject({
  provider: z.string().min(1),
  path: secretPath().default('tokens'),
  ttl: positiveDuration().optional(),
  max_ttl: positiveDuration().optional(),
  auto_rotate: z.boolean().default(false),
  /** Verify credentials moved into the store by `tokens import` (see TokenStore `acceptImported`). */
  accept_imported: z.boolean().default(false),
  /** How long a rotated-away secret is remembered to detect its reuse (TokenStore `reuseWindow`). */
  reuse_window: positiveDuration().optional(),
  /** Presenting a rotated-away secret revokes the token (TokenStore `revokeOnReuse`). */
  revoke_on_reuse: z.boolean().default(false),
  /** `adminRouter()` answers `POST /tokens/leaked` (tokenAdminRouter `leakedTokenEndpoint`). */
  leaked_token_endpoint: z.boolean().default(false),
  /** How long before its expiry a token's `token.expiring` event is emitted (TokenStore `notifyBefore`). */
  notify_before: positiveDuration().optional(),
  /** How often the expiry check runs; 0 disables it (TokenStore `expiryCheckIntervalMs`). */
  expiry_check_interval: duration().optional(),
  bcrypt_cost: z.number().int().min(MIN_BCRYPT_COST).max(MAX_BCRYPT_COST).default(10),
  verify_cache_ttl: duration().default(60),
});

const HASH = /^(?:bcrypt:\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|sha256:[0-9a-f]{64})$/;

const credentialHash = z
  .string()
  .refine((v) => hasSecretRefs(v) || HASH.test(v), { message: 'must be "bcrypt:$2b$..." or "sha256:<64 lowercase hex characters>"' });

function exactlyOneCredential(value: Dict, ctx: z.RefinementCtx): void {
  const count = Number(value.credential !== undefined) + Number(value.credential_hash !== undefined);
  if (count !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of credential or credential_hash' });
}

function tokenEntry<M extends z.ZodType>(metadata: M) {
  return z
    .strictObject({
      credential: z.string().min(1).optional(),
      credential_hash: credentialHash.optional(),
      metadata,
      scopes: z.array(z.string().min(1)).optional(),
    })
    .superRefine(exactlyOneCredential, onObjects);
}

/** Token metadata: `name` plus any other string fields (description, created_by, ...). */
const metadata = <N extends z.ZodType>(name: N) => z.object({ name }).catchall(z.string());

const TokenListEntry = tokenEntry(metadata(z.string().min(1)));
// In the map form `name` may be left out (the key is the default), so the other fields' index type
// must admit undefined too: an optional `name` beside a `string` index is TS2411 in the shipped .d.ts.
const mapMetadata = z.object({ name: z.string().min(1).optional() }).catchall(z.string().optional());
const TokenMapEntry = tokenEntry(mapMetadata.prefault({}));

/** One static token, in list form (the map form is converted to this, the key becoming the default name). */
export type YamlStaticToken = z.output<typeof TokenListEntry>;

/** Map-form metadata with `name` filled in from the key (and no undefined fields left). */
function namedMetadata(key: string, fields: z.output<typeof mapMetadata>): YamlStaticToken['metadata'] {
  const named: YamlStaticToken['metadata'] = { name: fields.name ?? key };
  for (const [field, value] of Object.entries(fields)) if (field !== 'name' && value !== undefined) named[field] = value;
  return named;
}

const TokenMap = z
  .record(z.string().min(1), TokenMapEntry)
  .transform((map): YamlStaticToken[] => Object.entries(map).map(([key, entry]) => ({ ...entry, metadata: namedMetadata(key, entry.metadata) })));

function uniqueNames(tokens: YamlStaticToken[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [i, token] of tokens.entries()) {
    if (seen.has(token.metadata.name)) ctx.addIssue({ code: 'custom', path: [i, 'metadata', 'name'], message: 'duplicate token name' });
    seen.add(token.metadata.name);
  }
}

const TokenMethodSchema = z.strictObject({
  enabled: z.boolean().default(false),
  tokens: z
    .union([z.array(TokenListEntry), TokenMap])
    .superRefine(uniqueNames)
    .default([]),
  storage: storage(TokenStorageSecretsSchema).prefault({}),
});

const AuthenticationSchema = z.strictObject({
  /** Safe default: `bearerAuth()` from `createAuthFromConfig` refuses requests without a token. */
  required: z.boolean().default(true),
  session: z.strictObject({ storage: storage(SessionSecretsSchema).prefault({}) }).prefault({}),
  methods: z.strictObject({ token: TokenMethodSchema.prefault({}) }).prefault({}),
});

/** The whole config file. */
export const AuthConfigSchema = z.strictObject({
  secrets: SecretsSchema.prefault({}),
  authentication: AuthenticationSchema.prefault({}),
});

/** A validated config with defaults filled in (snake_case keys as in the file; durations in seconds). */
export type AuthConfig = z.output<typeof AuthConfigSchema>;
/** What a config file may contain before defaults are applied. */
export type AuthConfigInput = z.input<typeof AuthConfigSchema>;
/** `secrets.providers` after validation. */
export type ProvidersConfig = AuthConfig['secrets']['providers'];
/** `secrets.providers.vault` when enabled. */
export type VaultProviderConfig = z.output<typeof vault.enabled>;
/** `secrets.providers.file` when enabled. */
export type FileProviderConfig = z.output<typeof file.enabled>;
/** `authentication.session.storage`. */
export type SessionStorageConfig = AuthConfig['authentication']['session']['storage'];
/** `authentication.methods.token`. */
export type TokenMethodConfig = AuthConfig['authentication']['methods']['token'];
