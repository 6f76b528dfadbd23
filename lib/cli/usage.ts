import { SecretsAuthError } from '../errors';

/** A mistake in how the command was called (exit code 2); its message says what to fix. */
export class UsageError extends SecretsAuthError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}
