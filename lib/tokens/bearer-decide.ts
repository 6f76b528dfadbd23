import type { BearerAnswers, Refusal } from './bearer-answers';
import type { AuthInfo } from './types';

/** Step 4 of bearerAuth: let the principal in, or the refusal for an invalid token or a missing scope. */
export function decide(auth: AuthInfo | null, required: readonly string[], answers: BearerAnswers): { auth: AuthInfo } | { refusal: Refusal } {
  if (!auth) return { refusal: answers.invalidToken() };
  const missing = required.length === 0 ? required : required.filter((s) => !auth.scopes.includes(s));
  if (missing.length) return { refusal: answers.insufficientScope(missing) };
  return { auth };
}
