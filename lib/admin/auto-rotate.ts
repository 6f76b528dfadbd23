import { describeError } from '../errors';
import { PeriodicJob } from '../shared/periodic-job';
import type { SecretProvider } from '../providers/types';
import type { TokenInfo } from '../tokens/types';
import type { Auditor } from './audit';
import { ApiError } from './errors';
import type { AdminLogger, TokenAdminBackend } from './types';
import { isUnderPrefix } from './validate';
import { rotationDue } from './view';

/** A token's delivery path, when it has one (stored tokens created with `delivery_path`). */
export const deliveryPathOf = (info: TokenInfo): string | null => (info as TokenInfo & { deliveryPath?: string | null }).deliveryPath ?? null;

/** What a delivery secret holds. `issued_at` ties it to the token record that accepts it. */
export interface DeliveredToken {
  token: string;
  token_id: string;
  expires_at: string | null;
  /** The record's `rotated_at` (or `created_at`) when this token was issued. */
  issued_at: string | null;
}

const issuedAt = (info: { rotatedAt: string | null; createdAt: string | null }): string | null => info.rotatedAt ?? info.createdAt;

/** Where delivered tokens may be written: the provider and the folder (`autoRotate.pathPrefix`) they must lie under. */
export interface DeliveryTarget {
  provider: SecretProvider;
  /** Normalised folder, e.g. "token-delivery". */
  prefix: string;
}

/** A delivery the router will not make: the path is outside the delivery folder, or holds another secret. 409. */
export class DeliveryRefusedError extends ApiError<'delivery_refused'> {
  constructor(message: string) {
    super(409, 'delivery_refused', message);
  }
}

const DELIVERED_KEYS: readonly string[] = ['token', 'token_id', 'expires_at', 'issued_at'];

/** Whether `data` is a delivery secret of token `id` (what `deliverToken` writes; compared without the plaintext). */
function isDeliveryOf(data: Record<string, unknown>, id: string): boolean {
  return data.token_id === id && typeof data.token === 'string' && Object.keys(data).every((k) => DELIVERED_KEYS.includes(k));
}

/**
 * Writes a token to its delivery secret. The path must lie under the delivery folder, and the
 * secret there must be absent or an earlier delivery of the same token: anything else (another
 * token's record or delivery, an app secret) is refused with DeliveryRefusedError and left as it
 * was. The write is check-and-set on the version read first (0, "only if absent", when there was
 * none), so two instances delivering at once cannot both succeed (the loser fails before its
 * token record changes).
 */
export async function deliverToken(target: DeliveryTarget, path: string, token: string, info: TokenInfo): Promise<void> {
  const { provider, prefix } = target;
  if (!isUnderPrefix(path, prefix)) {
    throw new DeliveryRefusedError(
      `Token ${info.id} has the delivery path "${path}", outside "${prefix}/" (autoRotate.pathPrefix); nothing was written. ` +
        'Revoke it and create a token with a delivery path under that folder.',
    );
  }
  const current = await provider.get(path);
  if (current && !isDeliveryOf(current.data, info.id)) {
    throw new DeliveryRefusedError(
      `The delivery path "${path}" already holds a secret that is not a delivered copy of token ${info.id}; nothing was written. ` +
        'Choose another delivery path, or delete that secret first if it is no longer needed.',
    );
  }
  const data: DeliveredToken = { token, token_id: info.id, expires_at: info.expiresAt, issued_at: issuedAt(info) };
  if (current) {
    await provider.put(path, { ...data }, current.version === undefined ? {} : { cas: current.version });
    return;
  }
  // A KV v1 mount has no check-and-set: there the write is unconditional. A provider that does
  // not say whether it has check-and-set is asked for it.
  const checkAndSet = (await provider.supportsCheckAndSet?.()) ?? true;
  await provider.put(path, { ...data }, checkAndSet ? { cas: 0 } : {});
}

/** Whether the delivery secret holds the token the record currently accepts (compares ids and issue times, no plaintext). */
async function isDelivered(provider: SecretProvider, path: string, info: TokenInfo): Promise<boolean> {
  const data = (await provider.get(path))?.data as Partial<DeliveredToken> | undefined;
  return data?.token_id === info.id && data.issued_at === issuedAt(info) && typeof data.token === 'string';
}

/**
 * Rotates stored tokens that have a delivery path once 2/3 of their lifetime has passed: the new
 * secret gets a lifetime as long as the last one, is written only to the delivery secret, and the
 * replaced one keeps working for `graceSeconds`. A delivery secret that does not match its token
 * record (a crash between creating and delivering, or two instances racing) is repaired the same
 * way on the next pass. Tokens without a delivery path are never touched.
 */
export class AutoRotator {
  private readonly job: PeriodicJob<string[]>;

  constructor(
    private readonly opts: {
      tokens: TokenAdminBackend;
      target: DeliveryTarget;
      graceSeconds: number;
      intervalMs: number;
      logger: AdminLogger;
      now: () => number;
      audit: Auditor;
    },
  ) {
    this.job = new PeriodicJob({ name: 'auto-rotate', run: () => this.pass(), intervalMs: opts.intervalMs, logger: opts.logger });
  }

  /** Checks `intervalMs` after each pass ends (unref'd timer: it never keeps the process alive). */
  start(): void {
    this.job.start();
  }

  /** Cancels the timer; resolves once a pass in flight has ended. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass (never two at once); resolves with the ids rotated. Failures are logged per token. */
  runOnce(): Promise<string[]> {
    return this.job.runOnce();
  }

  private async pass(): Promise<string[]> {
    const { tokens, logger, now } = this.opts;
    let list: TokenInfo[];
    try {
      list = await tokens.list();
    } catch (err) {
      logger.warn(`express-secrets-auth auto-rotate: cannot list tokens, will retry: ${describeError(err)}`);
      return [];
    }
    const rotated: string[] = [];
    for (const info of list) {
      const path = deliveryPathOf(info);
      const due = rotationDue(info);
      if (info.source !== 'store' || !path || due === null || !info.expiresAt) continue;
      if (now() >= Date.parse(info.expiresAt)) continue; // expired: rotating would revive it
      try {
        if (now() < due && (await isDelivered(this.opts.target.provider, path, info))) continue;
        if (now() < due) logger.warn(`express-secrets-auth auto-rotate: delivery secret of token ${info.id} is out of date; rotating to repair it`);
        await this.rotate(info, path);
        rotated.push(info.id);
      } catch (err) {
        (logger.error ?? logger.warn).call(logger, `express-secrets-auth auto-rotate: token ${info.id} not rotated, will retry: ${describeError(err)}`);
      }
    }
    return rotated;
  }

  private async rotate(info: TokenInfo, path: string): Promise<void> {
    const start = Date.parse(issuedAt(info) as string);
    const lifetimeSeconds = Math.max(60, Math.round((Date.parse(info.expiresAt as string) - start) / 1000));
    const { target, graceSeconds } = this.opts;
    const issued = await this.opts.tokens.rotate(info.id, {
      grace: graceSeconds > 0 ? graceSeconds : null,
      expiresIn: lifetimeSeconds,
      deliver: (token: string, next: TokenInfo) => deliverToken(target, path, token, next),
    });
    await this.opts.audit('token.auto_rotate', null, issued.record, {
      delivery_path: path,
      grace_seconds: graceSeconds,
      expires_at: issued.record.expiresAt,
    });
  }
}
