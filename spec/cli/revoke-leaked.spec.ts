// `tokens revoke-leaked <file|->`, the real CLI (dist/cli.js) as an OS process, on the file provider
// and on OpenBao KV v2: tokens found in text are revoked, config tokens are named, nothing leaks.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAuthFromConfig, type ConfiguredAuth } from '../../lib';
import { generateToken } from '../../lib/tokens/format';
import { type CliResult, runCli } from '../support/cli';
import { requireBuiltDist } from '../support/compiled-library';
import { describeWith } from '../support/components';
import { createToken, writePolicy } from '../support/openbao';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sharedVault, uniquePrefix } from '../support/vault';

const MAX_INPUT_BYTES = 10 * 1024 * 1024; // documented in the README and --help
const flipCrc = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');

/** Neither a token nor its secret part (what follows the id) appears in `text`. */
function expectNoTokenText(text: string, tokens: string[]): void {
  for (const t of tokens) {
    expect(text).not.toContain(t);
    expect(text).not.toContain(t.slice(t.lastIndexOf('_') + 1, -6));
  }
}

interface Backend {
  /** The `secrets.providers` entry (YAML, one line) and the provider's name. */
  provider(dir: string): { name: string; yaml: string; path: string };
  env(): NodeJS.ProcessEnv;
}

