// The operator CLI, run as a real child process (the built dist/cli.js) against OpenBao.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createVaultProvider } from '../../lib';
import { describeWith } from '../support/components';
import { baoRequest } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const STATIC_TOKEN = 'legacy-deploy-token-0123456789abcdef';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describeWith('openbao', 'express-secrets-auth CLI against OpenBao', () => {
  let dir: string;
  let config: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  async function cli(...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it before jest)');
    const vault = sharedVault();
    prefix = uniquePrefix('cli');
    dir = await mkdtemp(join(tmpdir(), 'esa-cli-'));
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
        secrets: { provider: vault, path: ${prefix}/tokens, bcrypt_cost: 4 }
`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('create prints the token once; list shows it without any secret; --json works', async () => {
    const created = await cli('tokens', 'create', '--config', config, '--name', 'ci', '--scopes', 'read,write', '--expires-in', '30d', '--json');
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body.token).toMatch(/^esa_[0-9A-Za-z]{12}_/);
    expect(body).toMatchObject({ name: 'ci', scopes: ['read', 'write'], createdBy: 'operator-ada', source: 'store' });

    const list = await cli('tokens', 'list', '--config', config);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(body.id);
    expect(list.stdout).toContain('Deploy Bot');
    expect(list.stdout).not.toContain(body.token);
    expect(list.stdout).not.toContain(STATIC_TOKEN);
    expect(list.stdout).not.toMatch(/bcrypt|\$2b\$/);

    const listJson = JSON.parse((await cli('tokens', 'list', '--config', config, '--json')).stdout) as { id: string; source: string }[];
    expect(listJson.find((t) => t.id === body.id)?.source).toBe('store');
    expect(listJson.find((t) => t.id === 'Deploy-Bot')?.source).toBe('config');
  });

  test('rotate with grace, then revoke; a second revoke is exit code 3', async () => {
    const { id, token } = JSON.parse((await cli('tokens', 'create', '--config', config, '--name', 'to-rotate', '--json')).stdout);
    const rotated = await cli('tokens', 'rotate', id, '--config', config, '--grace', '1h', '--json');
    expect(rotated.code).toBe(0);
    const next = JSON.parse(rotated.stdout);
    expect(next.id).toBe(id);
    expect(next.token).not.toBe(token);
    expect(next.previousExpiresAt).not.toBeNull();

    expect((await cli('tokens', 'revoke', id, '--config', config)).code).toBe(0);
    const again = await cli('tokens', 'revoke', id, '--config', config);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`No token with id "${id}"`);
  });

  test('a config token cannot be revoked (exit 3, says to edit the config)', async () => {
    const res = await cli('tokens', 'revoke', 'Deploy-Bot', '--config', config);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/configuration/);
  });

  test('import moves the static token into the store, hashed, and says what to remove from the config', async () => {
    const dry = await cli('tokens', 'import', '--config', config, '--dry-run', '--json');
    expect(JSON.parse(dry.stdout).results).toEqual([{ name: 'Deploy Bot', status: 'would import' }]);

    const res = await cli('tokens', 'import', '--config', config);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/imported\s+Deploy Bot \(id [0-9A-Za-z]{12}\)/);
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
    await writeFile(down, `secrets:\n  providers:\n    vault: { address: "http://127.0.0.1:9", token: t, timeout: 1s, retries: 0 }\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage: { secrets: { provider: vault } }\n`);
    const res = await cli('tokens', 'list', '--config', down);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Cannot reach Vault/);
  });
});
