// The whole admin API suite on Express 4: 'express' (the app and the router) is express@4 here.
import { apiCases } from './api-cases';

jest.mock('express', () => jest.requireActual('express4'));

test('express is version 4 in this file', () => {
  expect(jest.requireActual<{ version: string }>('express4/package.json').version).toMatch(/^4\./);
  expect(require('express')).toBe(jest.requireActual('express4'));
});

apiCases('express 4');