function revokeLeakedSuite(backend: Backend): void {
  let dir: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  let auth: ConfiguredAuth;
  const configToken = generateToken('esa').token;
  const cli = (args: string[], input?: string): Promise<CliResult> => runCli(['tokens', 'revoke-leaked', ...args, '--config', config], { env, input });
  const create = async (name: string) => await auth.tokens.create({ name, scopes: ['read'] });

  beforeAll(async () => {
    requireBuiltDist('cli.js');
    dir = await tempDir('esa-leaked-');
    config = join(dir, 'auth.yml');
    env = { ...process.env, ...backend.env() };
    const p = backend.provider(dir);
    await writeFile(
      config,
      `secrets:
  providers:
    ${p.name}: ${p.yaml}
authentication:
  methods:
    token:
      enabled: true
      tokens:
        - credential: "${configToken}"
          metadata: { name: "Deploy Bot" }
      storage:
        secrets: { provider: ${p.name}, path: ${p.path}, bcrypt_cost: 4, verify_cache_ttl: 0 }
`,
    );
    auth = await createAuthFromConfig(config, { env });
  });
  afterAll(async () => {
    await auth?.close();
    await removeTempDir(dir);
  });

  test('a file: revokes the stored tokens, names the config one (exit 4), skips the rest; never prints a token', async () => {
    const [a, b, c, gone] = await Promise.all(['leak-a', 'leak-b', 'leak-c', 'leak-gone'].map(create));
    await auth.tokens.revoke(gone.record.id);
    const unknown = generateToken('esa').token; // well-formed, valid CRC, in no store
    const report = join(dir, 'scan.txt');
    const text = [
      `2026-12-01 GET https://api.example.test/v1/items?access_token=${a.token}&page=2 200`,
      `config.js:  headers: { Authorization: 'Bearer ${b.token}' }`,
      `"${c.token}" and again ${c.token}`,
      `DEPLOY_TOKEN=${configToken}`,
      `old: ${gone.token} unknown: ${unknown} bad crc: ${flipCrc(a.token)} longer: ${b.token}x`,
    ].join('\n');
    await writeFile(report, text);
    const all = [a.token, b.token, c.token, gone.token, unknown, configToken];

    const res = await cli([report]);
    expect(res.code).toBe(4);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+OUTCOME$/);
    for (const [t, name] of [
      [a, 'leak-a'],
      [b, 'leak-b'],
      [c, 'leak-c'],
    ] as const) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${t.record.id}\\s+${name}\\s+revoked$`)));
    }
    expect(lines).toContainEqual(expect.stringMatching(/^Deploy-Bot\s+Deploy Bot\s+from the config: remove it there$/));
    expect(lines).toHaveLength(1 + 4 + 2); // header, 4 verified, blank, summary
    expect(lines.at(-1)).toBe('6 found in the text, 4 verified, 3 revoked.');
    expect(res.stderr).toContain('1 of the verified tokens is from the config and still works');
    expectNoTokenText(res.stdout + res.stderr, all);

    for (const t of [a, b, c]) expect(await auth.tokens.verify(t.token)).toBeNull();
    expect(await auth.tokens.verify(configToken)).toMatchObject({ source: 'config' });

    const again = await cli([report]);
    expect(again.code).toBe(4);
    expect(again.stdout.trimEnd().split('\n').at(-1)).toBe('6 found in the text, 1 verified, 0 revoked.');
  });

  test('standard input ("-") with a gitleaks JSON report, --json: every stored token revoked, exit 0', async () => {
    const created = await Promise.all(['gl-1', 'gl-2', 'gl-3'].map(create));
    const finding = (secret: string, line: number) => ({
      Description: 'express-secrets-auth API token',
      StartLine: line,
      EndLine: line,
      StartColumn: 14,
      EndColumn: 14 + secret.length,
      Match: `API_TOKEN = "${secret}"`,
      Secret: secret,
      File: 'deploy/service.env',
      SymlinkFile: '',
      Commit: '3f1c2a9e0b7d4c6f8a1e2d3c4b5a69788796a5b4',
      Entropy: 5.1,
      Author: 'dev',
      Email: 'dev@example.test',
      Date: '2026-11-30T10:00:00Z',
      Message: 'add deploy config',
      Tags: [],
      RuleID: 'express-secrets-auth-token',
      Fingerprint: `3f1c2a9e0b7d4c6f8a1e2d3c4b5a69788796a5b4:deploy/service.env:express-secrets-auth-token:${line}`,
    });
    const input = JSON.stringify(
      [...created.map((t, i) => finding(t.token, i + 1)), finding(created[0].token.slice(0, -1), 9), finding(flipCrc(created[1].token), 10)],
      null,
      2,
    );
    const res = await cli(['-', '--json'], input);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ found: 3, verified: 3, revoked: 3, not_checked: 0, error: null });
    expect(out.tokens.map((t: { id: string }) => t.id).sort()).toEqual(created.map((t) => t.record.id).sort());
    expect(out.tokens[0]).toEqual({ id: expect.any(String), name: expect.stringMatching(/^gl-/), scopes: ['read'], source: 'store', revoked: true });
    expectNoTokenText(
      res.stdout,
      created.map((t) => t.token),
    );
    for (const t of created) expect(await auth.tokens.verify(t.token)).toBeNull();
  });

  test('text with no token: exit 0 and a zero summary', async () => {
    const res = await cli(['-'], 'nothing here but esa_tooShort_abc and a URL https://example.test/?t=1\n');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('0 found in the text, 0 verified, 0 revoked.\n');
  });
}

describe('tokens revoke-leaked on the file provider', () => {
  revokeLeakedSuite({
    provider: (dir) => ({ name: 'file', yaml: `{ base_path: ${join(dir, 'store')} }`, path: 'tokens' }),
    env: () => ({}),
  });
});

describeWith('openbao', 'tokens revoke-leaked on OpenBao KV v2', () => {
  revokeLeakedSuite({
    provider: () => ({
      name: 'vault',
      yaml: `{ address: ${sharedVault().address}, auth_method: token, token: "\${env:TEST_VAULT_TOKEN}" }`,
      path: `${uniquePrefix('leaked-cli')}/tokens`,
    }),
    env: () => ({ TEST_VAULT_TOKEN: sharedVault().token }),
  });
});

describeWith('openbao', 'tokens revoke-leaked on OpenBao with a policy that may read tokens but not delete them', () => {
  let dir: string;
  let config: string;
  let auth: ConfiguredAuth;
  let prefix: string;

  beforeAll(async () => {
    requireBuiltDist('cli.js');
    const vault = sharedVault();
    prefix = uniquePrefix('leaked-ro');
    dir = await tempDir('esa-leaked-ro-');
    config = join(dir, 'auth.yml');
    await writeFile(
      config,
      `secrets:\n  providers:\n    vault: { address: ${vault.address}, auth_method: token, token: "\${env:TEST_VAULT_TOKEN}", retries: 0 }\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage:\n        secrets: { provider: vault, path: ${prefix}/tokens, bcrypt_cost: 4, verify_cache_ttl: 0 }\n`,
    );
    auth = await createAuthFromConfig(config, { env: { TEST_VAULT_TOKEN: vault.token } });
    await writePolicy(
      vault.address,
      vault.token,
      prefix,
      `path "secret/data/${prefix}/*" { capabilities = ["read"] }\npath "secret/metadata/${prefix}/*" { capabilities = ["read", "list"] }\npath "secret/config" { capabilities = ["read"] }\n`,
    );
  });
  afterAll(async () => {
    await auth?.close();
    await removeTempDir(dir);
  });

  test('the refused revocation is exit 1 naming the token id and the denied path; nothing is revoked', async () => {
    const vault = sharedVault();
    const readOnly = await createToken(vault.address, vault.token, [prefix]);
    const first = await auth.tokens.create({ name: 'ro-1' });
    const second = await auth.tokens.create({ name: 'ro-2' });
    const res = await runCli(['tokens', 'revoke-leaked', '-', '--config', config], {
      env: { ...process.env, TEST_VAULT_TOKEN: readOnly },
      input: `${first.token}\n${second.token}\n`,
    });
    expect(res.code).toBe(1);
    // The first token verified (read is allowed), its revocation was refused: it is named, the second is not checked.
    expect(res.stderr).toContain(
      `the token with id ${first.record.id} verified, but revoking it failed: Permission denied to delete "${prefix}/tokens/${first.record.id}"`,
    );
    expect(res.stderr).toContain('(PermissionDeniedError PERMISSION_DENIED). It still works. 1 of 2 found tokens were not checked');
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(new RegExp(`^${first.record.id}\\s+ro-1\\s+NOT revoked: the backend failed \\(see the error\\)$`));
    expect(lines.at(-1)).toBe('2 found in the text, 1 verified, 0 revoked, 1 not checked.');
    const json = JSON.parse(
      (
        await runCli(['tokens', 'revoke-leaked', '-', '--config', config, '--json'], {
          env: { ...process.env, TEST_VAULT_TOKEN: readOnly },
          input: first.token,
        })
      ).stdout,
    );
    expect(json).toMatchObject({
      found: 1,
      verified: 1,
      revoked: 0,
      not_checked: 0,
      tokens: [{ id: first.record.id, revoked: false }],
      error: { code: 'PERMISSION_DENIED', token_id: first.record.id, verified: true },
    });
    expectNoTokenText(res.stdout + res.stderr, [first.token, second.token]);
    expect(await auth.tokens.verify(first.token)).toMatchObject({ tokenId: first.record.id });
    expect(await auth.tokens.verify(second.token)).toMatchObject({ tokenId: second.record.id });
  });
});

describe('tokens revoke-leaked: input limits, usage errors and a failing backend', () => {
  let dir: string;
  let down: string;
  const env = { ...process.env };
  const cli = (args: string[], input?: string | Buffer): Promise<CliResult> => runCli(['tokens', 'revoke-leaked', ...args, '--config', down], { env, input });

  beforeAll(async () => {
    requireBuiltDist('cli.js');
    dir = await tempDir('esa-leaked-limits-');
    down = join(dir, 'down.yml');
    // Nothing listens on port 9: any exit code but 2 below would mean the backend was contacted.
    await writeFile(
      down,
      `secrets:\n  providers:\n    vault: { address: "http://127.0.0.1:9", token: t, timeout: 1s, retries: 0 }\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage: { secrets: { provider: vault } }\n`,
    );
  });
  afterAll(() => removeTempDir(dir));

  test('more than 10 MiB (a file, standard input, an endless /dev/zero) is a usage error, read no further', async () => {
    const big = join(dir, 'big.txt');
    await writeFile(big, Buffer.alloc(MAX_INPUT_BYTES + 1, 0x20));
    for (const res of [await cli([big]), await cli(['-'], Buffer.alloc(MAX_INPUT_BYTES + 64 * 1024, 0x20)), await cli(['/dev/zero'])]) {
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/is larger than 10485760 bytes \(10 MiB\)/);
      expect(res.stdout).toBe('');
    }
  });

  test('exactly 10 MiB is read whole (a token at its very end is found)', async () => {
    const token = generateToken('esa').token;
    const edge = join(dir, 'edge.txt');
    await writeFile(edge, Buffer.concat([Buffer.alloc(MAX_INPUT_BYTES - token.length - 1, 0x20), Buffer.from(`\n${token}`)]));
    const res = await cli([edge]);
    // Found, then the backend (nothing on port 9) fails: exit 1, and the summary says what was not checked.
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('1 found in the text, 0 verified, 0 revoked, 1 not checked.\n');
  });

  test('no input named, a missing file, a folder: exit 2 with what to fix', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('revoke-leaked needs a file to read, or "-" for standard input');
    const missing = await cli([join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json": no such file');
    const folder = await cli([dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('it is a folder');
  });

  test('a backend that cannot answer: exit 1, says which backend error and at which token id, nothing assumed revoked', async () => {
    const first = generateToken('esa');
    const second = generateToken('esa').token;
    const res = await cli(['-'], `${first.token}\n${second}\n`);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('2 found in the text, 0 verified, 0 revoked, 2 not checked.\n');
    expect(res.stderr).toContain(`stopped at the token with id ${first.id}: Cannot reach Vault`);
    expect(res.stderr).toContain('2 of 2 found tokens were not checked (nothing is assumed revoked)');
    expectNoTokenText(res.stdout + res.stderr, [first.token, second]);
    const json = JSON.parse((await cli(['-', '--json'], first.token)).stdout);
    expect(json).toMatchObject({ found: 1, verified: 0, not_checked: 1, error: { code: 'BACKEND_UNAVAILABLE', token_id: first.id, verified: false } });
  });
});
