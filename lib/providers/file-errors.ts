import { BackendError, describeError, SecretsAuthError } from '../errors';
import type { SecretProvider } from './types';

/** What to do about a file-system failure, by its `code`. */
const HINTS: Readonly<Record<string, string>> = {
  EACCES: 'give this process read and write access to basePath',
  EPERM: 'give this process read and write access to basePath',
  ENOSPC: 'free disk space where basePath lives',
  EDQUOT: 'raise the disk quota or free space where basePath lives',
  EROFS: 'basePath is on a read-only file system; choose a writable folder',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or lower the load',
  ENFILE: 'too many open files on this host; raise the limit or lower the load',
  ENOTDIR: 'a file stands where basePath or a folder under it should be',
  EEXIST: 'a file stands where basePath or a folder under it should be',
  EISDIR: 'a folder stands where a secret file should be',
};

/**
 * Turns a failure of a file provider call into a SecretsAuthError: library errors pass through,
 * a file-system error becomes a BackendError naming the operation, the secret path and what to
 * do (never the error's own message; the original stays as `cause`).
 */
export function fileFailure(operation: string, path: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof SecretsAuthError) throw err;
    const code = (err as { code?: unknown })?.code;
    const hint = (typeof code === 'string' && HINTS[code]) || 'check that basePath exists and is usable by this process';
    throw new BackendError(`file provider: cannot ${operation} "${path}": ${describeError(err)}; ${hint}.`, { cause: err });
  };
}

/** The file provider's calls, each rejecting only with SecretsAuthErrors (see `fileFailure`). */
export function withFileErrors(provider: SecretProvider): SecretProvider {
  return {
    ...provider,
    get: (path) => provider.get(path).catch(fileFailure('read', path)),
    put: (path, data, opts) => provider.put(path, data, opts).catch(fileFailure('write', path)),
    delete: (path) => provider.delete(path).catch(fileFailure('delete', path)),
    list: (prefix) => provider.list(prefix).catch(fileFailure('list', prefix || '/')),
  };
}
