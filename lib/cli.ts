#!/usr/bin/env node
// `express-secrets-auth tokens create|list|revoke|rotate|import --config auth.yml [--json]`
import { parseArgs } from 'node:util';
import { resolveSecretRefs } from './config/refs';
import { SecretsAuthError } from './errors';
import { createAuthFromConfig, type ConfiguredAuth } from './setup';
import { TokenError } from './tokens/errors';
import type { TokenInfo } from './tokens/types';

/** Exit codes, as documented in `--help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

const HELP = `Usage: express-secrets-auth tokens <command> --config <auth.yml> [options]

Commands:
  create --name <name> [--description <text>] [--scopes a,b] [--expires-in 30d]
                         issue a token; its plaintext is printed once
  list                   every token (stored and from the config), never a secret
  revoke <id>            delete a stored token
  rotate <id> [--grace 1h] [--expires-in 30d]
                         give a token a new secret; with --grace the old one works until then
  import [--dry-run]     move the config's static tokens into the store (hashed), so the same
                         strings keep working; prints what to remove from the config

Options:
  --config <file>        YAML configuration (required)
  --json                 machine-readable output
  --created-by <name>    recorded as created_by (default: $USER)
  -h, --help             this text

Exit codes: 0 done, 1 failed (backend unavailable, permission denied, ...), 2 usage or
configuration error, 3 no such token / read-only config token.`;

interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

function row(t: TokenInfo): string {
  const expires = t.expiresAt ?? 'never';
  return [t.id.padEnd(20), t.name.slice(0, 30).padEnd(31), t.source.padEnd(7), (t.scopes.join(',') || '-').padEnd(16), expires].join(' ');
}

async function importStatic(auth: ConfiguredAuth, io: Io, json: boolean, dryRun: boolean, createdBy: string): Promise<number> {
  const storage = auth.config.authentication.methods.token.storage;
  if (storage.type !== 'secrets' || !storage.secrets) {
    throw new UsageError('import needs authentication.methods.token.storage.type "secrets" (a persistent store to import into)');
  }
  const resolved = await resolveSecretRefs(auth.config.authentication.methods.token.tokens, auth.providers, { env: io.env });
  const results: { name: string; id?: string; status: 'imported' | 'would import' | 'already imported' | 'skipped'; reason?: string }[] = [];
  for (const t of resolved) {
    const name = t.metadata.name;
    if (!t.credential) {
      results.push({ name, status: 'skipped', reason: 'only credential_hash is known; keep it in the config or issue a new token' });
      continue;
    }
    const input = { name, description: t.metadata.description ?? '', scopes: t.scopes ?? [], createdBy };
    if (dryRun) {
      results.push({ name, status: 'would import' });
      continue;
    }
    try {
      results.push({ name, id: (await auth.tokens.importToken(t.credential, input)).id, status: 'imported' });
    } catch (err) {
      if (!(err instanceof TokenError && err.code === 'TOKEN_EXISTS')) throw err;
      results.push({ name, status: 'already imported' });
    }
  }
  const moved = results.filter((r) => r.status !== 'skipped').map((r) => r.name);
  const needsFlag = moved.length > 0 && !storage.secrets.accept_imported;
  if (json) {
    io.out(JSON.stringify({ results, remove_from_config: moved, set_accept_imported: needsFlag }, null, 2));
    return EXIT.ok;
  }
  for (const r of results) io.out(`${r.status.padEnd(17)} ${r.name}${r.id ? ` (id ${r.id})` : ''}${r.reason ? `: ${r.reason}` : ''}`);
  if (moved.length) {
    io.out('\nNext steps:');
    if (needsFlag) io.out('  1. Set `accept_imported: true` under authentication.methods.token.storage.secrets and deploy.');
    io.out(`  ${needsFlag ? 2 : 1}. Remove these entries from authentication.methods.token.tokens: ${moved.map((n) => JSON.stringify(n)).join(', ')}`);
    io.out('     (their secrets may then be deleted from wherever the config referenced them).');
    io.out('  Rollback: put the entries back; `tokens revoke <id>` removes an imported copy.');
  }
  return EXIT.ok;
}

async function run(command: string, auth: ConfiguredAuth, args: { positionals: string[]; values: Record<string, string | boolean | undefined> }, io: Io): Promise<number> {
  const json = args.values.json === true;
  const str = (k: string) => (typeof args.values[k] === 'string' ? (args.values[k] as string) : undefined);
  const createdBy = str('created-by') ?? io.env.USER ?? 'cli';
  const id = args.positionals[2];
  switch (command) {
    case 'create': {
      const name = str('name');
      if (!name) throw new UsageError('create needs --name');
      const scopes = str('scopes')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
      const { token, record } = await auth.tokens.create({ name, description: str('description'), scopes, expiresIn: str('expires-in'), createdBy });
      io.out(json ? JSON.stringify({ token, ...record }, null, 2) : `${token}\n\nToken "${record.name}" (id ${record.id}) created. Copy it now: it is not stored and will not be shown again.`);
      return EXIT.ok;
    }
    case 'list': {
      const all = await auth.tokens.list();
      if (json) io.out(JSON.stringify(all, null, 2));
      else io.out([`${'ID'.padEnd(20)} ${'NAME'.padEnd(31)} ${'SOURCE'.padEnd(7)} ${'SCOPES'.padEnd(16)} EXPIRES`, ...all.map(row)].join('\n'));
      return EXIT.ok;
    }
    case 'revoke': {
      if (!id) throw new UsageError('revoke needs a token id');
      if (!(await auth.tokens.revoke(id))) throw new TokenError('TOKEN_NOT_FOUND', `No token with id "${id}".`);
      io.out(json ? JSON.stringify({ id, revoked: true }) : `Token ${id} revoked.`);
      return EXIT.ok;
    }
    case 'rotate': {
      if (!id) throw new UsageError('rotate needs a token id');
      const { token, record } = await auth.tokens.rotate(id, { grace: str('grace'), expiresIn: str('expires-in') });
      io.out(json ? JSON.stringify({ token, ...record }, null, 2) : `${token}\n\nToken "${record.name}" (id ${record.id}) rotated${str('grace') ? `; the old secret works until ${record.previousExpiresAt}` : ''}. Copy it now: it will not be shown again.`);
      return EXIT.ok;
    }
    case 'import':
      return importStatic(auth, io, json, args.values['dry-run'] === true, createdBy);
    default:
      throw new UsageError(`unknown command "tokens ${command}"`);
  }
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], io: Io = { out: (t) => console.log(t), err: (t) => console.error(t), env: process.env }): Promise<number> {
  let auth: ConfiguredAuth | undefined;
  try {
    const args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        name: { type: 'string' },
        description: { type: 'string' },
        scopes: { type: 'string' },
        'expires-in': { type: 'string' },
        grace: { type: 'string' },
        'created-by': { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (args.values.help || argv.length === 0) {
      io.out(HELP);
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    const [group, command] = args.positionals;
    if (group !== 'tokens' || !command) throw new UsageError('expected "tokens <command>"');
    if (!args.values.config) throw new UsageError('--config <file> is required');
    auth = await createAuthFromConfig(args.values.config, { env: io.env, logger: { info: () => undefined, warn: io.err, error: io.err } });
    return await run(command, auth, args, io);
  } catch (err) {
    return report(err, io);
  } finally {
    await auth?.close().catch(() => undefined);
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof UsageError || (err as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    io.err(`express-secrets-auth: ${(err as Error).message}\nRun with --help for usage.`);
    return EXIT.usage;
  }
  if (err instanceof TokenError) {
    io.err(`express-secrets-auth: ${err.message}`);
    return err.code === 'INVALID_TOKEN_INPUT' ? EXIT.usage : EXIT.notFound;
  }
  if (err instanceof SecretsAuthError) {
    io.err(`express-secrets-auth: ${err.message}`);
    return err.code === 'CONFIG_ERROR' || err.code === 'SECRET_REFERENCE' ? EXIT.usage : EXIT.failed;
  }
  io.err(`express-secrets-auth: unexpected error: ${(err as Error)?.message ?? String(err)}`);
  return EXIT.failed;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
