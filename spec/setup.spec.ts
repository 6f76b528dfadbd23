import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import {
  type AuditEvent,
  type AuthFromConfigOptions,
  createAuthFromConfig,
  createFileProvider,
  SecretReferenceError,
  SecretsSessionStore,
  TokenStore,
} from '../lib';
import { removeTempDir, tempDir } from './support/temp-dir';
import { sleep } from './support/sleep';

const CI_TOKEN = 'ci-token-0123456789abcdef';
const NEXT_TOKEN = 'ci-token-rotated-fedcba9876543210';

describe('createAuthFromConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('esa-setup-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const yaml = (extra = '', tokenStorage = '') => `
secrets:
  refresh_interval: 100ms
  providers:
    file: { base_path: ${JSON.stringify(join(dir, 'secrets'))} }
authentication:
  ${extra}
  session:
    storage:
      secrets: { provider: file, path: app/sessions, cache: { enabled: true, ttl: 2s } }
  methods:
    token:
      enabled: true
      tokens:
        - credential: "{{ secret.file.ci/token.value }}"
          metadata: { name: "CI Pipeline Token" }
          scopes: [read]
      storage:
        secrets: { provider: file, path: app/tokens, bcrypt_cost: 4${tokenStorage} }
`;

  async function setup(extra = '', tokenStorage = '', options: AuthFromConfigOptions = {}) {
    await createFileProvider({ basePath: join(dir, 'secrets') }).put('ci/token', { value: CI_TOKEN });
    const file = join(dir, 'auth.yml');
    await writeFile(file, yaml(extra, tokenStorage));
    return createAuthFromConfig(file, options);
  }

  function app(auth: Awaited<ReturnType<typeof createAuthFromConfig>>) {
    const a = express();
    a.use(session({ store: auth.sessionStore, secret: 'test-secret', resave: false, saveUninitialized: false }));
    a.post('/login', (req, res) => {
      (req.session as unknown as { user: string }).user = 'ada';
      res.sendStatus(204);
    });
    a.get('/me', (req, res) => {
      res.json({ user: (req.session as unknown as { user?: string }).user ?? null });
    });
    a.get('/api', auth.bearerAuth({ scopes: ['read'] }), (req, res) => {
      res.json({ auth: req.auth ?? null });
    });
    a.use('/auth', auth.adminRouter({ ui: false }));
    return a;
  }

  test('wires sessions, static tokens from a secret reference, stored tokens and the admin router', async () => {
    const auth = await setup();
    try {
      expect(auth.sessionStore).toBeInstanceOf(SecretsSessionStore);
      expect(auth.tokens).toBeInstanceOf(TokenStore);
      const agent = request.agent(app(auth));
      await agent.post('/login').expect(204);
      await agent.get('/me').expect(200, { user: 'ada' });
      expect(await createFileProvider({ basePath: join(dir, 'secrets') }).list('app/sessions')).toHaveLength(1);

      const ok = await request(app(auth)).get('/api').set('Authorization', `Bearer ${CI_TOKEN}`).expect(200);
      expect(ok.body.auth).toMatchObject({ name: 'CI Pipeline Token', scopes: ['read'], source: 'config' });
      await request(app(auth)).get('/api').expect(401);

      const { token } = await auth.tokens.create({ name: 'admin', scopes: ['admin', 'read'] });
      const created = await request(app(auth))
        .post('/auth/tokens')
        .set('Authorization', `Bearer ${token}`)
        .send({ name: 'made via API', scopes: ['read'] })
        .expect(201);
      await request(app(auth)).get('/api').set('Authorization', `Bearer ${created.body.token}`).expect(200);
    } finally {
      await auth.close();
    }
  });

  test('a static token rotates without a restart when its referenced secret changes', async () => {
    const auth = await setup();
    try {
      await createFileProvider({ basePath: join(dir, 'secrets') }).put('ci/token', { value: NEXT_TOKEN });
      const deadline = Date.now() + 3_000;
      while ((await auth.tokens.verify(NEXT_TOKEN)) === null && Date.now() < deadline) await sleep(50);
      await expect(auth.tokens.verify(NEXT_TOKEN)).resolves.toMatchObject({ name: 'CI Pipeline Token' });
      await expect(auth.tokens.verify(CI_TOKEN)).resolves.toBeNull();
    } finally {
      await auth.close();
    }
  });

  test('revoke_on_reuse in the config file reaches the token store: an old secret presented after its rotation revokes the token', async () => {
    const auth = await setup('', ', revoke_on_reuse: true, reuse_window: 1h');
    try {
      const first = await auth.tokens.create({ name: 'reused', scopes: ['read'] });
      const second = await auth.tokens.rotate(first.record.id);
      await expect(auth.tokens.verify(second.token)).resolves.not.toBeNull();
      await expect(auth.tokens.verify(first.token)).resolves.toBeNull(); // the rotated-away secret: reuse
      await expect(auth.tokens.verify(second.token)).resolves.toBeNull(); // revoked with it
    } finally {
      await auth.close();
    }
  });

  test('leaked_token_endpoint in the config file opens POST /tokens/leaked on adminRouter(): a reported token is revoked', async () => {
    const auth = await setup('', ', leaked_token_endpoint: true');
    try {
      const router = auth.adminRouter();
      const site = express().use('/auth', router);
      const leaked = await auth.tokens.create({ name: 'leaked', scopes: ['read'] });
      await request(site)
        .post('/auth/tokens/leaked')
        .send({ tokens: [leaked.token] })
        .expect(202, { received: 1 });
      await router.leakedIdle();
      await expect(auth.tokens.verify(leaked.token)).resolves.toBeNull();
    } finally {
      await auth.close();
    }
  });

  test('without leaked_token_endpoint, POST /tokens/leaked stays behind the admin guard', async () => {
    const auth = await setup('', '');
    try {
      const site = express().use('/auth', auth.adminRouter());
      const leaked = await auth.tokens.create({ name: 'kept', scopes: ['read'] });
      await request(site)
        .post('/auth/tokens/leaked')
        .send({ tokens: [leaked.token] })
        .expect(401);
      await expect(auth.tokens.verify(leaked.token)).resolves.not.toBeNull();
    } finally {
      await auth.close();
    }
  });

  test('userOf and onAudit hooks: the admin router gets the session routes, and its and the store’s events reach onAudit', async () => {
    const events: AuditEvent[] = [];
    const auth = await setup('', ', notify_before: 2d, expiry_check_interval: 0', {
      userOf: (s) => (s as unknown as { user?: string }).user,
      onAudit: (e) => void events.push(e),
    });
    try {
      const site = app(auth);
      const ada = request.agent(site);
      await ada.post('/login').expect(204);
      await request.agent(site).post('/login').expect(204);
      const { token } = await auth.tokens.create({ name: 'admin', scopes: ['admin'] });
      const listed = await request(site).get('/auth/sessions?user=ada').set('Authorization', `Bearer ${token}`).expect(200);
      expect(listed.body.sessions).toHaveLength(2);
      await request(site).delete('/auth/users/ada/sessions').set('Authorization', `Bearer ${token}`).expect(200, { ended: 2 });
      await ada.get('/me').expect(200, { user: null });

      const soon = await auth.tokens.create({ name: 'soon', scopes: ['read'], expiresIn: 86_400 });
      expect(await auth.tokens.notifyExpiring()).toEqual([soon.record.id]); // within notify_before (2d)
      expect(events.map((e) => e.action)).toEqual(['user.sessions_destroy', 'token.expiring']);
    } finally {
      await auth.close();
    }
  });

  test('without userOf the admin router has no session routes', async () => {
    const auth = await setup();
    try {
      const { token } = await auth.tokens.create({ name: 'admin', scopes: ['admin'] });
      await request(app(auth)).get('/auth/sessions?user=ada').set('Authorization', `Bearer ${token}`).expect(404);
    } finally {
      await auth.close();
    }
  });

  test('authentication.required: false lets requests without a token through, without req.auth', async () => {
    const auth = await setup('required: false');
    try {
      const res = await request(app(auth)).get('/api').expect(200);
      expect(res.body).toEqual({ auth: null });
      await request(app(auth)).get('/api').set('Authorization', 'Bearer not-a-real-token-at-all').expect(401);
    } finally {
      await auth.close();
    }
  });

  test('a missing secret is a startup error naming the reference, never a value', async () => {
    const file = join(dir, 'auth.yml');
    await writeFile(file, yaml());
    const err = await createAuthFromConfig(file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SecretReferenceError);
    expect((err as Error).message).toContain('{{ secret.file.ci/token.value }}');
  });
});
