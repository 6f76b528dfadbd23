// Token creation has its own bcrypt budget (createConcurrency, createMaxQueue): a flood of
// creations never takes a verification's bcrypt slot, and past the queue creations are refused at
// once (LimitBusyError; the admin router answers 503 with Retry-After: 1) instead of waiting
// without bound. Statuses only: no timing is asserted.
import express from 'express';
import { tokenAdminRouter } from '../../lib/admin/router';
import { SecretsAuthError } from '../../lib/errors';
import { createMemoryProvider } from '../../lib/providers/memory';
import { LimitBusyError } from '../../lib/tokens/concurrency-limit';
import { bearerAuth } from '../../lib/tokens/middleware';
import { TokenStore } from '../../lib/tokens/store';
import { type Listening, listen } from '../reliability/harness';
import { recordingLogger } from './helpers';
import { sleep } from '../support/sleep';

const ADMIN = 'static-admin-credential-for-budgets';

describe('creation budget', () => {
  let store: TokenStore;
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await store.close();
  });

  test('TokenStore: past createMaxQueue waiting, create() rejects at once with LimitBusyError; verification meanwhile is served', async () => {
    store = new TokenStore({ provider: createMemoryProvider(), bcryptCost: 10, createConcurrency: 1, createMaxQueue: 4, rateLimit: false });
    const existing = await store.create({ name: 'existing' });
    const flood = Array.from({ length: 100 }, (_, i) =>
      store.create({ name: `flood-${i}` }).then(
        () => 'created',
        (err: unknown) => err,
      ),
    );
    // Not verified yet: needs a bcrypt of its own, from the verification slots.
    const verified = await store.verify(existing.token);
    const outcomes = await Promise.all(flood);
    expect(verified).toMatchObject({ name: 'existing' });
    const refused = outcomes.filter((o) => o !== 'created');
    expect(outcomes.filter((o) => o === 'created').length).toBe(5); // 1 running + 4 waiting
    expect(refused.length).toBe(95);
    for (const err of refused) {
      expect(err).toBeInstanceOf(LimitBusyError);
      expect(err).toBeInstanceOf(SecretsAuthError);
      expect((err as LimitBusyError).code).toBe('BUSY');
      expect((err as LimitBusyError).retryAfterSeconds).toBe(1);
    }
    // The budget is free again once the flood is over.
    await expect(store.create({ name: 'after' })).resolves.toMatchObject({ record: { name: 'after' } });
  });

  test('admin router under 100 concurrent creations: 201 or 503 Retry-After: 1; a first use of another token meanwhile is 200, never 503', async () => {
    store = new TokenStore({
      provider: createMemoryProvider(),
      bcryptCost: 10,
      rateLimit: false,
      staticTokens: [{ name: 'admin', credential: ADMIN, scopes: ['admin'] }],
    });
    const user = await store.create({ name: 'user', scopes: ['read'] });
    const app = express();
    const adminLog = { ...recordingLogger(), info: () => {} };
    app.use('/auth', tokenAdminRouter({ tokens: store, logger: adminLog }));
    app.get('/api', bearerAuth({ tokens: store, logger: recordingLogger() }), (req, res) => {
      res.json({ who: req.auth?.name });
    });
    server = await listen(app);
    const url = server.url;
    const create = (i: number) =>
      fetch(`${url}/auth/tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `flood-${i}`, scopes: ['read'] }),
      }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string } } }));
    const flood = Array.from({ length: 100 }, (_, i) => create(i));
    await sleep(20);
    const use = await fetch(`${url}/api`, { headers: { Authorization: `Bearer ${user.token}` } });
    const results = await Promise.all(flood);
    expect(use.status).toBe(200);
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].every((s) => s === 201 || s === 503)).toBe(true);
    const busy = results.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(17); // 1 running + 16 waiting (default)
    for (const r of busy) {
      expect(r.retryAfter).toBe('1');
      expect(r.body.error?.code).toBe('temporarily_unavailable');
    }
  }, 60_000);
});
