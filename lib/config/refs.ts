import { describeError, SecretReferenceError } from '../errors';
import type { SecretEntry, SecretProvider } from '../providers/types';
import { isPlainObject } from '../shared/objects';

/**
 * Secret references inside configuration strings.
 *
 * - `{{ secret.<provider>.<path>.<key> }}`: provider is the first dot-segment, key the last,
 *   path everything between (it may contain `/` and `.`). Whitespace inside the braces is optional.
 * - `${secret:<provider>:<path>:<key>}`: the Flipt v2 form. Provider is the first `:`-segment,
 *   key the last, path everything between (it may contain `/` and `:`).
 * - `${env:NAME}`: an environment variable.
 *
 * Every form may be the whole string or sit inside a longer one, several per string. There is
 * no escape syntax. A key cannot contain `.` in the `{{ }}` form or `:` in the `${ }` form.
 */

/** A parsed reference; `raw` is its exact text in the config (never a resolved value). */
export type SecretRef =
  | { kind: 'secret'; raw: string; provider: string; path: string; key: string }
  | { kind: 'env'; raw: string; name: string }
  | { kind: 'invalid'; raw: string; reason: string };

/** Where a reference sits inside a value: the keys and indexes leading to its string. */
export interface SecretRefOccurrence {
  location: (string | number)[];
  ref: SecretRef;
}

/** Options for `resolveSecretRefs`. */
export interface ResolveOptions {
  /** Environment for `${env:NAME}`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

type Piece = string | SecretRef;

const REFERENCE = /\{\{\s*secret\.([^{}]*?)\s*\}\}|\$\{(secret|env):([^{}]*)\}/g;
const UNTERMINATED = /\{\{\s*secret\.|\$\{(?:secret|env):/;
const PROVIDER_NAME = /^[A-Za-z0-9_-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NO_SPACE = /^\S+$/;
const DOTTED_FORM = '{{ secret.<provider>.<path>.<key> }}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the reference syntax itself
const COLON_FORM = '${secret:<provider>:<path>:<key>}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the reference syntax itself
const ENV_FORM = '${env:NAME}';

function parseDotted(raw: string, inner: string): SecretRef {
  const first = inner.indexOf('.');
  const last = inner.lastIndexOf('.');
  return secretRef(raw, inner.slice(0, first), inner.slice(first + 1, last), inner.slice(last + 1), first > 0 && last > first);
}

function parseColon(raw: string, inner: string): SecretRef {
  const parts = inner.split(':');
  return secretRef(raw, parts[0], parts.slice(1, -1).join(':'), parts[parts.length - 1], parts.length >= 3);
}

function secretRef(raw: string, provider: string, path: string, key: string, shaped: boolean): SecretRef {
  const form = raw.startsWith('{{') ? DOTTED_FORM : COLON_FORM;
  if (!shaped || !PROVIDER_NAME.test(provider) || !NO_SPACE.test(path) || !NO_SPACE.test(key)) {
    return { kind: 'invalid', raw, reason: `malformed reference; expected ${form}` };
  }
  return { kind: 'secret', raw, provider, path, key };
}

function parseEnv(raw: string, name: string): SecretRef {
  if (!ENV_NAME.test(name)) return { kind: 'invalid', raw, reason: `malformed reference; expected ${ENV_FORM}` };
  return { kind: 'env', raw, name };
}

function literal(text: string): Piece[] {
  if (text === '') return [];
  const open = UNTERMINATED.exec(text);
  if (!open) return [text];
  // Name the reference by its opening only: the text around it may be a literal secret.
  return [{ kind: 'invalid', raw: `${open[0]}...`, reason: 'unterminated reference (missing closing brace)' }];
}

/** Splits a string into literal text and references (malformed ones have kind "invalid"). */
function tokenize(text: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of text.matchAll(REFERENCE)) {
    pieces.push(...literal(text.slice(at, match.index)));
    const raw = match[0];
    if (match[1] !== undefined) pieces.push(parseDotted(raw, match[1].trim()));
    else if (match[2] === 'env') pieces.push(parseEnv(raw, match[3].trim()));
    else pieces.push(parseColon(raw, match[3].trim()));
    at = match.index + raw.length;
  }
  pieces.push(...literal(text.slice(at)));
  return pieces;
}

/** The references in one string, in order (malformed ones have kind "invalid"). */
export function parseSecretRefs(text: string): SecretRef[] {
  return tokenize(text).filter((piece): piece is SecretRef => typeof piece !== 'string');
}

/** Calls `visit` for every string inside plain objects and arrays, with its location. */
function visitStrings(value: unknown, visit: (text: string, location: (string | number)[]) => void, location: (string | number)[] = []): void {
  if (typeof value === 'string') {
    visit(value, location);
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) visitStrings(item, visit, [...location, i]);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) visitStrings(v, visit, [...location, k]);
  }
}

