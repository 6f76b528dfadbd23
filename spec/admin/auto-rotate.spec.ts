// autoRotate: tokens created with a delivery_path are delivered, then rotated at 2/3 of their
// lifetime into the delivery secret only; the old secret works for the grace period. Tokens
// without a delivery path are never rotated silently: they show as "expiring".
import request from 'supertest';
import { tokenAdminRouter } from '../../lib/admin/router';
import { ConfigError } from '../../lib/errors';
import type { TokenAdminRouter } from '../../lib/admin/types';
import { createMemoryProvider } from '../../lib/providers/memory';
import type { PutOptions, SecretProvider } from '../../lib/providers/types';
import { createVaultProvider } from '../../lib/providers/vault';
import type { TokenInfo } from '../../lib/tokens/types';
import { AutoRotator, deliverToken } from '../../lib/admin/auto-rotate';
import type { TokenAdminBackend } from '../../lib/admin/types';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { sharedVault, uniquePrefix } from '../support/vault';
import { TokenStore } from '../../lib/tokens/store';
import { type AdminApp, bearer, makeAdminApp, tokenEvents } from './helpers';

const DAY = 86_400_000;
const DELIVERY = 'token-delivery/billing/api-token';

describe('tokenAdminRouter autoRotate', () => {
  let t: AdminApp;
  let router: TokenAdminRouter;
  let failDelivery = 0;

  beforeEach(async () => {
    failDelivery = 0;
    const real = createMemoryProvider();
    const provider: SecretProvider = {
      kind: 'test',
      get: (p) => real.get(p),
      put: (p, d, o) => (p.startsWith('token-delivery/') && failDelivery-- > 0 ? Promise.reject(new Error('delivery refused (test)')) : real.put(p, d, o)),
      delete: (p) => real.delete(p),
      list: (p) => real.list(p),
      close: () => real.close(),
    };
    t = await makeAdminApp({ provider, router: { autoRotate: { provider, grace: '1h' } } });
    router = t.router;
  });
  afterEach(() => router.close());

  const create = (body: object) => request(t.app).post(`${t.base}/tokens`).set(bearer(t.adminToken)).send(body);
  const delivered = async () =>
    (await t.provider.get(DELIVERY))?.data as { token: string; token_id: string; expires_at: string; issued_at: string } | undefined;
  const works = async (token: string) => (await t.store.verify(token)) !== null;

  test('create with a delivery_path: the token is also written to the delivery secret', async () => {
    const res = await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY });
    expect(res.status).toBe(201);
    expect(res.body.delivery_path).toBe(DELIVERY);
    expect(await delivered()).toEqual({ token: res.body.token, token_id: res.body.id, expires_at: res.body.expires_at, issued_at: res.body.created_at });
    expect((await request(t.app).get(`${t.base}/tokens/${res.body.id}`).set(bearer(t.adminToken))).body.delivery_path).toBe(DELIVERY);
  });

  test.each([
    ['without expires_in', { name: 'a', expires_in: null, delivery_path: DELIVERY }, /must have expires_in/],
    ['with a bad path', { name: 'a', expires_in: '1d', delivery_path: '../etc' }, /delivery_path must be/],
    ['with a path that is not a string', { name: 'a', expires_in: '1d', delivery_path: 5 }, /delivery_path must be a secret path/],
  ])('400 for a delivery_path %s', async (_what, body, message) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  test('a failed delivery at creation leaves no token behind', async () => {
    failDelivery = 1;
    const res = await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY });
    expect(res.status).toBe(500);
    expect((await t.store.list()).map((x) => x.name)).not.toContain('billing');
  });

  test('rotated at 2/3 of the lifetime into the delivery secret only; the old one works for the grace period', async () => {
    const first = (await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY })).body;
    const manual = (await create({ name: 'by-hand', expires_in: '30d' })).body;
    t.clock.now += 19 * DAY;
    expect(await router.rotateDue()).toEqual([]);
    t.clock.now += 2 * DAY; // 21 of 30 days: past 2/3
    const listed = (await request(t.app).get(`${t.base}/tokens?state=expiring`).set(bearer(t.adminToken))).body.tokens.map((x: { name: string }) => x.name);
    expect(listed.sort()).toEqual(['billing', 'by-hand']);
    expect(await router.rotateDue()).toEqual([first.id]);
    const now = await delivered();
    expect(now?.token).not.toBe(first.token);
    expect(now?.token_id).toBe(first.id);
    expect(Date.parse(now?.expires_at as string) - t.clock.now).toBe(30 * DAY);
    expect(await works(now?.token as string)).toBe(true);
    expect(await works(first.token)).toBe(true);
    const after = (await request(t.app).get(`${t.base}/tokens`).set(bearer(t.adminToken))).body.tokens;
    expect(after.find((x: { id: string }) => x.id === first.id)).toMatchObject({ state: 'active', delivery_path: DELIVERY });
    expect(after.find((x: { id: string }) => x.id === manual.id)).toMatchObject({ state: 'expiring', rotated_at: null });
    expect(await works(manual.token)).toBe(true);
    t.clock.now += 61 * 60_000;
    expect(await works(first.token)).toBe(false);
    expect(await works(now?.token as string)).toBe(true);
    expect(await router.rotateDue()).toEqual([]);
    const event = t.audit.find((e) => e.action === 'token.auto_rotate');
    expect(event).toMatchObject({ actor: null, token: { id: first.id, name: 'billing' }, details: { delivery_path: DELIVERY, grace_seconds: 3600 } });
    const everything = JSON.stringify(t.audit) + t.logs.join('\n');
    expect(everything).not.toContain(now?.token);
    expect(everything).not.toContain(first.token);
  });

  test('a failed delivery leaves the token unchanged and is retried on the next pass', async () => {
    const first = (await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY })).body;
    t.clock.now += 21 * DAY;
    failDelivery = 1;
    expect(await router.rotateDue()).toEqual([]);
    expect(t.logs.some((l) => l.includes(`token ${first.id} not rotated, will retry`))).toBe(true);
    expect((await delivered())?.token).toBe(first.token);
    expect((await t.store.get(first.id))?.rotatedAt).toBeNull();
    expect(await router.rotateDue()).toEqual([first.id]);
    expect(await works((await delivered())?.token as string)).toBe(true);
  });

  test('a manual rotation of a delivered token is delivered too', async () => {
    const first = (await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY })).body;
    const res = await request(t.app).post(`${t.base}/tokens/${first.id}/rotate`).set(bearer(t.adminToken)).send({ grace: 60 });
    expect(res.status).toBe(201);
    expect((await delivered())?.token).toBe(res.body.token);
  });

  test('two instances rotating at once end with a delivered token that works (repaired on the next pass if they raced)', async () => {
    const first = (await create({ name: 'billing', expires_in: '30d', delivery_path: DELIVERY })).body;
    t.clock.now += 21 * DAY;
    const other = new TokenStore({ provider: t.provider, bcryptCost: 4, now: () => t.clock.now });
    const second = tokenAdminRouter({
      tokens: other,
      autoRotate: { provider: t.provider },
      now: () => t.clock.now,
      logger: { info: () => {}, warn: (m) => t.logs.push(m) },
    });
    const [a, b] = await Promise.all([router.rotateDue(), second.rotateDue()]);
    expect([...a, ...b]).toContain(first.id);
    await Promise.all([router.rotateDue(), second.rotateDue()]);
    await router.rotateDue();
    second.close();
    const token = (await delivered())?.token as string;
    expect(await works(token)).toBe(true);
    expect(await other.verify(token)).not.toBeNull();
    expect(await router.rotateDue()).toEqual([]);
  });

  test('a delivery secret that is missing or stale (e.g. a crash after creating) is repaired', async () => {
    const { record } = await t.store.create({ name: 'crashed', expiresIn: '30d', deliveryPath: DELIVERY });
    expect(await delivered()).toBeUndefined();
    expect(await router.rotateDue()).toEqual([record.id]);
    expect(t.logs.some((l) => l.includes(`delivery secret of token ${record.id} is out of date`))).toBe(true);
    const token = (await delivered())?.token as string;
    expect(await works(token)).toBe(true);
    expect(await router.rotateDue()).toEqual([]);
  });

  test('options are checked', () => {
    expect(() => tokenAdminRouter({ tokens: t.store, autoRotate: { provider: undefined as unknown as SecretProvider } })).toThrow(/autoRotate.provider/);
    expect(() => tokenAdminRouter({ tokens: t.store, autoRotate: { provider: t.provider, intervalMs: 5 } })).toThrow(/at least 1000 ms/);
    for (const pathPrefix of ['', '../x', '/abs', 'a//b', 5 as unknown as string]) {
      expect(() => tokenAdminRouter({ tokens: t.store, autoRotate: { provider: t.provider, pathPrefix } })).toThrow(ConfigError);
    }
  });

  describe('delivery paths are confined to autoRotate.pathPrefix (default "token-delivery")', () => {
    const APP_SECRET = { db_password: 'app-secret-value' };
    const tokenCount = async () => (await t.store.list()).length;

    test('GET /me tells the page the folder', async () => {
      const me = await request(t.app).get(`${t.base}/me`).set(bearer(t.adminToken));
      expect(me.body.limits).toMatchObject({ auto_rotate: true, delivery_prefix: 'token-delivery' });
    });

    test("a delivery_path naming another token's record is refused (400); that token keeps working", async () => {
      const victim = await t.store.create({ name: 'victim', scopes: ['read'] });
      const recordBefore = await t.provider.get(`tokens/${victim.record.id}`);
      const before = await tokenCount();
      const res = await create({ name: 'attack', expires_in: '30d', delivery_path: `tokens/${victim.record.id}` });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('"token-delivery/"') });
      expect(await t.provider.get(`tokens/${victim.record.id}`)).toEqual(recordBefore);
      expect(await works(victim.token)).toBe(true);
      expect(await tokenCount()).toBe(before);
    });

    test('a delivery_path naming an app secret is refused (400); the secret is unchanged', async () => {
      await t.provider.put('app/config', APP_SECRET);
      for (const path of ['app/config', 'token-delivery', 'token-deliveryX/a', 'token-delivery/../app/config']) {
        const res = await create({ name: 'attack', expires_in: '30d', delivery_path: path });
        expect(res.status).toBe(400);
      }
      expect((await t.provider.get('app/config'))?.data).toEqual(APP_SECRET);
    });

    test("inside the folder, a path holding a secret that is not this token's delivery is refused (409), the new token revoked", async () => {
      await t.provider.put('token-delivery/app/config', APP_SECRET);
      const other = (await create({ name: 'other', expires_in: '30d', delivery_path: DELIVERY })).body;
      const before = await tokenCount();
      for (const path of ['token-delivery/app/config', DELIVERY]) {
        const res = await create({ name: 'attack', expires_in: '30d', delivery_path: path });
        expect(res.status).toBe(409);
        expect(res.body.error).toMatchObject({ code: 'delivery_refused', message: expect.stringContaining(`"${path}" already holds a secret`) });
      }
      expect((await t.provider.get('token-delivery/app/config'))?.data).toEqual(APP_SECRET);
      expect(await delivered()).toMatchObject({ token: other.token, token_id: other.id });
      expect(await tokenCount()).toBe(before);
      expect(
        tokenEvents(t.audit)
          .filter((e) => e.action === 'token.create')
          .map((e) => e.token.name),
      ).toEqual(['other']);
    });

    test('a token whose stored delivery path lies outside the folder (made before this check) is never delivered there', async () => {
      await t.provider.put('app/config', APP_SECRET);
      const legacy = await t.store.create({ name: 'legacy', expiresIn: '30d', deliveryPath: 'app/config' });
      const res = await request(t.app).post(`${t.base}/tokens/${legacy.record.id}/rotate`).set(bearer(t.adminToken)).send({});
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('delivery_refused');
      t.clock.now += 21 * DAY;
      expect(await router.rotateDue()).toEqual([]);
      expect(t.logs.some((l) => l.includes(`token ${legacy.record.id} not rotated`) && l.includes('outside "token-delivery/"'))).toBe(true);
      expect((await t.provider.get('app/config'))?.data).toEqual(APP_SECRET);
      expect(await works(legacy.token)).toBe(true);
      expect((await t.store.get(legacy.record.id))?.rotatedAt).toBeNull();
    });

    test('a custom pathPrefix is honoured (given with or without a trailing slash)', async () => {
      const custom = await makeAdminApp({ router: { autoRotate: { provider: t.provider, pathPrefix: 'apps/delivered/' } } });
      const post = (body: object) => request(custom.app).post(`${custom.base}/tokens`).set(bearer(custom.adminToken)).send(body);
      expect((await post({ name: 'a', expires_in: '30d', delivery_path: DELIVERY })).status).toBe(400);
      const ok = await post({ name: 'a', expires_in: '30d', delivery_path: 'apps/delivered/a' });
      expect(ok.status).toBe(201);
      expect((await t.provider.get('apps/delivered/a'))?.data.token).toBe(ok.body.token);
      custom.router.close();
    });
  });
});

