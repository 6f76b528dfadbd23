import { describeError, SecretsAuthError } from '../errors';
import { findTokens } from '../tokens/find';
import { parseToken } from '../tokens/format';
import { type LeakedTokenOutcome, type LeakedTokenStore, revokeLeakedToken } from '../tokens/leaked';
import type { AuthInfo } from '../tokens/types';
import { EXIT } from './exit';
import { formatTable } from './table';

/** A token store as `tokens revoke-leaked` needs it: verify, revoke, and the prefix its tokens carry. */
export interface LeakScanStore extends LeakedTokenStore {
  readonly prefix: string;
}

/** What `tokens revoke-leaked --json` prints. Holds ids and names, never a token. */
export interface RevokeLeakedReport {
  /** Well-formed tokens (pattern + CRC32) found in the text, duplicates counted once. */
  found: number;
  /** Of those, how many are live tokens of this store (stored or from the config). */
  verified: number;
  /** Of those, how many this run revoked. */
  revoked: number;
  tokens: LeakedTokenOutcome[];
  /** Found tokens left unchecked because the backend failed (0 when it did not). */
  not_checked: number;
  /**
   * Why the run stopped early: the backend's error, the id of the token it stopped at, and whether
   * that token verified (then it is in `tokens` with `revoked: false`: it still works); or null.
   */
  error: { code: string; message: string; token_id: string; verified: boolean } | null;
}

interface Failure {
  err: unknown;
  tokenId: string;
  /** True when the token verified and revoking it failed (it still works). */
  verified: boolean;
  notChecked: number;
}

const FAILED_OUTCOME = 'NOT revoked: the backend failed (see the error)';

function outcomeText(t: LeakedTokenOutcome, error: RevokeLeakedReport['error']): string {
  if (error?.verified && error.token_id === t.id) return FAILED_OUTCOME;
  if (t.source === 'config') return 'from the config: remove it there';
  return t.revoked ? 'revoked' : 'already revoked (by someone else, just now)';
}

/**
 * `tokens revoke-leaked`: finds the tokens in `text` (e.g. a scanner's report) with the store's
 * prefix, revokes each live one, prints one line per verified token (id, name, outcome) and a
 * summary; never a token. Stops at the first backend error (the rest is reported as not checked;
 * nothing is assumed revoked). Resolves with the exit code: 0, `liveInConfig` when a token from the
 * config was found (it still works), `failed` on a backend error.
 */
export async function revokeLeaked(
  store: LeakScanStore,
  text: string,
  io: { out(t: string): void; err(t: string): void },
  opts: { json: boolean },
): Promise<number> {
  const candidates = findTokens(text, store.prefix);
  const tokens: LeakedTokenOutcome[] = [];
  let failure: Failure | null = null;
  // What the current candidate verified as, so a failed revocation can still be told apart from a failed check.
  let verified: AuthInfo | null = null;
  const watched: LeakedTokenStore = {
    async verify(token) {
      verified = await store.verify(token);
      return verified;
    },
    revoke: (id) => store.revoke(id),
  };
  for (const [i, candidate] of candidates.entries()) {
    verified = null;
    try {
      const outcome = await revokeLeakedToken(watched, candidate);
      if (outcome) tokens.push(outcome);
    } catch (err) {
      const auth = verified as AuthInfo | null; // set inside `watched.verify`, which TypeScript's narrowing does not see
      if (auth) tokens.push({ id: auth.tokenId, name: auth.name, scopes: [...auth.scopes], source: auth.source, revoked: false });
      // The id is the token's public part (the UI shows it); the secret is never printed.
      const tokenId = auth?.tokenId ?? parseToken(candidate, store.prefix)?.id ?? '?';
      failure = { err, tokenId, verified: auth !== null, notChecked: candidates.length - i - (auth ? 1 : 0) };
      break;
    }
  }
  const report: RevokeLeakedReport = {
    found: candidates.length,
    verified: tokens.length,
    revoked: tokens.filter((t) => t.revoked).length,
    tokens,
    not_checked: failure?.notChecked ?? 0,
    error: failure && {
      code: failure.err instanceof SecretsAuthError ? failure.err.code : 'UNEXPECTED',
      message: describeError(failure.err),
      token_id: failure.tokenId,
      verified: failure.verified,
    },
  };
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else printText(report, io);
  const live = tokens.filter((t) => t.source === 'config').length;
  if (failure) {
    const unchecked = `${report.not_checked} of ${report.found} found tokens were not checked`;
    io.err(
      failure.verified
        ? `express-secrets-auth: the token with id ${failure.tokenId} verified, but revoking it failed: ${describeError(failure.err)}. ` +
            `It still works. ${unchecked}: fix the cause and run the command again.`
        : `express-secrets-auth: stopped at the token with id ${failure.tokenId}: ${describeError(failure.err)}. ` +
            `${unchecked} (nothing is assumed revoked): run the command again when the backend answers.`,
    );
    return EXIT.failed;
  }
  if (live > 0) {
    const one = live === 1;
    io.err(
      `express-secrets-auth: ${live} of the verified tokens ${one ? 'is' : 'are'} from the config and still work${one ? 's' : ''}: ` +
        `remove ${one ? 'it' : 'them'} from authentication.methods.token.tokens (and the credential from where the config references it), then deploy.`,
    );
    return EXIT.liveInConfig;
  }
  return EXIT.ok;
}

function printText(report: RevokeLeakedReport, io: { out(t: string): void }): void {
  if (report.tokens.length > 0) {
    io.out(
      formatTable(
        ['ID', 'NAME', 'OUTCOME'],
        report.tokens.map((t) => [t.id, t.name, outcomeText(t, report.error)]),
        [0, 2],
      ),
    );
    io.out('');
  }
  const unchecked = report.not_checked > 0 ? `, ${report.not_checked} not checked` : '';
  io.out(`${report.found} found in the text, ${report.verified} verified, ${report.revoked} revoked${unchecked}.`);
}
