import { ConfigError } from '../errors';
import { isValidSegment, parsePath } from '../providers/paths';
import { SID_DIGEST_LENGTH } from './key';

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
