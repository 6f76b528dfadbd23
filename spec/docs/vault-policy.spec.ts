// The least-privilege policies printed in docs/vault.md, applied to the shared OpenBao: a token bound
// only to them (plus `default`, as the doc says) runs the session store and the token store end to
// end, and is refused outside the documented paths.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createVaultProvider, PermissionDeniedError, SecretsSessionStore, TokenStore, type VaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { baoRequest, createToken, enableKvV1, writePolicy } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { sleep } from '../support/sleep';

const DOC = join(__dirname, '..', '..', 'docs', 'vault.md');

/** The fenced hcl block right after `<!-- policy: <name> -->` in docs/vault.md. */
function policyBlock(name: string): string {
  const text = readFileSync(DOC, 'utf8');
  const marker = `<!-- policy: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`docs/vault.md has no "${marker}" marker`);
  const block = /^```hcl\n([\s\S]*?)^```/m.exec(text.slice(at + marker.length));
  if (!block || text.slice(at + marker.length, at + marker.length + block.index).trim() !== '') {
    throw new Error(`docs/vault.md: "${marker}" must be followed directly by a \`\`\`hcl block`);
  }
  return block[1];
}

/** Replaces every whole occurrence of `from` (e.g. `"secret/data/app/`) — and insists there is one. */
function substitute(policy: string, pairs: [string, string][]): string {
  let out = policy;
  for (const [from, to] of pairs) {
    if (!out.includes(from)) throw new Error(`policy block does not mention ${from}`);
    out = out.split(from).join(to);
  }
  return out;
}

/** A session whose cookie expires `ms` from now. */
const sess = (ms: number, data: Record<string, unknown> = {}) => ({ cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms) }, ...data }) as never;

/** A token bound only to `policies` (+ default) and a provider using it. */
async function limitedProvider(policies: string[], opts: { mount: string; kvVersion: 1 | 2 | 'auto' }): Promise<VaultProvider> {
  const { address, token: root } = sharedVault();
  const names: string[] = [];
  for (const policy of policies) {
    const name = uniquePrefix('doc-policy');
    await writePolicy(address, root, name, policy);
    names.push(name);
  }
  const token = await createToken(address, root, [...names, 'default']);
  const self = await baoRequest<{ data: { policies: string[] } }>(address, token, 'GET', 'auth/token/lookup-self');
  expect([...(self.body?.data.policies ?? [])].sort()).toEqual([...names, 'default'].sort());
  return createVaultProvider({ address, mount: opts.mount, kvVersion: opts.kvVersion, auth: { method: 'token', token } });
}

/** Every SecretsSessionStore operation the doc's policy must allow. */
async function exerciseSessions(provider: VaultProvider, path: string): Promise<void> {
  const store = new SecretsSessionStore({ provider, path, cleanupIntervalMs: 0 });
  await store.set('alice', sess(60_000, { user: 'alice' }));
  await store.set('bob', sess(60_000, { user: 'bob' }));
  await store.set('bob', sess(60_000, { user: 'bob', n: 2 })); // update
  expect(await store.get('alice')).toMatchObject({ user: 'alice' });
  await store.touch('alice', sess(120_000, { user: 'alice' }));
  expect(await store.get('alice')).toMatchObject({ cookie: { originalMaxAge: 120_000 } });
  expect(await store.length()).toBe(2);
  expect((await store.ids()).sort()).toEqual(['alice', 'bob']);
  await store.set('gone', sess(30, {}));
  await sleep(60);
  expect(await store.sweep()).toEqual({ scanned: 3, deleted: 1 });
  await store.destroy('alice');
  expect(await store.get('alice')).toBeNull();
  await store.clear();
  expect(await store.length()).toBe(0);
  await store.close();
}

/** Every TokenStore operation the doc's policy must allow, with no background write failing. */
async function exerciseTokens(provider: VaultProvider, path: string): Promise<void> {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  const tokens = new TokenStore({ provider, path, bcryptCost: 4, logger });
  const { token, record } = await tokens.create({ name: 'ci', scopes: ['read'], expiresIn: '1d' });
  expect((await tokens.list()).map((t) => t.id)).toEqual([record.id]);
  expect(await tokens.get(record.id)).toMatchObject({ name: 'ci', scopes: ['read'] });
  expect(await tokens.verify(token)).toMatchObject({ tokenId: record.id, source: 'store' });
  await tokens.flush(); // the last_used_at write
  expect((await tokens.get(record.id))?.lastUsedAt).not.toBeNull();
  const rotated = await tokens.rotate(record.id, { grace: 60 });
  expect(await tokens.verify(rotated.token)).toMatchObject({ tokenId: record.id });
  expect(await tokens.revoke(record.id)).toBe(true);
  expect(await tokens.verify(rotated.token)).toBeNull();
  expect(await tokens.list()).toEqual([]);
  await tokens.close();
  expect(warnings).toEqual([]);
}

