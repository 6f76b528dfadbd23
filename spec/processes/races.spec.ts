// Three real OS processes on one backend (a file-provider folder, OpenBao KV v2, OpenBao KV v1)
// race each other on the same tokens and sessions, in chunks sent to all three at once:
//   - revoke vs use: one process revokes while two use the token (no verify cache, every use makes
//     a last_used_at write due);
//   - logout vs touch: one destroys while two read and touch;
//   - logout vs save of a session loaded before the logout: two load, one destroys, the two save;
//   - rotate vs use: one rotates twice while two use the token;
//   - sign-in vs touch: one signs in (regenerate: the old session ends, a new one is saved) while
//     two read and touch the old one; plus sign-ins of fresh visitors, whose session was never stored.
// Afterwards, asked in every process: no revoked token is accepted, no ended session is readable
// (nor left on the backend), no rotation is lost, and every acknowledged write is present.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createFileProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { describeWith } from '../support/components';
import { enableKvV1 } from '../support/openbao';
import { type OpenBaoCluster, startCluster } from '../support/openbao-cluster';
import { kvMountFor, sharedVault, uniquePrefix } from '../support/vault';
import { type Backend, Proc, workerLibrary } from './race-worker-client';
import { removeTempDir, tempDir } from '../support/temp-dir';

/** Items raced per scenario and backend; each chunk of CHUNK items goes to the three processes at once. */
const SIZES = { revoke: 200, revokeControl: 40, touch: 200, save: 200, saveControl: 40, rotate: 120, signIn: 100, freshSignIn: 40 };
const CHUNK = 20;
/** Random delay (ms) before each operation, so the interleavings differ from one item to the next. */
const SPREAD_MS = 4;

