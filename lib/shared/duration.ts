import { ConfigError } from '../errors';

/** Seconds in one of each duration unit. */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;

/** What a duration must look like; used in error messages. */
export const DURATION_HINT = 'a duration like "30s", "5m", "1h30m", "90d" or a number of seconds';

/**
 * Parses a duration into seconds.
 *
 * Accepts a non-negative finite number (seconds), a numeric string (seconds), or one or more
 * `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d`, `w` (e.g. `"5m"`, `"90d"`,
 * `"1h30m"`, `"1.5h"`, `"500ms"`). Whitespace around the value is ignored.
 *
 * @returns the duration in seconds (may be fractional for `ms`).
 * @throws ConfigError when the value is not a valid duration.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return checkNumber(input);
  if (typeof input !== 'string') throw new ConfigError(`expected ${DURATION_HINT}`);
  const text = input.trim();
  if (PLAIN_NUMBER.test(text)) return checkNumber(Number(text));
  if (!WHOLE.test(text)) throw new ConfigError(`expected ${DURATION_HINT}`);
  return sumParts(text);
}

/**
 * `parseDuration` for callers that report a bad value in their own words (a 400, a ConfigError
 * naming the option, a schema issue): the seconds, or undefined when `input` is not a duration.
 */
export function durationSeconds(input: unknown): number | undefined {
  if (typeof input !== 'number' && typeof input !== 'string') return undefined;
  try {
    return parseDuration(input);
  } catch {
    return undefined;
  }
}

/** Like `parseDuration`, in milliseconds (rounded to a whole number). */
export function parseDurationMs(input: string | number): number {
  return Math.round(parseDuration(input) * 1000);
}

function checkNumber(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`expected ${DURATION_HINT}`);
  return value;
}

function sumParts(text: string): number {
  let total = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_SECONDS[match[2]];
  }
  return checkNumber(total);
}