/** Outside the documented paths the token is refused with PermissionDeniedError. */
async function expectDenied(provider: VaultProvider, prefix: string): Promise<void> {
  await expect(provider.get(`${prefix}/other/x`)).rejects.toBeInstanceOf(PermissionDeniedError);
  await expect(provider.put(`${prefix}-other/sessions/x`, { a: 1 })).rejects.toBeInstanceOf(PermissionDeniedError);
  await expect(provider.list(`${prefix}`)).rejects.toBeInstanceOf(PermissionDeniedError);
  const elsewhere = new SecretsSessionStore({ provider, path: `${prefix}/elsewhere`, cleanupIntervalMs: 0 });
  await expect(elsewhere.set('sid', sess(60_000))).rejects.toBeInstanceOf(PermissionDeniedError);
  const otherTokens = new TokenStore({ provider, path: `${prefix}/other-tokens`, bcryptCost: 4 });
  await expect(otherTokens.create({ name: 'x' })).rejects.toBeInstanceOf(PermissionDeniedError);
}

describeWith('openbao', 'docs/vault.md policies on OpenBao', () => {
  const providers: VaultProvider[] = [];
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
  });

  test('KV v2: the documented policy runs the session store and the token store, and nothing else', async () => {
    const prefix = uniquePrefix('doc-kv2');
    const policy = substitute(policyBlock('kv2'), [
      ['"secret/data/app/', `"secret/data/${prefix}/`],
      ['"secret/metadata/app/', `"secret/metadata/${prefix}/`],
    ]);
    const provider = await limitedProvider([policy], { mount: 'secret', kvVersion: 2 });
    providers.push(provider);
    const warned = jest.spyOn(process, 'emitWarning');
    try {
      await exerciseSessions(provider, `${prefix}/sessions`);
      await exerciseTokens(provider, `${prefix}/tokens`);
      // the policy lets the provider read secret/config, and the mount keeps one version: no warning
      expect(warned.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'ESA_VAULT_MAX_VERSIONS')).toEqual([]);
    } finally {
      warned.mockRestore();
    }
    await expectDenied(provider, prefix);
    // destroy/revoke removed the metadata: nothing lingers
    const { address, token } = sharedVault();
    const left = await baoRequest(address, token, 'LIST', `secret/metadata/${prefix}/sessions/`);
    expect(left.status).toBe(404);
  });

  test("kvVersion 'auto': works with the documented extra rule, and (on OpenBao) without it", async () => {
    const prefix = uniquePrefix('doc-auto');
    const kv2 = substitute(policyBlock('kv2'), [
      ['"secret/data/app/', `"secret/data/${prefix}/`],
      ['"secret/metadata/app/', `"secret/metadata/${prefix}/`],
    ]);
    const withRule = await limitedProvider([kv2, policyBlock('auto')], { mount: 'secret', kvVersion: 'auto' });
    const without = await limitedProvider([kv2], { mount: 'secret', kvVersion: 'auto' });
    providers.push(withRule, without);
    expect(await withRule.kvVersion()).toBe(2);
    expect(await without.kvVersion()).toBe(2);
    await exerciseSessions(withRule, `${prefix}/sessions`);
  });

  test('KV v1: the documented policy runs both stores, and nothing else', async () => {
    const { address, token } = sharedVault();
    const mount = uniquePrefix('doc-kv1');
    await enableKvV1(address, token, mount);
    const prefix = uniquePrefix('app');
    const policy = substitute(policyBlock('kv1'), [['"kv/app/', `"${mount}/${prefix}/`]]);
    const provider = await limitedProvider([policy], { mount, kvVersion: 1 });
    providers.push(provider);
    await exerciseSessions(provider, `${prefix}/sessions`);
    await exerciseTokens(provider, `${prefix}/tokens`);
    await expectDenied(provider, prefix);
  });
});
