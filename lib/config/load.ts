import { promises as fs } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { isNonArrayObject } from '../shared/objects';
import { findSecretRefs } from './refs';
import { type AuthConfig, AuthConfigSchema, PROVIDER_NAMES } from './schema';

type Dict = Record<string, unknown>;
type Location = readonly PropertyKey[];

/** `a.b[0]["odd key"]`, or "(root)". */
export function formatConfigPath(path: Location): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out === '' ? '(root)' : out;
}

const problem = (path: Location, message: string): string => `${formatConfigPath(path)}: ${message}`;

const NOUNS: Record<string, string> = { record: 'a map', object: 'a map', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return NOUNS[typeof value] ?? typeof value;
}

/** Messages that describe what was expected and the input's type, never the input itself. */
function errorMap(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? 'required' : `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${kindOf(issue.input)}`;
  }
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `expected one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return undefined;
}

const isRootTypeMismatch = (branch: z.core.$ZodIssue[]): boolean => branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);

/** Flattens zod issues into "path: message" lines; a union reports the branch that fits the input's type. */
function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: Location = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => problem([...path, key], 'unknown key'));
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [problem(path, issue.message)];
    const fitting = issue.errors.filter((branch) => !isRootTypeMismatch(branch));
    if (fitting.length === 1) return flattenIssues(fitting[0], path);
    const expected = issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type').map((i) => NOUNS[i.expected] ?? i.expected));
    return [problem(path, fitting.length === 0 && expected.length > 0 ? `expected ${expected.join(' or ')}` : 'does not match any allowed form')];
  });
}

/** The providers whose blocks are present and not `enabled: false`. */
function enabledProviders(raw: Dict): Set<string> {
  const secrets = isNonArrayObject(raw.secrets) ? raw.secrets : {};
  const providers = isNonArrayObject(secrets.providers) ? secrets.providers : {};
  return new Set(Object.keys(providers).filter((name) => isNonArrayObject(providers[name]) && providers[name].enabled !== false));
}

function providerProblem(name: string, enabled: Set<string>): string | undefined {
  if (enabled.has(name)) return undefined;
  if ((PROVIDER_NAMES as readonly string[]).includes(name)) {
    return `provider "${name}" is not enabled (add secrets.providers.${name} with enabled: true)`;
  }
  return `unknown provider "${name}" (enabled providers: ${[...enabled].join(', ') || 'none'})`;
}

function dig(raw: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (isNonArrayObject(node) ? node[key] : undefined), raw);
}

/** A storage block whose effective type is "secrets" must name an enabled provider. */
function storageProblems(raw: Dict, storagePath: readonly string[], enabled: Set<string>): string[] {
  const storage = dig(raw, storagePath);
  if (!isNonArrayObject(storage)) return [];
  const type = storage.type ?? ('secrets' in storage ? 'secrets' : 'memory');
  const name = dig(storage, ['secrets', 'provider']);
  if (type !== 'secrets' || typeof name !== 'string' || name === '') return [];
  const message = providerProblem(name, enabled);
  return message ? [problem([...storagePath, 'secrets', 'provider'], message)] : [];
}

/** References must be well-formed and point at enabled providers other than the one they configure. */
function referenceProblems(raw: Dict, enabled: Set<string>): string[] {
  const problems: string[] = [];
  for (const { location, ref } of findSecretRefs(raw)) {
    const inProvider = location[0] === 'secrets' && location[1] === 'providers' ? String(location[2]) : undefined;
    if (inProvider !== undefined && !enabled.has(inProvider)) continue; // a disabled provider's options are never resolved
    if (ref.kind === 'invalid') problems.push(problem(location, ref.reason));
    if (ref.kind !== 'secret') continue;
    const message = ref.provider === inProvider ? `provider "${inProvider}" cannot read its own options from itself` : providerProblem(ref.provider, enabled);
    if (message) problems.push(problem(location, `reference ${ref.raw}: ${message}`));
  }
  return problems;
}

/** Rules that span the whole config, checked on the raw input so they report even when other parts are wrong. */
function crossFieldProblems(raw: unknown): string[] {
  if (!isNonArrayObject(raw)) return [];
  const enabled = enabledProviders(raw);
  const tokenEnabled = dig(raw, ['authentication', 'methods', 'token', 'enabled']) === true;
  return [
    ...storageProblems(raw, ['authentication', 'session', 'storage'], enabled),
    ...(tokenEnabled ? storageProblems(raw, ['authentication', 'methods', 'token', 'storage'], enabled) : []),
    ...referenceProblems(raw, enabled),
  ];
}

/**
 * Validates a config object (e.g. parsed YAML), fills in defaults and returns it. Secret
 * references stay as written; resolve them with `createProvidersFromConfig` (provider options)
 * and `resolveSecretRefs` (the rest).
 *
 * @param source where the object came from (a file name), used in the error message.
 * @throws ConfigError listing every problem as "config.path: what is wrong" (never a value).
 */
export function parseConfig(obj: unknown, source?: string): AuthConfig {
  const input = obj ?? {};
  const result = AuthConfigSchema.safeParse(input, { error: errorMap });
  const problems = [...(result.success ? [] : flattenIssues(result.error.issues)), ...crossFieldProblems(input)];
  if (problems.length > 0 || !result.success) throw new ConfigError(problems, source);
  return result.data;
}

/** Parses YAML text (an empty document means all defaults), then `parseConfig`. */
export function parseConfigText(text: string, source?: string): AuthConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    // YAML's own messages are generic; source excerpts are left out since they could hold secrets.
    const problems = doc.errors.map((err) => {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      return `YAML syntax error at line ${line}, column ${col}: ${err.message} (${err.code})`;
    });
    throw new ConfigError(problems, source);
  }
  let obj: unknown;
  try {
    obj = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(`YAML could not be read: ${err instanceof Error ? err.message : 'unknown error'}`, source);
  }
  return parseConfig(obj, source);
}

/**
 * Reads a YAML config file and validates it (see `parseConfig`).
 *
 * @throws ConfigError when the file cannot be read, is not valid YAML, or does not validate.
 */
export async function loadConfig(file: string): Promise<AuthConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'unknown error';
    throw new ConfigError(`cannot read the config file (${code}); check the path and its permissions`, file);
  }
  return parseConfigText(text, file);
}
