// The whole admin API suite on Express 5.
import { apiCases } from './api-cases';

test('express is version 5 in this file', () => {
  expect(jest.requireActual<{ version: string }>('express/package.json').version).toMatch(/^5\./);
});

apiCases('express 5');
