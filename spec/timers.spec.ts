import { createMemoryProvider, SecretsSessionStore } from '../lib';
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
});
