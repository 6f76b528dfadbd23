// The two object checks in lib/shared/objects.ts mean different things; this pins the difference.
import { isNonArrayObject, isPlainObject } from '../../lib/shared/objects';

class Box {
  value = 1;
}

describe('isNonArrayObject and isPlainObject', () => {
  test.each([
    ['an object literal', { a: 1 }, true, true],
    ['an object without a prototype', Object.create(null), true, true],
    ['a class instance', new Box(), true, false],
    ['a Date', new Date(0), true, false],
    ['a Map', new Map(), true, false],
    ['an array', [1], false, false],
    ['null', null, false, false],
    ['a string', 'x', false, false],
    ['a number', 1, false, false],
    ['undefined', undefined, false, false],
  ])('%s: non-array object %s, plain object %s', (_label, value, nonArray, plain) => {
    expect(isNonArrayObject(value)).toBe(nonArray);
    expect(isPlainObject(value)).toBe(plain);
  });
});
