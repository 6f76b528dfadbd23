// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these specs are about the ${...} reference syntax
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../lib';
import { parseConfigText } from '../../lib/config/load';
import { removeTempDir, tempDir } from '../support/temp-dir';

/** The sample from issue 2, with vault enabled. */
const SAMPLE = `
secrets:
  providers:
    file:  { enabled: true, base_path: ./.data/secrets }
    vault: { enabled: true, address: http://127.0.0.1:8200, mount: secret, auth_method: token, token: "\${env:VAULT_TOKEN}" }
authentication:
  required: true
  session:
    storage:
      type: secrets            # or memory
      secrets: { provider: vault, path: flipt/sessions, cache: { enabled: true, ttl: 5m } }
  methods:
    token:
      enabled: true
      tokens:
        - credential: "{{ secret.vault.flipt/tokens/ci-token.value }}"
          metadata: { name: "CI Pipeline Token" }
      storage:
        type: secrets
        secrets: { provider: vault, path: flipt/api-tokens, ttl: 90d, auto_rotate: true }
`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('esa-config-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('loads the sample config from issue 2', async () => {
    const file = path.join(dir, 'sample.yaml');
    await fs.writeFile(file, SAMPLE);
    const config = await loadConfig(file);
    expect(config.secrets.providers.vault).toMatchObject({ enabled: true, token: '${env:VAULT_TOKEN}', kv_version: 2 });
    expect(config.authentication.session.storage.secrets).toMatchObject({ provider: 'vault', path: 'flipt/sessions', cache: { enabled: true, ttl: 300 } });
    expect(config.authentication.methods.token.tokens).toEqual([
      { credential: '{{ secret.vault.flipt/tokens/ci-token.value }}', metadata: { name: 'CI Pipeline Token' } },
    ]);
    expect(config.authentication.methods.token.storage.secrets).toMatchObject({ ttl: 90 * 86_400, auto_rotate: true });
  });

  it('names the file when it cannot be read', async () => {
    const file = path.join(dir, 'missing.yaml');
    await expect(loadConfig(file)).rejects.toThrow(ConfigError);
    await expect(loadConfig(file)).rejects.toThrow(/missing\.yaml.*ENOENT/);
  });

  it('reports YAML syntax errors with their line, without quoting the source', async () => {
    const file = path.join(dir, 'broken.yaml');
    await fs.writeFile(file, 'secrets:\n  providers: [1\ntoken: hunter2-very-secret\n');
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/broken\.yaml/);
    expect((err as ConfigError).message).toMatch(/line \d+, column \d+/);
    expect((err as ConfigError).message).not.toContain('hunter2');
  });

  it('reports duplicate keys', () => {
    expect(problemsOf(() => parseConfigText('authentication: {}\nauthentication: {}\n'))[0]).toMatch(/line 2.*DUPLICATE_KEY/);
  });
});

