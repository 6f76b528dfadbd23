import { InvalidPathError } from '../errors';

const SEGMENT = /^[A-Za-z0-9._:@+=-]+$/;
/** Longest segment accepted: well under file-system name limits (255) once encoded. */
export const MAX_SEGMENT_LENGTH = 200;
export const MAX_PATH_LENGTH = 1024;

/** Describes a hostile or malformed segment without echoing it (it may be request input). */
function segmentProblem(segment: string): string | null {
  if (segment.length === 0) return 'empty segment (leading "/", trailing "/" or "//")';
  if (segment === '.' || segment === '..') return '"." and ".." segments are not allowed';
  if (segment.length > MAX_SEGMENT_LENGTH) return `segment longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT.test(segment)) return 'segment contains a character outside [A-Za-z0-9._:@+=-]';
  return null;
}

/** Whether `segment` is a safe single path segment (e.g. a session id or token id). */
export function isValidSegment(segment: string): boolean {
  return typeof segment === 'string' && segmentProblem(segment) === null;
}

/**
 * Splits and validates a secret path, throwing `InvalidPathError` before any I/O.
 * With `allowEmpty`, "" (the root, for `list`) gives [].
 */
export function parsePath(path: string, opts: { allowEmpty?: boolean } = {}): string[] {
  if (typeof path !== 'string') throw new InvalidPathError('path must be a string');
  if (path === '' && opts.allowEmpty) return [];
  if (path.length > MAX_PATH_LENGTH) throw new InvalidPathError(`path longer than ${MAX_PATH_LENGTH} characters`);
  const segments = path.split('/');
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem) throw new InvalidPathError(problem);
  }
  return segments;
}

/** Validates a list prefix: like a path, but a trailing "/" is allowed and "" means the root. */
export function parsePrefix(prefix: string): string[] {
  if (typeof prefix !== 'string') throw new InvalidPathError('prefix must be a string');
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return parsePath(trimmed, { allowEmpty: true });
}
