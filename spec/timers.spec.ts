import { createMemoryProvider, SecretsSessionStore, TokenStore } from '../lib';
import { tokenAdminRouter } from '../lib/admin/router';
import { laterUnref, MAX_TIMER_DELAY_MS } from '../lib/timers';
import { counting } from './support/counting';
import { sleep } from './support/sleep';

describe('long timer delays', () => {
  test('a delay past setTimeout’s limit waits the longest it can instead of firing at once', async () => {
    let fired = false;
    const timer = laterUnref(() => {
      fired = true;
    }, 60 * 86_400_000);
    await sleep(30);
    clearTimeout(timer);
    expect(fired).toBe(false);
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
  });

  test('a 60-day session cleanupIntervalMs does not sweep in a loop', async () => {
    const provider = counting(createMemoryProvider());
    const store = new SecretsSessionStore({ provider, cleanupIntervalMs: 60 * 86_400_000 });
    await sleep(50);
    await store.close();
    expect(provider.count.list).toBe(0);
  });

  // Before PeriodicJob these used setInterval/setTimeout with the raw interval, which Node turns
  // into 1 ms past 2^31-1 ms: a pass every millisecond.
  test('a 30-day autoRotate.intervalMs does not run rotation passes in a loop', async () => {
    const provider = counting(createMemoryProvider());
    const tokens = new TokenStore({ provider, bcryptCost: 4, expiryCheckIntervalMs: 0 });
    let passes = 0;
    const list = tokens.list.bind(tokens);
    tokens.list = (...args) => {
      passes++;
      return list(...args);
    };
    const router = tokenAdminRouter({ tokens, autoRotate: { provider, intervalMs: 30 * 86_400_000 }, logger: { info() {}, warn() {} } });
    await sleep(50);
    await router.close();
    await tokens.close();
    expect(passes).toBe(0);
  });

  test('a 30-day expiryCheckIntervalMs does not run expiry checks in a loop', async () => {
    const provider = counting(createMemoryProvider());
    const tokens = new TokenStore({ provider, bcryptCost: 4, onAudit: () => {}, expiryCheckIntervalMs: 30 * 86_400_000 });
    await sleep(50);
    await tokens.close();
    expect(provider.count.list).toBe(0);
  });
});
