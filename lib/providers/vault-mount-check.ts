import { BackendUnavailableError, PermissionDeniedError } from '../errors';

/** The `process.emitWarning` code of every mount configuration warning. */
export const MAX_VERSIONS_WARNING = 'ESA_VAULT_MAX_VERSIONS';

interface KvConfigRead {
  data?: { max_versions?: number };
}

const warned = new Set<string>();

function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { code: MAX_VERSIONS_WARNING });
}

/**
 * Checks once, at start, that a KV v2 mount keeps one version per key (`<mount>/config`
 * `max_versions`), which is where session and token records get their history bound: the provider
 * writes no per-key metadata (a login costs one request, and a create through any node needs no
 * metadata capability). A mount that keeps more, or a policy that cannot read the config, only
 * emits a warning (code ESA_VAULT_MAX_VERSIONS); nothing fails. Resolves false when the server
 * could not be reached (not checked yet).
 */
export async function checkMountMaxVersions(read: () => Promise<KvConfigRead | null>, where: { address: string; mount: string }, wanted = 1): Promise<boolean> {
  const key = `${where.address} ${where.mount}`;
  let config: KvConfigRead | null;
  try {
    config = await read();
  } catch (err) {
    if (err instanceof BackendUnavailableError) return false; // not checked: try again on the next call
    const why = err instanceof PermissionDeniedError ? 'the policy does not grant it' : `${(err as Error).name}`;
    warnOnce(
      `${key} unreadable`,
      `vault: cannot read "${where.mount}/config" to check the mount's max_versions (${why}). Grant "read" on it, ` +
        `and make sure the mount keeps ${wanted} version per key: \`bao write ${where.mount}/config max_versions=${wanted}\`.`,
    );
    return true;
  }
  const kept = config?.data?.max_versions;
  if (typeof kept === 'number' && kept >= 1 && kept <= wanted) return true;
  warnOnce(
    `${key} max_versions`,
    `vault: mount "${where.mount}" keeps ${kept ? `up to ${kept}` : 'the default (10)'} versions per key, so old session ` +
      `contents and credential hashes stay readable as history. Set \`bao write ${where.mount}/config max_versions=${wanted}\` (see docs/vault.md).`,
  );
  return true;
}