const chunks = <T>(items: T[]): T[][] => Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));
const sids = (label: string, n: number) => Array.from({ length: n }, (_, i) => `${label}-${i}-${randomBytes(6).toString('hex')}`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

interface Figures {
  races: number;
  operations: number;
  revokedAccepted: number;
  revokedRecordsLeft: number;
  orphanLastUse: number;
  controlTokensAccepted: number;
  endedSessionsReadable: number;
  endedSessionRecordsLeft: number;
  controlSessionsPresent: number;
  lostRotations: number;
  replacedTokensAccepted: number;
  /** Sessions signed in away from (regenerate) still readable in some process, or left on the backend. */
  signedOutReadable: number;
  signedOutRecordsLeft: number;
  /** New sessions of acknowledged sign-ins, readable in each process (3 per sign-in). */
  signedInPresent: number;
  ms: number;
}

/** Runs the four scenarios on `backend` with processes `[p0, p1, p2]`; `raw` reads the backend from this process. */
async function race(procs: Proc[], backend: Backend, raw: SecretProvider): Promise<Figures> {
  const [p0, p1, p2] = procs;
  const started = Date.now();
  let operations = 0;
  const keys = new SecretsSessionStore({ provider: raw, path: backend.sessionsPath, cleanupIntervalMs: 0 });

  // revoke vs use (plus tokens nobody revokes, used alongside)
  const doomed = await p0.call<{ id: string; token: string }[]>('createTokens', SIZES.revoke, 'doomed');
  const kept = await p0.call<{ id: string; token: string }[]>('createTokens', SIZES.revokeControl, 'kept');
  const keptChunks = chunks(kept);
  let revokedAcks = 0;
  for (const [i, chunk] of chunks(doomed).entries()) {
    const use = [...chunk.map((t) => t.token), ...(keptChunks[i] ?? []).map((t) => t.token)];
    const [a, b, r] = await Promise.all([
      p1.call<{ verifies: number }>('use', use, 2, SPREAD_MS),
      p2.call<{ verifies: number }>('use', use, 2, SPREAD_MS),
      p0.call<{ revoked: number }>(
        'revoke',
        chunk.map((t) => t.id),
        SPREAD_MS,
      ),
    ]);
    operations += a.verifies + b.verifies + chunk.length;
    revokedAcks += r.revoked;
  }
  expect(revokedAcks).toBe(SIZES.revoke);

  // logout vs touch
  const touched = sids('touched', SIZES.touch);
  await p0.call('setSessions', touched, { user: 'ann' });
  for (const chunk of chunks(touched)) {
    const [a, b] = await Promise.all([
      p1.call<{ touches: number }>('touch', chunk, 2, SPREAD_MS),
      p2.call<{ touches: number }>('touch', chunk, 2, SPREAD_MS),
      p0.call('destroy', chunk, SPREAD_MS),
    ]);
    operations += a.touches + b.touches + chunk.length;
  }

  // logout vs save of a session loaded before the logout (plus sessions nobody ends, saved alongside)
  const ended = sids('ended', SIZES.save);
  const live = sids('live', SIZES.saveControl);
  await p0.call('setSessions', [...ended, ...live], { user: 'bob' });
  const liveChunks = chunks(live);
  for (const [i, chunk] of chunks(ended).entries()) {
    const both = [...chunk, ...(liveChunks[i] ?? [])];
    expect(await p1.call('load', both)).toBe(both.length);
    expect(await p2.call('load', both)).toBe(both.length);
    await Promise.all([p1.call('saveLoaded', both, 'p1', SPREAD_MS), p2.call('saveLoaded', both, 'p2', SPREAD_MS), p0.call('destroy', chunk, SPREAD_MS)]);
    operations += 4 * both.length + chunk.length;
  }

  // rotate vs use
  const rotated = await p0.call<{ id: string; token: string }[]>('createTokens', SIZES.rotate, 'rotated');
  const latest: Record<string, string> = {};
  for (const chunk of chunks(rotated)) {
    const use = chunk.map((t) => t.token);
    const [a, b, r] = await Promise.all([
      p1.call<{ verifies: number }>('use', use, 2, SPREAD_MS),
      p2.call<{ verifies: number }>('use', use, 2, SPREAD_MS),
      p0.call<Record<string, string>>(
        'rotate',
        chunk.map((t) => t.id),
        2,
        SPREAD_MS,
      ),
    ]);
    Object.assign(latest, r);
    operations += a.verifies + b.verifies + 2 * chunk.length;
  }
  expect(Object.keys(latest).length).toBe(SIZES.rotate);

  // sign-in (regenerate) vs touch of the old session, and sign-ins of fresh visitors
  const signingIn = sids('signing-in', SIZES.signIn);
  const fresh = sids('fresh', SIZES.freshSignIn);
  await p0.call('setSessions', signingIn, { user: 'carol' });
  const freshChunks = chunks(fresh);
  const newIds: Record<string, string> = {};
  for (const [i, chunk] of chunks(signingIn).entries()) {
    const [a, b, n] = await Promise.all([
      p1.call<{ touches: number }>('touch', chunk, 2, SPREAD_MS),
      p2.call<{ touches: number }>('touch', chunk, 2, SPREAD_MS),
      p0.call<Record<string, string>>('signIn', [...chunk, ...(freshChunks[i] ?? [])], SPREAD_MS),
    ]);
    Object.assign(newIds, n);
    operations += a.touches + b.touches + 3 * Object.keys(n).length;
  }
  expect(Object.keys(newIds).length).toBe(SIZES.signIn + SIZES.freshSignIn);

  // What every process sees now.
  const each = <T>(op: string, ...args: unknown[]) => Promise.all(procs.map((p) => p.call<T>(op, ...args)));
  const revokedAccepted = sum(
    await each<number>(
      'accepted',
      doomed.map((t) => t.token),
    ),
  );
  const controlTokensAccepted = sum(
    await each<number>(
      'accepted',
      kept.map((t) => t.token),
    ),
  );
  const readableEnded = await each<Record<string, unknown>>('readable', [...touched, ...ended]);
  const readableLive = await each<Record<string, string | null>>('readable', live);
  const finalAccepted = sum(await each<number>('accepted', Object.values(latest)));
  const replacedTokensAccepted = sum(
    await each<number>(
      'accepted',
      rotated.map((t) => t.token),
    ),
  );

  // What the backend holds, read from here.
  let revokedRecordsLeft = 0;
  for (const t of doomed) if (await raw.get(`${backend.tokensPath}/${t.id}`)) revokedRecordsLeft++;
  const doomedIds = new Set(doomed.map((t) => t.id));
  const orphanLastUse = (await raw.list(`${backend.tokensPath}/last-used`)).filter((id) => doomedIds.has(id)).length;
  let endedSessionRecordsLeft = 0;
  for (const sid of [...touched, ...ended]) if (await raw.get(keys.keyOf(sid))) endedSessionRecordsLeft++;
  const signedOut = await each<Record<string, unknown>>('readable', [...signingIn, ...fresh]);
  const signedIn = await each<Record<string, unknown>>('readable', Object.values(newIds));
  let signedOutRecordsLeft = 0;
  for (const sid of [...signingIn, ...fresh]) if (await raw.get(keys.keyOf(sid))) signedOutRecordsLeft++;

  return {
    races: SIZES.revoke + SIZES.touch + SIZES.save + SIZES.rotate + SIZES.signIn + SIZES.freshSignIn,
    operations,
    revokedAccepted,
    revokedRecordsLeft,
    orphanLastUse,
    controlTokensAccepted,
    endedSessionsReadable: sum(readableEnded.map((r) => Object.keys(r).length)),
    endedSessionRecordsLeft,
    controlSessionsPresent: sum(readableLive.map((r) => Object.values(r).filter((by) => by === 'p1' || by === 'p2').length)),
    lostRotations: SIZES.rotate - finalAccepted / procs.length,
    replacedTokensAccepted,
    signedOutReadable: sum(signedOut.map((r) => Object.keys(r).length)),
    signedOutRecordsLeft,
    signedInPresent: sum(signedIn.map((r) => Object.keys(r).length)),
    ms: Date.now() - started,
  };
}

/** What docs/reliability.md and docs/authentication.md promise, for every backend (KV v1 included). */
function expectPromises(f: Figures): void {
  expect(f).toEqual({
    ...f,
    revokedAccepted: 0,
    revokedRecordsLeft: 0,
    orphanLastUse: 0,
    controlTokensAccepted: 3 * SIZES.revokeControl,
    endedSessionsReadable: 0,
    endedSessionRecordsLeft: 0,
    controlSessionsPresent: 3 * SIZES.saveControl,
    lostRotations: 0,
    replacedTokensAccepted: 0,
    signedOutReadable: 0,
    signedOutRecordsLeft: 0,
    signedInPresent: 3 * (SIZES.signIn + SIZES.freshSignIn),
  });
}

const library = workerLibrary();
afterAll(() => library.remove());

async function withProcs(backend: Backend, raw: SecretProvider, label: string): Promise<Figures> {
  const procs: Proc[] = [];
  try {
    const libDir = await library.dir();
    procs.push(...(await Promise.all([0, 1, 2].map(() => Proc.start(libDir)))));
    await Promise.all(procs.map((p) => p.call('init', backend)));
    const figures = await race(procs, backend, raw);
    console.log(`RACES ${label} ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

describe('3 processes on one file-provider folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('esa-races-');
  });
  afterAll(() => removeTempDir(dir));

  test('revoke/logout/rotate/sign-in vs use/touch/save: nothing ended comes back, nothing acknowledged is lost', async () => {
    const basePath = join(dir, 'secrets');
    const raw = createFileProvider({ basePath });
    try {
      expectPromises(await withProcs({ kind: 'file', basePath, tokensPath: 'app/tokens', sessionsPath: 'app/sessions' }, raw, 'file'));
    } finally {
      await raw.close();
    }
  }, 60_000);
});

describeWith('openbao', '3 processes on one OpenBao mount', () => {
  test.each([2, 1] as const)(
    'KV v%s: revoke/logout/rotate/sign-in vs use/touch/save: nothing ended comes back, nothing acknowledged is lost',
    async (kvVersion) => {
      const { address, token } = sharedVault();
      const mount = await kvMountFor(kvVersion, 'races-kv1');
      const prefix = uniquePrefix('races');
      const raw = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion });
      try {
        const backend: Backend = { kind: 'vault', address, token, mount, kvVersion, tokensPath: `${prefix}/tokens`, sessionsPath: `${prefix}/sessions` };
        expectPromises(await withProcs(backend, raw, `openbao-kv${kvVersion}`));
      } finally {
        await raw.close();
      }
    },
    60_000,
  );
});

describeWith('openbao', '3 processes on a 3-node OpenBao Raft cluster (addresses of every node)', () => {
  let cluster: OpenBaoCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 90_000);
  afterAll(() => cluster?.stop());

  test.each([2, 1] as const)(
    'KV v%s: revoke/logout/rotate/sign-in vs use/touch/save: nothing ended comes back, nothing acknowledged is lost',
    async (kvVersion) => {
      const { addresses, rootToken: token } = cluster;
      const active = (await cluster.activeNode()).address;
      const mount = kvVersion === 2 ? 'secret' : 'races-kv1';
      if (kvVersion === 1) await enableKvV1(active, token, mount);
      const prefix = uniquePrefix('races-ha');
      const raw = createVaultProvider({ addresses, auth: { method: 'token', token }, mount, kvVersion });
      try {
        const backend: Backend = {
          kind: 'vault',
          address: active,
          addresses,
          token,
          mount,
          kvVersion,
          tokensPath: `${prefix}/tokens`,
          sessionsPath: `${prefix}/sessions`,
        };
        expectPromises(await withProcs(backend, raw, `openbao-ha-kv${kvVersion}`));
      } finally {
        await raw.close();
      }
    },
    90_000,
  );
});
