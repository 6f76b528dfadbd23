import { createMemoryProvider, SecretsSessionStore, type SecretProvider } from '../lib';
import { laterUnref, MAX_TIMER_DELAY_MS } from '../lib/timers';

describe('long timer delays', () => {
  test('a delay past setTimeout’s limit waits the longest it can instead of firing at once', async () => {
    let fired = false;
    const timer = laterUnref(() => {
      fired = true;
    }, 60 * 86_400_000);
    await new Promise((r) => setTimeout(r, 30));
    clearTimeout(timer);
    expect(fired).toBe(false);
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
  });

  test('a 60-day session cleanupInterval does not sweep in a loop', async () => {
    const inner = createMemoryProvider();
    let lists = 0;
    const provider: SecretProvider = { ...inner, kind: 'memory', list: (p) => {
        lists++;
        return inner.list(p);
      }, get: inner.get, put: inner.put, delete: inner.delete, close: inner.close };
    const store = new SecretsSessionStore({ provider, cleanupInterval: 60 * 86_400 });
    await new Promise((r) => setTimeout(r, 50));
    await store.close();
    expect(lists).toBe(0);
  });
});
