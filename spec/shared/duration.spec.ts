import { ConfigError } from '../../lib/errors';
import { durationSeconds, parseDuration, parseDurationMs } from '../../lib/shared/duration';

describe('parseDuration', () => {
  it.each([
    ['5m', 300],
    ['90d', 7_776_000],
    ['1h30m', 5400],
    ['30s', 30],
    ['1w', 604_800],
    ['1.5h', 5400],
    ['500ms', 0.5],
    ['2d12h', 216_000],
    [' 10s ', 10],
    ['45', 45],
    [45, 45],
    [0, 0],
    [2.5, 2.5],
  ])('parses %p as %p seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each(['', '5x', 'm', '5 m', '-5s', '1h 30m', 'abc', '5m10', 'Infinity'])('rejects %p', (input) => {
    expect(() => parseDuration(input)).toThrow(ConfigError);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %p', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });

  it('converts to milliseconds', () => {
    expect(parseDurationMs('1m')).toBe(60_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs(1.5)).toBe(1500);
  });
});

describe('durationSeconds', () => {
  test.each([
    ['90d', 7_776_000],
    [30, 30],
    ['500ms', 0.5],
  ])('%p is %p seconds', (input, seconds) => {
    expect(durationSeconds(input)).toBe(seconds);
  });

  test.each([['soon'], [-1], [null], [{}], [Number.NaN], ['']])('%p is not a duration: undefined, never a throw', (input) => {
    expect(durationSeconds(input)).toBeUndefined();
  });
});