// Check-and-set is asked of the provider (supportsCheckAndSet), not found out by a failing write.
describe('deliverToken and check-and-set', () => {
  const info = (id: string) => ({ id, expiresAt: null, rotatedAt: null, createdAt: '2026-01-01T00:00:00.000Z' }) as unknown as TokenInfo;

  test('a provider that does not say is asked for check-and-set (cas 0) on a first delivery, as before', async () => {
    const real = createMemoryProvider();
    const seen: (PutOptions | undefined)[] = [];
    const provider: SecretProvider = {
      kind: 'test',
      get: (p) => real.get(p),
      put: (p, d, o) => {
        seen.push(o);
        return real.put(p, d, o);
      },
      delete: (p) => real.delete(p),
      list: (p) => real.list(p),
      close: () => real.close(),
    };
    await deliverToken({ provider, prefix: 'token-delivery' }, DELIVERY, 'esa_x', info('aaaaaaaaaaaa'));
    expect(seen).toEqual([{ cas: 0 }]);
  });

  describeWith('openbao', 'on OpenBao KV v1 (no check-and-set)', () => {
    test('the provider says so, and the delivery is written without cas', async () => {
      const { address, token } = sharedVault();
      const mount = uniquePrefix('kv1-deliver');
      await enableKvV1(address, token, mount);
      const provider = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion: 'auto' });
      try {
        await expect(provider.supportsCheckAndSet()).resolves.toBe(false);
        await deliverToken({ provider, prefix: 'token-delivery' }, DELIVERY, 'esa_x', info('bbbbbbbbbbbb'));
        expect((await provider.get(DELIVERY))?.data).toMatchObject({ token: 'esa_x', token_id: 'bbbbbbbbbbbb' });
      } finally {
        await provider.close();
      }
    });
  });
});

// The timer behind autoRotate (a PeriodicJob): a pass that fails as a whole (here the backend's
// list() answers something that is not a list) used to be an unhandled rejection, a crash.
describe('the auto-rotation timer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test('a failing pass is one warning and is retried intervalMs later; start() twice keeps one timer; stop() clears it', async () => {
    const warnings: string[] = [];
    let lists = 0;
    const tokens = {
      list: async () => (++lists === 1 ? (null as unknown as TokenInfo[]) : []),
    } as unknown as TokenAdminBackend;
    const rotator = new AutoRotator({
      tokens,
      target: { provider: createMemoryProvider(), prefix: 'token-delivery' },
      graceSeconds: 0,
      intervalMs: 60_000,
      logger: { info() {}, warn: (m) => warnings.push(m) },
      now: () => Date.now(),
      audit: async () => {},
    });
    rotator.start();
    rotator.start();
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(lists).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(lists).toBe(1);
    expect(warnings).toEqual(['express-secrets-auth auto-rotate: pass failed, will retry: TypeError']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(lists).toBe(2);
    expect(warnings).toHaveLength(1);
    await rotator.stop();
    expect(jest.getTimerCount()).toBe(0);
  });
});
