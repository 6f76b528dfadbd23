#!/usr/bin/env node
// `express-secrets-auth tokens create|list|revoke|rotate|import|revoke-leaked --config auth.yml [--json]`
import { parseArgs } from 'node:util';
import { parseGrace } from './admin/validate';
import { EXIT } from './cli/exit';
import { importStatic } from './cli/import';
import { readInput } from './cli/read-input';
import { revokeLeaked } from './cli/revoke-leaked';
import { UsageError } from './cli/usage';
import { jsonView, listTable } from './cli/view';
import { describeError, SecretsAuthError } from './errors';
import { createAuthFromConfig, type ConfiguredAuth } from './setup';
import { TokenError } from './tokens/errors';
import type { TokenInfo } from './tokens/types';
import { durationSeconds } from './shared/duration';

export { EXIT };

const HELP = `Usage: express-secrets-auth tokens <command> --config <auth.yml> [options]

Commands:
  create --name <name> [--description <text>] [--scopes a,b] [--expires-in 30d]
                         create a token; its plaintext is printed once
  list [--expiring 7d]   every token (stored and from the config), never a secret; with
                         --expiring only those expiring within that duration
  revoke <id>            revoke a stored token (it stops working at once)
  rotate <id> [--grace 1h] [--expires-in 30d]
                         give a token a new secret; with --grace (at most 7d) the old one
                         keeps working that long
  import [--dry-run]     move the config's static tokens into the store (hashed), so the same
                         strings keep working; they keep never expiring (unless the store has
                         max_ttl); prints what to remove from the config
  revoke-leaked <file|-> read text (a scanner's report, a log; "-" for standard input, at most
                         10 MiB), find the tokens in it (pattern + checksum), revoke each live
                         one; prints id, name and outcome per verified token, never a token

Options:
  --config <file>        YAML configuration (required)
  --json                 machine-readable output, with the HTTP API's snake_case fields
                         (list: { "tokens": [...] })
  --created-by <name>    recorded as created_by (default: $USER)
  -h, --help             this text

Durations (--expires-in, --grace, --expiring): "30s", "5m", "1h30m", "90d" or a number of seconds.

Exit codes: 0 done, 1 failed (backend unavailable, permission denied, ...), 2 usage or
configuration error, 3 no such token / read-only static token, 4 revoke-leaked found a token
from the config (it still works: remove it there).`;

interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** What `revoke-leaked -` reads (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

type Args = { positionals: string[]; values: Record<string, string | boolean | undefined> };

/** What `precheck` read or checked before the backend is contacted. */
interface Checked {
  graceSeconds: number | null;
  /** `revoke-leaked`'s input text. */
  leakText: string | null;
}

/**
 * Checks what can be checked before connecting to the backend (e.g. `--grace`, as the API does)
 * and reads `revoke-leaked`'s input, so a missing or oversized file is a usage error at once.
 */
async function precheck(command: string, args: Args, io: Io): Promise<Checked> {
  if (command === 'revoke-leaked') {
    const source = args.positionals[2];
    if (!source) throw new UsageError('revoke-leaked needs a file to read, or "-" for standard input');
    return { graceSeconds: null, leakText: await readInput(source, io.stdin ?? process.stdin) };
  }
  const grace = args.values.grace;
  if (command !== 'rotate' || grace === undefined) return { graceSeconds: null, leakText: null };
  try {
    return { graceSeconds: parseGrace(grace), leakText: null };
  } catch (err) {
    throw new UsageError(`--grace: ${(err as Error).message}`);
  }
}

async function run(command: string, auth: ConfiguredAuth, args: Args, io: Io, checked: Checked): Promise<number> {
  const json = args.values.json === true;
  const str = (k: string) => (typeof args.values[k] === 'string' ? (args.values[k] as string) : undefined);
  const createdBy = str('created-by') ?? io.env.USER ?? 'cli';
  const id = args.positionals[2];
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  switch (command) {
    case 'create': {
      const name = str('name');
      if (!name) throw new UsageError('create needs --name');
      const scopes =
        str('scopes')
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ?? [];
      const { token, record } = await auth.tokens.create({ name, description: str('description'), scopes, expiresIn: str('expires-in'), createdBy });
      if (json) print({ token, ...jsonView(record) });
      else io.out(`${token}\n\nToken "${record.name}" (id ${record.id}) created. Copy it now: it is not stored and will not be shown again.`);
      return EXIT.ok;
    }
    case 'list': {
      const all = expiringFilter(str('expiring'))(await auth.tokens.list());
      if (json) print({ tokens: all.map((t) => jsonView(t)) });
      else io.out(listTable(all));
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
      const { token, record } = await auth.tokens.rotate(id, { grace: checked.graceSeconds, expiresIn: str('expires-in') });
      if (json) print({ token, ...jsonView(record) });
      else {
        const until = record.previousExpiresAt ? `; the old secret works until ${record.previousExpiresAt}` : '; the old secret no longer works';
        io.out(`${token}\n\nToken "${record.name}" (id ${record.id}) rotated${until}. Copy it now: it will not be shown again.`);
      }
      return EXIT.ok;
    }
    case 'import':
      await importStatic(auth, io, { json, dryRun: args.values['dry-run'] === true, createdBy });
      return EXIT.ok;
    case 'revoke-leaked':
      return revokeLeaked(auth.tokens, checked.leakText ?? '', io, { json });
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
        expiring: { type: 'string' },
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
    const checked = await precheck(command, args, io);
    auth = await createAuthFromConfig(args.values.config, { env: io.env, logger: { info: () => undefined, warn: io.err, error: io.err } });
    return await run(command, auth, args, io, checked);
  } catch (err) {
    return report(err, io);
  } finally {
    await auth?.close().catch(() => undefined);
  }
}

/** `--expiring <duration>`: keeps tokens not yet expired that expire within it. */
function expiringFilter(value: string | undefined): (all: TokenInfo[]) => TokenInfo[] {
  if (value === undefined) return (all) => all;
  const seconds = durationSeconds(value);
  if (seconds === undefined || seconds <= 0) throw new UsageError('--expiring must be a duration like "7d" or a number of seconds');
  const now = Date.now();
  return (all) => all.filter((t) => t.expiresAt !== null && Date.parse(t.expiresAt) > now && Date.parse(t.expiresAt) - now <= seconds * 1000);
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
  io.err(`express-secrets-auth: unexpected error: ${describeError(err)}`);
  return EXIT.failed;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
