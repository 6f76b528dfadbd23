import { join } from 'node:path';
import { createFileProvider } from '../../lib';
import { counting, readTree } from './helpers';
import { tokenStoreSuite } from './store-suite';
import { removeTempDir, tempDir } from '../support/temp-dir';

describe('TokenStore on the file provider', () => {
  tokenStoreSuite(async () => {
    const dir = await tempDir('esa-tokens-');
    const provider = counting(createFileProvider({ basePath: dir, fsync: false }));
    return {
      provider,
      backendCalls: () => provider.calls,
      path: 'auth/tokens',
      rawDump: async () => {
        const { files, text } = await readTree(join(dir, 'auth', 'tokens'));
        return { keys: files.length, text };
      },
      close: async () => {
        await provider.close();
        await removeTempDir(dir);
      },
    };
  });
});
