// Static tokens whose credential comes from a secret reference, followed by a real watcher on the
// file provider: when the secret (or its key) is deleted, the token must stop working, not live on
// as the watcher's last good value; when the backend is only unreachable, it keeps working.
import { type SecretRefWatcher, watchSecretRefs } from '../../lib';
import { BackendUnavailableError, createFileProvider, createMemoryProvider, type SecretProvider, TokenStore } from '../../lib';
import type { StaticTokensInput } from '../../lib/tokens/types';
import { recordingLogger } from './helpers';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { sleep } from '../support/sleep';

const CRED = 'ci-credential-from-a-file-0001';
const NEXT = 'ci-credential-from-a-file-0002';
const REF = '{{ secret.files.app/ci.token }}';

/** Resolves with the watcher's next event of that kind. */
const next = (watcher: SecretRefWatcher<StaticTokensInput>, event: 'change' | 'error') =>
  new Promise<void>((resolve) => {
    const once = () => {
      watcher.off(event as 'change', once);
      resolve();
    };
    watcher.on(event as 'change', once);
  });

describe('static tokens from a watched secret reference', () => {
  let dir: string;
  let files: SecretProvider;
  let down: boolean;
  let watcher: SecretRefWatcher<StaticTokensInput>;
  let store: TokenStore;
  let logger: ReturnType<typeof recordingLogger>;

  beforeEach(async () => {
    dir = await tempDir('esa-static-watch-');
    const real = createFileProvider({ basePath: dir, fsync: false });
    down = false;
    // The file provider cannot be made "unreachable"; this wrapper stands in for a backend outage.
    files = {
      ...real,
      kind: 'file',
      get: (p) => (down ? Promise.reject(new BackendUnavailableError('backend down (test)')) : real.get(p)),
    };
    await files.put('app/ci', { token: CRED });
    watcher = await watchSecretRefs<StaticTokensInput>([{ name: 'ci', credential: REF, scopes: ['deploy'] }], { files }, { refreshIntervalMs: 20 });
    logger = recordingLogger();
    store = new TokenStore({ provider: createMemoryProvider(), staticTokens: watcher, logger });
  });

  afterEach(async () => {
    await store.close();
    watcher.close();
    await removeTempDir(dir);
  });

  test('a deleted secret disables the static token at the next refresh; a new value brings it back', async () => {
    expect(await store.verify(CRED)).toMatchObject({ tokenId: 'ci', source: 'config' });
    const failed = next(watcher, 'error');
    await files.delete('app/ci');
    await failed;
    expect(watcher.current).toEqual([{ name: 'ci', credential: CRED, scopes: ['deploy'] }]); // the watcher keeps it...
    expect(await store.verify(CRED)).toBeNull(); // ...the store does not
    expect((await store.list()).map((t) => t.id)).not.toContain('ci');
    expect(await store.get('ci')).toBeNull();
    const failedAgain = next(watcher, 'error');
    await failedAgain;
    const warnings = logger.messages.filter((m) => m.includes('static tokens disabled'));
    expect(warnings).toHaveLength(1); // once, not at every refresh
    expect(warnings[0]).toContain(REF);
    expect(logger.messages.join('\n')).not.toContain(CRED);

    const changed = next(watcher, 'change');
    await files.put('app/ci', { token: NEXT });
    await changed;
    expect(await store.verify(NEXT)).toMatchObject({ tokenId: 'ci', scopes: ['deploy'] });
    expect(await store.verify(CRED)).toBeNull();
    expect(logger.messages.some((m) => m.includes('static tokens restored'))).toBe(true);
  });

  test('a key removed from the secret disables it too', async () => {
    const failed = next(watcher, 'error');
    await files.put('app/ci', { other: 'x' });
    await failed;
    expect(await store.verify(CRED)).toBeNull();
  });

  test('an unreachable backend keeps the last good token working (it is not gone)', async () => {
    const failed = next(watcher, 'error');
    down = true;
    await failed;
    await next(watcher, 'error');
    expect(await store.verify(CRED)).toMatchObject({ tokenId: 'ci' });
    expect(logger.messages.filter((m) => m.includes('static tokens disabled'))).toEqual([]);
  });

  // Needs lib/config/watch.ts to emit 'change' on the first successful refresh after a failed
  // one even when the value equals the last good one: today it emits nothing, so the token stays
  // disabled. Remove `.failing` once watch.ts does.
  test('the same secret restored brings the token back', async () => {
    const failed = next(watcher, 'error');
    await files.delete('app/ci');
    await failed;
    expect(await store.verify(CRED)).toBeNull();
    await files.put('app/ci', { token: CRED });
    for (let i = 0; i < 25 && (await store.verify(CRED)) === null; i++) await sleep(20);
    expect(await store.verify(CRED)).toMatchObject({ tokenId: 'ci' });
  });
});
