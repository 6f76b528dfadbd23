import { ConfigError } from '../errors';
import { renamedOption } from '../shared/deprecated-option';
import { isValidSegment, parsePath } from '../providers/paths';
import { SID_DIGEST_LENGTH } from './key';
import { DEFAULT_CLEANUP_INTERVAL_MS } from './sweeper';
import type { SecretsSessionStoreOptions } from './types';

const PREFIX = /^[A-Za-z0-9._:@+=-]*$/;

/** `cleanupInterval` (seconds) became `cleanupIntervalMs`; the old name works for one minor version. */
export const CLEANUP_INTERVAL_RENAME = {
  owner: 'session store',
  oldName: 'cleanupInterval',
  newName: 'cleanupIntervalMs',
  conversion: 'seconds × 1000',
  convert: (seconds: number) => seconds * 1000,
};

/** The `prefix` option, validated: one path segment with the 43-character digest. Default "sess:". */
export function checkedPrefix(option: string | undefined): string {
  const prefix = option == null ? 'sess:' : option;
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new ConfigError('session store: prefix may only contain [A-Za-z0-9._:@+=-]; put folders in `path`');
  }
  if (!isValidSegment(prefix + 'x'.repeat(SID_DIGEST_LENGTH))) {
    throw new ConfigError(`session store: prefix is too long (a key is the prefix and ${SID_DIGEST_LENGTH} characters, one path segment)`);
  }
  return prefix;
}

/** The `path` option, validated. Default "sessions". */
export function checkedPath(option: string | undefined): string {
  const path = option ?? 'sessions';
  try {
    parsePath(path);
  } catch (err) {
    throw new ConfigError(`session store: path: ${(err as Error).message}`);
  }
  return path;
}

/** The `touchAfter` option (seconds), validated. Default 0. */
export function checkedTouchAfter(option: number | undefined): number {
  const touchAfter = option ?? 0;
  if (!(typeof touchAfter === 'number' && touchAfter >= 0)) throw new ConfigError('session store: touchAfter must be a number of seconds >= 0');
  return touchAfter;
}

/** The sweeper's interval (ms, or false: no sweeper), from `cleanupIntervalMs` or its old name, validated. */
export function checkedCleanupInterval(options: SecretsSessionStoreOptions): number | false {
  const interval = renamedOption<number | false>(options, CLEANUP_INTERVAL_RENAME) ?? DEFAULT_CLEANUP_INTERVAL_MS;
  if (interval !== false && !(typeof interval === 'number' && interval >= 0)) {
    throw new ConfigError('session store: cleanupIntervalMs must be a number of milliseconds >= 0, or false');
  }
  return interval;
}
