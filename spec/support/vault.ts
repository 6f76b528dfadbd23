// What specs use to reach the one OpenBao dev server that jest's globalSetup starts for the run.
import { randomBytes } from 'node:crypto';
import { enableKvV1 } from './openbao';

export interface SharedVault {
  /** e.g. http://127.0.0.1:41234 (KV v2 mounted at `secret/`) */
  address: string;
  /** Root token of the shared dev server. */
  token: string;
}

/**
 * Address and root token of the shared OpenBao dev server (env ESA_TEST_VAULT_ADDR and
 * ESA_TEST_VAULT_TOKEN, set by spec/support/global-setup.ts). Throws a clear error when absent.
 * Call it in hooks or tests, not at describe time. Use uniquePrefix() for every path you write.
 */
export function sharedVault(): SharedVault {
  const address = process.env.ESA_TEST_VAULT_ADDR;
  const token = process.env.ESA_TEST_VAULT_TOKEN;
  if (!address || !token) {
    const why = process.env.ESA_TEST_VAULT_ERROR;
    throw new Error(
      'No shared OpenBao server for this run (ESA_TEST_VAULT_ADDR/ESA_TEST_VAULT_TOKEN unset). ' +
        (why
          ? `Global setup could not start it: ${why}`
          : 'Run specs through jest (globalSetup spec/support/global-setup.ts) with `bao` installed ' +
            '(`node scripts/provision.js`), and wrap the suite in describeWith("openbao", ...).'),
    );
  }
  return { address, token };
}

/**
 * A fresh single path segment such as `session-store-m3k9x2-5f1c0a9e`, unique per call, so specs
 * sharing the server never collide. Usable as a KV path prefix or a mount path. `label` is
 * reduced to the characters allowed in paths ([A-Za-z0-9._:@+=-]).
 */
export function uniquePrefix(label: string): string {
  const clean =
    label
      .replace(/[^A-Za-z0-9._:@+=-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 40) || 't';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * A mount of the shared server for a spec that runs on both KV versions: the dev server's KV v2
 * `secret`, or a fresh KV v1 mount named after `label`.
 */
export async function kvMountFor(kvVersion: 1 | 2, label: string): Promise<string> {
  if (kvVersion === 2) return 'secret';
  const { address, token } = sharedVault();
  const mount = uniquePrefix(label);
  await enableKvV1(address, token, mount);
  return mount;
}