/** Every reference inside `value` (strings in plain objects and arrays), with its location. */
export function findSecretRefs(value: unknown): SecretRefOccurrence[] {
  const found: SecretRefOccurrence[] = [];
  visitStrings(value, (text, location) => {
    for (const ref of parseSecretRefs(text)) found.push({ location, ref });
  });
  return found;
}

/** Whether any string inside `value` contains a reference (well-formed or not). */
export function hasSecretRefs(value: unknown): boolean {
  return findSecretRefs(value).length > 0;
}

const entryKey = (provider: string, path: string): string => `${provider}\u0000${path}`;

async function readEntry(ref: Extract<SecretRef, { kind: 'secret' }>, providers: Record<string, SecretProvider>): Promise<SecretEntry> {
  if (!Object.hasOwn(providers, ref.provider)) {
    const known = Object.keys(providers).join(', ') || 'none';
    throw new SecretReferenceError(ref.raw, `no provider named "${ref.provider}" is configured (available: ${known})`);
  }
  let entry: SecretEntry | null;
  try {
    entry = await providers[ref.provider].get(ref.path);
  } catch (err) {
    throw new SecretReferenceError(ref.raw, `reading "${ref.path}" from provider "${ref.provider}" failed: ${describeError(err)}`, { cause: err });
  }
  if (!entry) throw new SecretReferenceError(ref.raw, `provider "${ref.provider}" has no secret at "${ref.path}"`);
  return entry;
}

/** Reads every distinct (provider, path) once, in parallel. */
async function readAll(refs: SecretRef[], providers: Record<string, SecretProvider>): Promise<Map<string, SecretEntry>> {
  const reads = new Map<string, Promise<SecretEntry>>();
  for (const ref of refs) {
    if (ref.kind !== 'secret') continue;
    const k = entryKey(ref.provider, ref.path);
    if (!reads.has(k)) reads.set(k, readEntry(ref, providers));
  }
  const keys = [...reads.keys()];
  const entries = await Promise.all(reads.values());
  return new Map(keys.map((k, i) => [k, entries[i]]));
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function resolveRef(ref: SecretRef, entries: Map<string, SecretEntry>, env: NodeJS.ProcessEnv): string {
  if (ref.kind === 'invalid') throw new SecretReferenceError(ref.raw, ref.reason);
  if (ref.kind === 'env') {
    const found = env[ref.name];
    if (found === undefined) throw new SecretReferenceError(ref.raw, `environment variable ${ref.name} is not set`);
    return found;
  }
  const data = entries.get(entryKey(ref.provider, ref.path))?.data ?? {};
  const found = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
  if (found === undefined || found === null) {
    throw new SecretReferenceError(ref.raw, `the secret at "${ref.path}" in provider "${ref.provider}" has no key "${ref.key}"`);
  }
  return stringify(found);
}

function substitute(value: unknown, replace: (text: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((item) => substitute(item, replace));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty, so a "__proto__" key from parsed YAML stays a plain key.
    Object.defineProperty(out, k, { value: substitute(v, replace), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Returns a copy of `value` with every reference in its strings replaced by what it points to.
 * Plain objects and arrays are walked; other objects (Buffers, Dates, class instances) are kept
 * as they are. Each distinct (provider, path) is read once per call.
 *
 * Resolved values are always strings, so the result keeps the type `T`: a string secret value
 * is used as is, numbers and booleans are converted with `String()`, objects and arrays with
 * `JSON.stringify()`. This holds for whole-value references too (`"${secret:file:a:n}"` with
 * `n: 5` gives `"5"`, not `5`).
 *
 * @throws SecretReferenceError naming the reference (never a value) when it is malformed or its
 *   provider, path, key or environment variable is missing, or when reading it fails.
 */
export async function resolveSecretRefs<T>(value: T, providers: Record<string, SecretProvider>, opts: ResolveOptions = {}): Promise<T> {
  const env = opts.env ?? process.env;
  const parsed = new Map<string, Piece[]>();
  visitStrings(value, (text) => {
    if (!parsed.has(text)) parsed.set(text, tokenize(text));
  });
  const refs = [...parsed.values()].flat().filter((piece): piece is SecretRef => typeof piece !== 'string');
  const invalid = refs.find((ref) => ref.kind === 'invalid');
  if (invalid) throw new SecretReferenceError(invalid.raw, invalid.reason);
  const entries = await readAll(refs, providers);
  const replace = (text: string): string =>
    (parsed.get(text) ?? [text]).map((piece) => (typeof piece === 'string' ? piece : resolveRef(piece, entries, env))).join('');
  return substitute(value, replace) as T;
}
