// The TokenStore behaviour every backend must show; run by store.file.spec.ts and store.openbao.spec.ts.
import express from 'express';
import request from 'supertest';
import { bearerAuth, type SecretProvider, TokenStore, type TokenStoreOptions } from '../../lib';
import { TokenError } from '../../lib/tokens/errors';
import { parseToken } from '../../lib/tokens/format';
import { secretPart } from './helpers';

/** One backend under test. */
export interface Backend {
  /** What the store writes through. */
  provider: SecretProvider;
  /** Calls that reached the backend so far (HTTP requests for OpenBao, provider calls for files). */
  backendCalls(): number;
  /** Folder (provider path) the store keeps its records in; unique per test. */
  path: string;
  /** Every key under `path`, read raw (HTTP / file bytes, not through the provider). */
  rawDump(): Promise<{ keys: number; text: string }>;
  close(): Promise<void>;
}

const DAY = 86_400_000;

export function tokenStoreSuite(makeBackend: () => Promise<Backend>): void {
  let backend: Backend;
  let clock: number;
  const stores: TokenStore[] = [];
  const open = (opts: Partial<TokenStoreOptions> = {}): TokenStore => {
    const store = new TokenStore({ provider: backend.provider, path: backend.path, bcryptCost: 4, now: () => clock, ...opts });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    backend = await makeBackend();
    clock = Date.parse('2030-01-01T00:00:00Z');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await backend.close();
  });

  test('create -> use -> revoke -> refused', async () => {
    const store = open();
    const { token, record } = await store.create({ name: 'ci', scopes: ['read'], createdBy: 'alice' });
    expect(parseToken(token, 'esa')?.id).toBe(record.id);
    expect(await store.verify(token)).toEqual({ tokenId: record.id, name: 'ci', scopes: ['read'], source: 'store' });
    expect(await store.revoke(record.id)).toBe(true);
    expect(await store.verify(token)).toBeNull();
    expect(await store.get(record.id)).toBeNull();
    expect(await store.revoke(record.id)).toBe(false);
  });

  test('through bearerAuth: create -> 200 -> revoke -> 401 invalid_token', async () => {
    const store = open();
    const app = express();
    app.get('/api', bearerAuth({ tokens: store, scopes: ['read'] }), (req, res) => {
      res.json(req.auth);
    });
    const { token, record } = await store.create({ name: 'web', scopes: ['read'] });
    const ok = await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200);
    expect(ok.body).toEqual({ tokenId: record.id, name: 'web', scopes: ['read'], source: 'store' });
    await store.revoke(record.id);
    const refused = await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(401);
    expect(refused.body.error.code).toBe('invalid_token');
  });

  test('the stored record has exactly the documented fields, a bcrypt hash and no plaintext', async () => {
    const store = open({ bcryptCost: 10 });
    const { token, record } = await store.create({ name: 'deploy', description: 'CD', scopes: ['a', 'b'], createdBy: 'bob', expiresIn: '30d' });
    const raw = await backend.provider.get(`${backend.path}/${record.id}`);
    expect(raw?.data).toEqual({
      id: record.id,
      method: 'TOKEN',
      credential_hash: expect.stringMatching(/^bcrypt:\$2b\$10\$[./A-Za-z0-9]{53}$/),
      scopes: ['a', 'b'],
      metadata: { name: 'deploy', description: 'CD', created_by: 'bob' },
      created_at: '2030-01-01T00:00:00.000Z',
      expires_at: '2030-01-31T00:00:00.000Z',
      last_used_at: null,
    });
    expect(JSON.stringify(raw)).not.toContain(secretPart(token));
  });

  test('expires_at is enforced, also for a token already verified (cached)', async () => {
    const store = open();
    const { token } = await store.create({ name: 'short', expiresIn: 60 });
    expect(await store.verify(token)).not.toBeNull();
    clock += 59_000;
    expect(await store.verify(token)).not.toBeNull();
    clock += 1_000;
    expect(await store.verify(token)).toBeNull();
  });

  test('maxTtl: tokens must expire, and not later than allowed', async () => {
    const store = open({ maxTtl: '90d', ttl: '30d' });
    const { record } = await store.create({ name: 'default-ttl' });
    expect(record.expiresAt).toBe('2030-01-31T00:00:00.000Z');
    await expect(store.create({ name: 'forever', expiresIn: null })).rejects.toMatchObject({ code: 'INVALID_TOKEN_INPUT' });
    await expect(store.create({ name: 'too-long', expiresIn: '91d' })).rejects.toThrow(TokenError);
  });

  test('rotate without grace: the new secret works, the old one stops at once (cache invalidated)', async () => {
    const store = open();
    const { token: old, record } = await store.create({ name: 'svc' });
    expect(await store.verify(old)).not.toBeNull(); // now cached
    const { token: fresh, record: rotated } = await store.rotate(record.id);
    expect(rotated.id).toBe(record.id);
    expect(fresh).not.toBe(old);
    expect(await store.verify(old)).toBeNull();
    expect(await store.verify(fresh)).toMatchObject({ tokenId: record.id });
    const raw = await backend.provider.get(`${backend.path}/${record.id}`);
    expect(raw?.data).toMatchObject({ previous_credential_hash: null, previous_expires_at: null, rotated_at: '2030-01-01T00:00:00.000Z' });
  });

  test('rotate with grace: the old secret keeps working until the grace period ends', async () => {
    const store = open();
    const { token: old, record } = await store.create({ name: 'svc' });
    const { token: fresh, record: rotated } = await store.rotate(record.id, { grace: '1h' });
    expect(rotated.previousExpiresAt).toBe('2030-01-01T01:00:00.000Z');
    expect(await store.verify(old)).toMatchObject({ tokenId: record.id });
    expect(await store.verify(fresh)).toMatchObject({ tokenId: record.id });
    clock += 3_600_000;
    expect(await store.verify(old)).toBeNull(); // cached, but the cache never outlives the grace period
    expect(await store.verify(fresh)).not.toBeNull();
    await expect(store.rotate('nosuchtoken0')).rejects.toMatchObject({ code: 'TOKEN_NOT_FOUND' });
  });

  test('static and stored tokens work side by side; static ones are listed as config and read-only', async () => {
    const store = open({ staticTokens: [{ name: 'ops', credential: 'static-credential-0123456789', scopes: ['admin'] }] });
    const { token, record } = await store.create({ name: 'app', scopes: ['read'] });
    expect(await store.verify('static-credential-0123456789')).toEqual({ tokenId: 'ops', name: 'ops', scopes: ['admin'], source: 'config' });
    expect(await store.verify(token)).toMatchObject({ tokenId: record.id, source: 'store' });
    const listed = await store.list();
    expect(listed.map((t) => [t.id, t.source])).toEqual([
      [record.id, 'store'],
      ['ops', 'config'],
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/credential|bcrypt|static-credential/);
    await expect(store.revoke('ops')).rejects.toMatchObject({ code: 'TOKEN_READ_ONLY', message: expect.stringContaining('configuration') });
    await expect(store.rotate('ops')).rejects.toMatchObject({ code: 'TOKEN_READ_ONLY' });
    expect(await store.get('ops')).toMatchObject({ id: 'ops', source: 'config', scopes: ['admin'] });
  });

  test('tampered, truncated and wrong-prefix tokens are refused with zero backend calls', async () => {
    const store = open();
    const { token } = await store.create({ name: 'x' });
    const flip = (i: number) => token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const bad = [
      flip(token.length - 1), // checksum
      flip(10), // id
      flip(30), // secret
      token.slice(0, -1),
      `${token}A`,
      `xyz${token.slice(3)}`,
      token.replace(/^esa_/, 'esb_'),
      '',
      'not a token at all',
    ];
    const before = backend.backendCalls();
    for (const t of bad) expect(await store.verify(t)).toBeNull();
    expect(backend.backendCalls() - before).toBe(0);
  });

  test('no plaintext at rest: 20 tokens, every key under the path read raw', async () => {
    const store = open();
    const issued = [];
    for (let i = 0; i < 20; i++) issued.push(await store.create({ name: `t${i}`, scopes: ['read'] }));
    await store.rotate(issued[0].record.id, { grace: '1h' });
    for (const { token } of issued) expect(await store.verify(token)).not.toBeNull();
    await store.flush(); // last_used_at writes too
    const dump = await backend.rawDump();
    expect(dump.keys).toBe(40); // 20 token records and their 20 last-use records (<path>/last-used/<id>)
    for (const { token } of issued) {
      expect(dump.text).not.toContain(token);
      expect(dump.text).not.toContain(secretPart(token));
    }
    expect(dump.text.match(/bcrypt:\$2b\$/g)?.length).toBe(22); // 20 + the grace hash of the rotated one + its retired copy (reuse detection)
  });

  test('bcrypt is paid once per token per verifyCacheTtlMs: warm verifies make no backend call', async () => {
    const store = open({ verifyCacheTtlMs: 60_000, lastUsedIntervalMs: DAY });
    const { token } = await store.create({ name: 'hot' });
    expect(await store.verify(token)).not.toBeNull();
    await store.flush();
    const before = backend.backendCalls();
    for (let i = 0; i < 50; i++) expect(await store.verify(token)).not.toBeNull();
    await store.flush();
    expect(backend.backendCalls() - before).toBe(0);
  });

  test('verifySync answers warm, static and malformed tokens without I/O, and defers the rest', async () => {
    const store = open({ staticTokens: [{ name: 'ops', credential: 'static-credential-0123456789' }] });
    const { token } = await store.create({ name: 'sync' });
    const before = backend.backendCalls();
    expect(store.verifySync(token)).toBeUndefined(); // not verified yet: needs the backend and bcrypt
    expect(store.verifySync('garbage')).toBeNull();
    expect(store.verifySync('static-credential-0123456789')).toMatchObject({ tokenId: 'ops' });
    expect(backend.backendCalls()).toBe(before);
    await store.verify(token);
    expect(store.verifySync(token)).toMatchObject({ name: 'sync', source: 'store' });
  });

  test('revocation reaches another instance within verifyCacheTtlMs; at once with the cache off', async () => {
    const a = open();
    const cachedB = open({ verifyCacheTtlMs: 60_000 });
    const uncachedB = open({ verifyCacheTtlMs: 0 });
    const { token, record } = await a.create({ name: 'shared' });
    expect(await cachedB.verify(token)).not.toBeNull();
    expect(await uncachedB.verify(token)).not.toBeNull();
    await a.revoke(record.id);
    expect(await uncachedB.verify(token)).toBeNull();
    expect(await cachedB.verify(token)).not.toBeNull(); // the documented staleness bound
  });

  test('last_used_at is written off the request path, at most once per interval per token', async () => {
    const store = open({ lastUsedIntervalMs: 300_000 });
    const { token, record } = await store.create({ name: 'used' });
    await store.verify(token);
    await store.flush();
    expect((await store.get(record.id))?.lastUsedAt).toBe('2030-01-01T00:00:00.000Z');
    clock += 60_000;
    await store.verify(token);
    await store.flush();
    expect((await store.get(record.id))?.lastUsedAt).toBe('2030-01-01T00:00:00.000Z');
    clock += 300_000;
    await store.verify(token);
    await store.flush();
    expect((await store.get(record.id))?.lastUsedAt).toBe('2030-01-01T00:06:00.000Z');
  });

  test('a last_used_at write never resurrects a revoked token', async () => {
    const store = open();
    const { token, record } = await store.create({ name: 'gone' });
    const verified = store.verify(token); // schedules a last_used_at write
    await verified;
    await store.revoke(record.id);
    await store.flush();
    expect(await backend.provider.get(`${backend.path}/${record.id}`)).toBeNull();
  });
}
