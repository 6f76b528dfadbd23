// The leak-report endpoint on Express 4 ('express' is express@4 here), on the file provider.
import { createFileProvider } from '../../lib';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { leakedCases } from './cases-leaked';

jest.mock('express', () => jest.requireActual('express4'));

test('express is version 4 in this file', () => {
  expect(require('express')).toBe(jest.requireActual('express4'));
  expect(jest.requireActual<{ version: string }>('express4/package.json').version).toMatch(/^4\./);
});

leakedCases('the file provider (express 4)', async () => {
  const dir = await tempDir('esa-leaked-');
  return { provider: createFileProvider({ basePath: dir }), tokenPath: 'tokens', close: () => removeTempDir(dir) };
});
