import { resolveSecretRefs } from '../config/refs';
import type { ConfiguredAuth } from '../setup';
import { TokenError } from '../tokens/errors';
import { UsageError } from './usage';

type Status = 'imported' | 'would import' | 'already imported' | 'skipped';

/** One static token's outcome, as `--json` prints it. */
export interface ImportResult {
  name: string;
  id?: string;
  status: Status;
  /** When the imported copy expires: null (never, as the static token did) or `max_ttl` from now. */
  expires_at?: string | null;
  reason?: string;
}

export interface ImportIo {
  out(text: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * `tokens import`: hashes each static token that has a `credential` into the store under its
 * old string. A static token never expires, and neither does its imported copy: the store's `ttl`
 * is not applied. Only when the store has a `max_ttl` (every token must expire) is that the
 * lifetime, and the output says so.
 */
export async function importStatic(
  auth: ConfiguredAuth,
  io: ImportIo,
  opts: { json: boolean; dryRun: boolean; createdBy: string; now?: number },
): Promise<void> {
  const storage = auth.config.authentication.methods.token.storage;
  if (storage.type !== 'secrets' || !storage.secrets) {
    throw new UsageError('import needs authentication.methods.token.storage.type "secrets" (a persistent store to import into)');
  }
  const maxTtl = storage.secrets.max_ttl ?? null;
  const expiresIn = maxTtl ?? null;
  const expiresAt = () => (maxTtl === null ? null : new Date((opts.now ?? Date.now()) + maxTtl * 1000).toISOString());
  const resolved = await resolveSecretRefs(auth.config.authentication.methods.token.tokens, auth.providers, { env: io.env });
  const results: ImportResult[] = [];
  for (const t of resolved) {
    const name = t.metadata.name;
    if (!t.credential) {
      results.push({ name, status: 'skipped', reason: 'only credential_hash is known; keep it in the config or issue a new token' });
      continue;
    }
    if (opts.dryRun) {
      results.push({ name, status: 'would import', expires_at: expiresAt() });
      continue;
    }
    const input = { name, description: t.metadata.description ?? '', scopes: t.scopes ?? [], createdBy: opts.createdBy, expiresIn };
    try {
      const info = await auth.tokens.importToken(t.credential, input);
      results.push({ name, id: info.id, status: 'imported', expires_at: info.expiresAt });
    } catch (err) {
      if (!(err instanceof TokenError && err.code === 'TOKEN_EXISTS')) throw err;
      results.push({ name, status: 'already imported' });
    }
  }
  const moved = results.filter((r) => r.status !== 'skipped').map((r) => r.name);
  const needsFlag = moved.length > 0 && !storage.secrets.accept_imported;
  if (opts.json) {
    io.out(JSON.stringify({ results, remove_from_config: moved, set_accept_imported: needsFlag }, null, 2));
    return;
  }
  if (results.length === 0) {
    io.out('Nothing to import: the config has no static tokens (authentication.methods.token.tokens is empty).');
    return;
  }
  for (const r of results) io.out(`${r.status.padEnd(17)} ${r.name}${r.id ? ` (id ${r.id})` : ''}${r.reason ? `: ${r.reason}` : ''}`);
  const copied = results.some((r) => r.status === 'imported' || r.status === 'would import');
  if (copied) {
    io.out(
      maxTtl === null
        ? "\nImported tokens never expire, like the static tokens they copy (the store's ttl is not applied); rotate or revoke them with `tokens rotate|revoke <id>`."
        : `\nImported tokens expire ${maxTtl} seconds from now (${expiresAt()}): the store's max_ttl requires every token to expire. Hand out new tokens before then.`,
    );
  }
  if (moved.length) {
    io.out('\nNext steps:');
    if (needsFlag) io.out('  1. Set `accept_imported: true` under authentication.methods.token.storage.secrets and deploy.');
    io.out(`  ${needsFlag ? 2 : 1}. Remove these entries from authentication.methods.token.tokens: ${moved.map((n) => JSON.stringify(n)).join(', ')}`);
    io.out('     (their secrets may then be deleted from wherever the config referenced them).');
    io.out('  Rollback: put the entries back; `tokens revoke <id>` revokes an imported copy.');
  }
}
