// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these specs are about the ${...} reference syntax
import { parseConfig } from '../../lib';

describe('config schema', () => {
  it('fills in defaults for an empty config', () => {
    expect(parseConfig({})).toEqual({
      secrets: { providers: {} },
      authentication: {
        required: true,
        session: { storage: { type: 'memory' } },
        methods: { token: { enabled: false, tokens: [], storage: { type: 'memory' } } },
      },
    });
  });

  it('treats an empty document (null) as all defaults', () => {
    expect(parseConfig(null).authentication.required).toBe(true);
  });

  it('fills in provider and storage defaults', () => {
    const config = parseConfig({
      secrets: { providers: { file: { base_path: './data' }, vault: { address: 'http://127.0.0.1:8200', token: 't' } } },
      authentication: {
        session: { storage: { secrets: { provider: 'vault' } } },
        methods: { token: { enabled: true, storage: { type: 'secrets', secrets: { provider: 'file' } } } },
      },
    });
    expect(config.secrets.providers.file).toEqual({ enabled: true, base_path: './data' });
    expect(config.secrets.providers.vault).toEqual({
      enabled: true,
      address: 'http://127.0.0.1:8200',
      token: 't',
      mount: 'secret',
      kv_version: 2,
      auth_method: 'token',
    });
    expect(config.authentication.session.storage).toEqual({
      type: 'secrets',
      secrets: { provider: 'vault', path: 'sessions', prefix: 'sess:', ttl: 86_400, cache: { enabled: false, ttl: 5, max: 10_000 } },
    });
    expect(config.authentication.methods.token.storage.secrets).toEqual({
      provider: 'file',
      path: 'tokens',
      auto_rotate: false,
      accept_imported: false,
      revoke_on_reuse: false,
      leaked_token_endpoint: false,
      bcrypt_cost: 10,
      verify_cache_ttl: 60,
    });
  });

  it('parses durations to seconds', () => {
    const config = parseConfig({
      secrets: { providers: { memory: {} }, refresh_interval: '1m' },
      authentication: {
        session: { storage: { type: 'secrets', secrets: { provider: 'memory', ttl: '1h30m', touch_after: 60, cache: { enabled: true, ttl: '5m' } } } },
        methods: { token: { enabled: true, storage: { secrets: { provider: 'memory', ttl: '90d', verify_cache_ttl: '30s' } } } },
      },
    });
    expect(config.secrets.refresh_interval).toBe(60);
    expect(config.authentication.session.storage.secrets).toMatchObject({ ttl: 5400, touch_after: 60, cache: { enabled: true, ttl: 300 } });
    expect(config.authentication.methods.token.storage.secrets).toMatchObject({ ttl: 7_776_000, verify_cache_ttl: 30 });
  });

  it('takes reuse detection settings for stored tokens and names a bad one', () => {
    const withSecrets = (secrets: Record<string, unknown>) =>
      parseConfig({
        secrets: { providers: { memory: {} } },
        authentication: { methods: { token: { enabled: true, storage: { secrets: { provider: 'memory', ...secrets } } } } },
      });
    expect(withSecrets({ reuse_window: '2d', revoke_on_reuse: true }).authentication.methods.token.storage.secrets).toMatchObject({
      reuse_window: 172_800,
      revoke_on_reuse: true,
    });
    expect(() => withSecrets({ reuse_window: 0 })).toThrow(/reuse_window/);
    expect(() => withSecrets({ revoke_on_reuse: 'yes' })).toThrow(/revoke_on_reuse/);
    expect(withSecrets({ leaked_token_endpoint: true }).authentication.methods.token.storage.secrets).toMatchObject({ leaked_token_endpoint: true });
    expect(() => withSecrets({ leaked_token_endpoint: 'yes' })).toThrow(/leaked_token_endpoint/);
  });

  it('takes expiry notice settings for stored tokens and names a bad one', () => {
    const withSecrets = (secrets: Record<string, unknown>) =>
      parseConfig({
        secrets: { providers: { memory: {} } },
        authentication: { methods: { token: { enabled: true, storage: { secrets: { provider: 'memory', ...secrets } } } } },
      }).authentication.methods.token.storage.secrets;
    expect(withSecrets({ notify_before: '3d', expiry_check_interval: '30m' })).toMatchObject({ notify_before: 259_200, expiry_check_interval: 1800 });
    expect(withSecrets({ expiry_check_interval: 0 })).toMatchObject({ expiry_check_interval: 0 });
    expect(() => withSecrets({ notify_before: 0 })).toThrow(/notify_before/);
    expect(() => withSecrets({ expiry_check_interval: 'often' })).toThrow(/expiry_check_interval/);
  });

  it('accepts a disabled provider block without its required fields', () => {
    const config = parseConfig({ secrets: { providers: { vault: { enabled: false }, memory: { enabled: true } } } });
    expect(config.secrets.providers.vault).toMatchObject({ enabled: false });
    expect(config.secrets.providers.vault).not.toHaveProperty('address');
  });

  it('accepts kv_version 1, 2 and "auto" and every auth method', () => {
    for (const kv_version of [1, 2, 'auto'] as const) {
      const config = parseConfig({ secrets: { providers: { vault: { address: 'https://v:8200', kv_version } } } });
      expect(config.secrets.providers.vault).toMatchObject({ kv_version });
    }
    const approle = { address: 'https://v:8200', auth_method: 'approle', role_id: 'r', secret_id: 's', auth_mount: 'ar' };
    expect(parseConfig({ secrets: { providers: { vault: approle } } }).secrets.providers.vault).toMatchObject(approle);
    const k8s = { address: 'https://v:8200', auth_method: 'kubernetes', role: 'app', jwt_path: '/t' };
    expect(parseConfig({ secrets: { providers: { vault: k8s } } }).secrets.providers.vault).toMatchObject(k8s);
  });

  describe('static tokens', () => {
    const withTokens = (tokens: unknown) =>
      parseConfig({ secrets: { providers: { memory: {} } }, authentication: { methods: { token: { enabled: true, tokens } } } }).authentication.methods.token
        .tokens;

    it('accepts the list form', () => {
      const tokens = withTokens([
        { credential: '${env:CI_TOKEN}', metadata: { name: 'CI', description: 'pipeline' }, scopes: ['read'] },
        { credential_hash: `sha256:${'a'.repeat(64)}`, metadata: { name: 'legacy' } },
      ]);
      expect(tokens).toEqual([
        { credential: '${env:CI_TOKEN}', metadata: { name: 'CI', description: 'pipeline' }, scopes: ['read'] },
        { credential_hash: `sha256:${'a'.repeat(64)}`, metadata: { name: 'legacy' } },
      ]);
    });

    it('accepts the Flipt map form and turns it into the list form, the key naming the token', () => {
      const tokens = withTokens({
        ci: { credential: '{{ secret.memory.flipt/tokens/ci.value }}' },
        ops: { credential: 'x', metadata: { name: 'Operations', team: 'sre' }, scopes: ['admin'] },
      });
      expect(tokens).toEqual([
        { credential: '{{ secret.memory.flipt/tokens/ci.value }}', metadata: { name: 'ci' } },
        { credential: 'x', metadata: { name: 'Operations', team: 'sre' }, scopes: ['admin'] },
      ]);
    });

    it('accepts a bcrypt credential_hash', () => {
      const hash = 'bcrypt:$2b$12$' + 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0';
      expect(withTokens([{ credential_hash: hash, metadata: { name: 'b' } }])[0].credential_hash).toBe(hash);
    });
  });
});
