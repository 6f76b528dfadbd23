// The operator CLI, run as a real child process (the built dist/cli.js) against OpenBao.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createVaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { baoRequest } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { requireBuiltDist } from '../support/compiled-library';
import { type CliResult, runCli } from '../support/cli';

const STATIC_TOKEN = 'legacy-deploy-token-0123456789abcdef';

describeWith('openbao', 'express-secrets-auth CLI against OpenBao', () => {
  let dir: string;
  let config: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env });

  beforeAll(async () => {
    requireBuiltDist('cli.js');
    const vault = sharedVault();
    prefix = uniquePrefix('cli');
    dir = await tempDir('esa-cli-');
    config = join(dir, 'auth.yml');
    env = { ...process.env, TEST_VAULT_TOKEN: vault.token, USER: 'operator-ada' };
    const provider = createVaultProvider({ address: vault.address, auth: { method: 'token', token: vault.token } });
    await provider.put(`${prefix}/deploy`, { value: STATIC_TOKEN });
    await provider.close();
    await writeFile(
      config,
      `secrets:
  providers:
    vault: { address: ${vault.address}, auth_method: token, token: "\${env:TEST_VAULT_TOKEN}" }
authentication:
  methods:
    token:
      enabled: true
      tokens:
        - credential: "{{ secret.vault.${prefix}/deploy.value }}"
          metadata: { name: "Deploy Bot" }
          scopes: [deploy]
      storage:
        secrets: { provider: vault, path: ${prefix}/tokens, bcrypt_cost: 4, ttl: 90d }
`,
    );
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  test('create prints the token once; list shows it without any secret; --json works', async () => {
    const created = await cli('tokens', 'create', '--config', config, '--name', 'ci', '--scopes', 'read,write', '--expires-in', '30d', '--json');
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body.token).toMatch(/^esa_[0-9A-Za-z]{12}_/);
    expect(body).toMatchObject({ name: 'ci', scopes: ['read', 'write'], created_by: 'operator-ada', source: 'store', state: 'active' });
    expect(Object.keys(body).sort()).toEqual(
      [
        'token',
        'id',
        'name',
        'description',
        'scopes',
        'source',
        'state',
        'created_by',
        'created_at',
        'expires_at',
        'last_used_at',
        'rotated_at',
        'previous_expires_at',
        'delivery_path',
      ].sort(),
    );

    const list = await cli('tokens', 'list', '--config', config);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(body.id);
    expect(list.stdout).toContain('Deploy Bot');
    expect(list.stdout).not.toContain(body.token);
    expect(list.stdout).not.toContain(STATIC_TOKEN);
    expect(list.stdout).not.toMatch(/bcrypt|\$2b\$/);

    // The HTTP API's shape: { tokens: [...] } with snake_case fields.
    const listJson = JSON.parse((await cli('tokens', 'list', '--config', config, '--json')).stdout) as { tokens: Record<string, unknown>[] };
    expect(listJson.tokens.find((t) => t.id === body.id)).toMatchObject({
      source: 'store',
      created_by: 'operator-ada',
      expires_at: body.expires_at,
      last_used_at: null,
    });
    expect(listJson.tokens.find((t) => t.id === 'Deploy-Bot')).toMatchObject({ source: 'config', created_at: null });
    expect(JSON.stringify(listJson)).not.toMatch(/createdBy|expiresAt|lastUsedAt/);
  });

  test('list --expiring 7d shows only tokens expiring within it (table and --json); a bad duration is exit 2', async () => {
    const soon = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', 'soon', '--expires-in', '3d', '--json')).stdout);
    const later = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', 'later', '--expires-in', '30d', '--json')).stdout);
    const table = await cli('tokens', 'list', '--config', config, '--expiring', '7d');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+SOURCE\s+SCOPES\s+STATE\s+CREATED BY\s+EXPIRES$/);
    expect(table.stdout).toContain(soon.id);
    expect(table.stdout).not.toContain(later.id);
    expect(table.stdout).not.toContain('Deploy Bot'); // no expiry
    const json = JSON.parse((await cli('tokens', 'list', '--config', config, '--expiring', '7d', '--json')).stdout) as {
      tokens: { id: string; state: string }[];
    };
    expect(json.tokens.map((t) => t.id)).toContain(soon.id);
    expect(json.tokens.map((t) => t.id)).not.toContain(later.id);
    const wide = await cli('tokens', 'list', '--config', config, '--expiring', '31d', '--json');
    expect((JSON.parse(wide.stdout) as { tokens: { id: string }[] }).tokens.map((t) => t.id)).toEqual(expect.arrayContaining([soon.id, later.id]));
    const bad = await cli('tokens', 'list', '--config', config, '--expiring', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expiring');
  });

  test('list columns stay aligned with long scopes and names (cut to 30 characters)', async () => {
    const scopes = ['read:invoices', 'write:exports', 'read:customers', 'admin:everything'].join(',');
    const name = 'a-very-long-token-name-for-the-nightly-billing-export';
    const { id } = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', name, '--scopes', scopes, '--json')).stdout);
    const lines = (await cli('tokens', 'list', '--config', config)).stdout.trimEnd().split('\n');
    const header = lines[0];
    const columns = ['ID', 'NAME', 'SOURCE', 'SCOPES', 'STATE', 'CREATED BY', 'EXPIRES'].map((h) => header.indexOf(h));
    expect(columns.every((c, i) => c >= 0 && (i === 0 || c > columns[i - 1]))).toBe(true);
    const line = lines.find((l) => l.startsWith(id)) as string;
    expect(line.slice(columns[1]).startsWith('a-very-long-token-name-for-th… ')).toBe(true);
    expect(line.slice(columns[2], columns[3]).trim()).toBe('store');
    expect(line.slice(columns[3], columns[4]).trim()).toBe(`${scopes.slice(0, 29)}…`);
    expect(line.slice(columns[4], columns[5]).trim()).toBe('active');
    expect(line.slice(columns[5], columns[6]).trim()).toBe('operator-ada');
    for (const l of lines.slice(1)) expect(l.slice(columns[2] - 2, columns[2])).toBe('  '); // every row aligned
    expect((await cli('tokens', 'revoke', id, '--config', config)).code).toBe(0);
  });

  test('rotate with grace, then revoke; a second revoke is exit code 3', async () => {
    const { id, token } = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', 'to-rotate', '--json')).stdout);
    const rotated = await cli('tokens', 'rotate', id, '--config', config, '--grace', '1h', '--json');
    expect(rotated.code).toBe(0);
    const next = JSON.parse(rotated.stdout);
    expect(next.id).toBe(id);
    expect(next.token).not.toBe(token);
    expect(Date.parse(next.previous_expires_at) - Date.parse(next.rotated_at)).toBe(3600_000);

    expect((await cli('tokens', 'revoke', id, '--config', config)).code).toBe(0);
    const again = await cli('tokens', 'revoke', id, '--config', config);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`No token with id "${id}"`);
  });

  test('rotate --grace is checked like the API and the page: at most 7 days, else exit 2 with the reason', async () => {
    const { id, token } = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', 'grace-check', '--json')).stdout);
    for (const grace of ['30d', '8d', 'soon']) {
      const res = await cli('tokens', 'rotate', id, '--config', config, '--grace', grace);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        grace === 'soon' ? /--grace: grace must be a number of seconds or a duration/ : /--grace: grace must be at most 604800 seconds \(7 days\)/,
      );
      expect(res.stdout).toBe('');
    }
    const listed = JSON.parse((await cli('tokens', 'list', '--config', config, '--json')).stdout).tokens;
    expect(listed.find((t: { id: string }) => t.id === id).rotated_at).toBeNull(); // nothing was rotated
    const ok = await cli('tokens', 'rotate', id, '--config', config, '--grace', '7d', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).token).not.toBe(token);
  });

  test('a config token cannot be revoked (exit 3, says to edit the config)', async () => {
    const res = await cli('tokens', 'revoke', 'Deploy-Bot', '--config', config);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/configuration/);
  });

  test('import moves the static token into the store, hashed, and says what to remove from the config', async () => {
    const dry = await cli('tokens', 'import', '--config', config, '--dry-run', '--json');
    expect(JSON.parse(dry.stdout).results).toEqual([{ name: 'Deploy Bot', status: 'would import', expires_at: null }]);

    const res = await cli('tokens', 'import', '--config', config);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/imported\s+Deploy Bot \(id [0-9A-Za-z]{12}\)/);
    // The store's ttl (90d here) is not applied: a never-expiring config token stays never-expiring, and it says so.
    expect(res.stdout).toContain("Imported tokens never expire, like the static tokens they copy (the store's ttl is not applied)");
    const imported = JSON.parse((await cli('tokens', 'list', '--config', config, '--json')).stdout).tokens.find(
      (t: { name: string; source: string }) => t.name === 'Deploy Bot' && t.source === 'store',
    );
    expect(imported.expires_at).toBeNull();
    expect(res.stdout).toContain('accept_imported: true');
    expect(res.stdout).toContain('Remove these entries from authentication.methods.token.tokens: "Deploy Bot"');
    expect(res.stdout).not.toContain(STATIC_TOKEN);

    const raw = await baoRequest<{ data: { keys: string[] } }>(sharedVault().address, sharedVault().token, 'LIST', `secret/metadata/${prefix}/tokens`);
    const keys = raw.body?.data.keys ?? [];
    for (const key of keys) {
      const record = await baoRequest(sharedVault().address, sharedVault().token, 'GET', `secret/data/${prefix}/tokens/${key}`);
      expect(JSON.stringify(record.body)).not.toContain(STATIC_TOKEN);
    }

    const again = JSON.parse((await cli('tokens', 'import', '--config', config, '--json')).stdout);
    expect(again.results).toEqual([{ name: 'Deploy Bot', status: 'already imported' }]);
  });

  test('import with nothing to import says so; with max_ttl the imported copy expires, and it says when', async () => {
    const empty = join(dir, 'empty.yml');
    const vault = sharedVault();
    const header = `secrets:\n  providers:\n    vault: { address: ${vault.address}, auth_method: token, token: "\${env:TEST_VAULT_TOKEN}" }\nauthentication:\n  methods:\n    token:\n      enabled: true\n`;
    await writeFile(empty, `${header}      storage:\n        secrets: { provider: vault, path: ${prefix}/empty, bcrypt_cost: 4 }\n`);
    const none = await cli('tokens', 'import', '--config', empty);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^Nothing to import: the config has no static tokens/);
    expect(JSON.parse((await cli('tokens', 'import', '--config', empty, '--json')).stdout).results).toEqual([]);

    const capped = join(dir, 'capped.yml');
    await writeFile(
      capped,
      `${header}      tokens:\n        - credential: "{{ secret.vault.${prefix}/deploy.value }}"\n          metadata: { name: "Deploy Bot" }\n      storage:\n        secrets: { provider: vault, path: ${prefix}/capped, bcrypt_cost: 4, max_ttl: 30d }\n`,
    );
    const res = await cli('tokens', 'import', '--config', capped);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /Imported tokens expire 2592000 seconds from now \(\d{4}-\d{2}-\d{2}T[\d:.]+Z\): the store's max_ttl requires every token to expire/,
    );
    const [t] = JSON.parse((await cli('tokens', 'list', '--config', capped, '--json')).stdout).tokens.filter((x: { source: string }) => x.source === 'store');
    expect(Date.parse(t.expires_at) - Date.parse(t.created_at)).toBe(30 * 86_400_000);
  });

  test('usage and configuration errors exit 2 with a message, never a stack', async () => {
    const noConfig = await cli('tokens', 'list');
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('--config');
    const badCommand = await cli('tokens', 'explode', '--config', config);
    expect(badCommand.code).toBe(2);
    const missing = await cli('tokens', 'list', '--config', join(dir, 'nope.yml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect((await cli('--help')).code).toBe(0);
  });

  test('a stopped backend is exit code 1 with a clear message', async () => {
    const down = join(dir, 'down.yml');
    await writeFile(
      down,
      `secrets:\n  providers:\n    vault: { address: "http://127.0.0.1:9", token: t, timeout: 1s, retries: 0 }\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage: { secrets: { provider: vault } }\n`,
    );
    const res = await cli('tokens', 'list', '--config', down);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Cannot reach Vault/);
  });
});