describe('parseConfig problems', () => {
  it('reports an unknown provider by its config path', () => {
    const text = SAMPLE.replace('secrets: { provider: vault, path: flipt/sessions', 'secrets: { provider: valt, path: flipt/sessions');
    expect(problemsOf(() => parseConfigText(text))).toEqual([
      'authentication.session.storage.secrets.provider: unknown provider "valt" (enabled providers: file, vault)',
    ]);
  });

  it('reports a provider that is configured but not enabled', () => {
    const text = SAMPLE.replace('vault: { enabled: true', 'vault: { enabled: false');
    const problems = problemsOf(() => parseConfigText(text));
    expect(problems).toContain(
      'authentication.session.storage.secrets.provider: provider "vault" is not enabled (add secrets.providers.vault with enabled: true)',
    );
    expect(problems.some((p) => p.startsWith('authentication.methods.token.storage.secrets.provider: provider "vault" is not enabled'))).toBe(true);
    expect(problems.some((p) => p.startsWith('authentication.methods.token.tokens[0].credential: reference {{ secret.vault.'))).toBe(true);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf(() =>
      parseConfig({
        secrets: {
          providers: {
            file: { enabled: true },
            vault: { adress: 'http://x', kv_version: 3, auth_method: 'kubernetes', timeout: '5 minutes', retries: -1 },
          },
          refresh: '1m',
        },
        authentication: {
          required: 'yes',
          session: { storage: { type: 'secrets', secrets: { provider: 'nope', ttl: 0, path: '../etc' } } },
          methods: { token: { enabled: true, tokens: [{ metadata: {} }], storage: { type: 'redis' } } },
        },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'secrets.providers.file.base_path: required',
        'secrets.providers.vault.address: required',
        'secrets.providers.vault.adress: unknown key',
        'secrets.providers.vault.kv_version: expected one of 1, 2, "auto"',
        'secrets.providers.vault.role: required when auth_method is "kubernetes"',
        expect.stringMatching(/^secrets\.providers\.vault\.timeout: expected a duration/),
        expect.stringMatching(/^secrets\.providers\.vault\.retries: /),
        'secrets.refresh: unknown key',
        'authentication.required: expected true or false, got a string',
        'authentication.session.storage.secrets.ttl: must be longer than 0',
        expect.stringMatching(/^authentication\.session\.storage\.secrets\.path: must be "\/"-separated segments/),
        'authentication.session.storage.secrets.provider: unknown provider "nope" (enabled providers: file, vault)',
        'authentication.methods.token.tokens[0].metadata.name: required',
        'authentication.methods.token.tokens[0]: set exactly one of credential or credential_hash',
        'authentication.methods.token.storage.type: expected one of "secrets", "memory"',
      ]),
    );
    expect(problems).toHaveLength(15);
  });

  it('reports problems inside the map form of tokens by token name', () => {
    const problems = problemsOf(() =>
      parseConfig({ authentication: { methods: { token: { tokens: { ci: { credential: 5, extra: true }, 'CI bot': { credential: '' } } } } } }),
    );
    expect(problems).toEqual([
      'authentication.methods.token.tokens.ci.credential: expected a string, got a number',
      'authentication.methods.token.tokens.ci.extra: unknown key',
      'authentication.methods.token.tokens["CI bot"].credential: must not be empty',
    ]);
  });

  it('reports a tokens value that is neither a list nor a map', () => {
    expect(problemsOf(() => parseConfig({ authentication: { methods: { token: { tokens: 'abc' } } } }))).toEqual([
      'authentication.methods.token.tokens: expected a list or a map',
    ]);
  });

  it('reports duplicate token names', () => {
    const tokens = [
      { credential: 'a', metadata: { name: 'ci' } },
      { credential: 'b', metadata: { name: 'ci' } },
    ];
    expect(problemsOf(() => parseConfig({ authentication: { methods: { token: { tokens } } } }))).toEqual([
      'authentication.methods.token.tokens[1].metadata.name: duplicate token name',
    ]);
  });

  it('never echoes a value that failed validation', () => {
    const secret = 'hunter2-top-secret-value';
    const problems = problemsOf(() =>
      parseConfig({
        secrets: { providers: { vault: { address: secret, token: 42, kv_version: secret } } },
        authentication: {
          required: secret,
          methods: { token: { tokens: [{ credential_hash: secret, credential: 7, metadata: { name: 'x', note: 1 } }], storage: { type: secret } } },
        },
      }),
    );
    expect(problems.length).toBeGreaterThan(4);
    for (const p of problems) expect(p).not.toContain('hunter2');
  });

  it('reports malformed references and self-references, skipping disabled providers', () => {
    const problems = problemsOf(() =>
      parseConfig({
        secrets: {
          providers: {
            file: { base_path: '/tmp/x', encryption_key: '{{ secret.file.keys.main }}' },
            vault: { enabled: false, address: 'http://v', token: '{{ secret.nope.a.b }}' },
          },
        },
        authentication: {
          methods: {
            token: {
              tokens: [
                { credential: 'prefix-{{ secret.file.only-two }}', metadata: { name: 'a' } },
                { credential: '${env:}', metadata: { name: 'b' } },
                { credential: 'abc{{ secret.file.x.y', metadata: { name: 'c' } },
              ],
            },
          },
        },
      }),
    );
    expect(problems).toEqual([
      'secrets.providers.file.encryption_key: reference {{ secret.file.keys.main }}: provider "file" cannot read its own options from itself',
      'authentication.methods.token.tokens[0].credential: malformed reference; expected {{ secret.<provider>.<path>.<key> }}',
      'authentication.methods.token.tokens[1].credential: malformed reference; expected ${env:NAME}',
      'authentication.methods.token.tokens[2].credential: unterminated reference (missing closing brace)',
    ]);
  });

  it('rejects a root that is not a map', () => {
    expect(problemsOf(() => parseConfig(['a']))).toEqual(['(root): expected a map, got a list']);
  });

  it('names the source in the message', () => {
    expect(() => parseConfig({ nope: 1 }, 'app.yaml')).toThrow('Invalid configuration in app.yaml: nope: unknown key');
  });
});
