// Four real OS processes share one backend (a file-provider folder, OpenBao KV v2, OpenBao KV v1)
// with the per-user session index (`userOf`). In each round, on a fresh folder, 20 sessions of one
// user are created spread over the four processes at once — so the four race to create the index
// key too (on KV v1, without check-and-set) — then every process must list all 20 with sessionsOf,
// destroySessionsOf from one process must end all 20, and no process may read any of them after.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createFileProvider, createVaultProvider, type SecretProvider, SecretsSessionStore } from '../../lib';
import { describeWith } from '../support/components';
import { removeTempDir, tempDir } from '../support/temp-dir';
import { kvMountFor, sharedVault, uniquePrefix } from '../support/vault';
import { type Backend, Proc, workerLibrary } from './race-worker-client';

const PROCESSES = 4;
const SESSIONS = 20;
/** Rounds per backend, each on a fresh folder: a fresh race for the index key every time. */
const ROUNDS = 3;
const USER = 'pat@example.com';

const library = workerLibrary();
afterAll(() => library.remove());

interface RoundFigures {
  createMs: number;
  listed: number[];
  userNames: number;
  ended: number;
  readableAfter: number;
  recordsLeft: number;
}

/** One round on `backend` (whose sessionsPath is fresh) with the four processes. */
async function round(procs: Proc[], backend: Backend, raw: SecretProvider, by: number): Promise<RoundFigures> {
  await Promise.all(procs.map((p) => p.call('init', { ...backend, userIndex: true })));
  const keys = new SecretsSessionStore({ provider: raw, path: backend.sessionsPath, cleanupIntervalMs: false });
  const sids = Array.from({ length: SESSIONS }, (_, i) => `u-${i}-${randomBytes(6).toString('hex')}`);
  const mine = (k: number) => sids.filter((_, i) => i % PROCESSES === k);
  const started = Date.now();
  await Promise.all(procs.map((p, k) => p.call('setSessions', mine(k), { user: USER })));
  const createMs = Date.now() - started;
  const expected = sids.map((sid) => keys.keyOf(sid)).sort();
  const listings = await Promise.all(procs.map((p) => p.call<string[]>('sessionsOf', USER)));
  for (const listed of listings) expect([...listed].sort()).toEqual(expected);
  const userNames = (await raw.list(`${backend.sessionsPath}/users`)).filter((n) => n.endsWith('/')).length;
  const ended = await procs[by].call<number>('destroySessionsOf', USER);
  const readable = await Promise.all(procs.map((p) => p.call<Record<string, unknown>>('readable', sids)));
  let recordsLeft = 0;
  for (const key of expected) if (await raw.get(key)) recordsLeft++;
  return {
    createMs,
    listed: listings.map((l) => l.length),
    userNames,
    ended,
    readableAfter: readable.reduce((n, r) => n + Object.keys(r).length, 0),
    recordsLeft,
  };
}

async function run(label: string, backend: (round: number) => Backend, raw: SecretProvider): Promise<void> {
  const libDir = await library.dir();
  const procs = await Promise.all(Array.from({ length: PROCESSES }, () => Proc.start(libDir)));
  try {
    const figures: RoundFigures[] = [];
    for (let r = 0; r < ROUNDS; r++) figures.push(await round(procs, backend(r), raw, r % PROCESSES));
    console.log(`USERS-INDEX ${label} ${JSON.stringify(figures)}`);
    for (const f of figures) {
      expect(f).toEqual({
        ...f,
        listed: Array(PROCESSES).fill(SESSIONS),
        userNames: 1, // every process computed the same name: one index key
        ended: SESSIONS,
        readableAfter: 0,
        recordsLeft: 0,
      });
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

describe(`${PROCESSES} processes, one user's sessions on one file-provider folder`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('esa-users-proc-');
  });
  afterAll(() => removeTempDir(dir));

  test(`sessionsOf lists all ${SESSIONS} in every process; destroySessionsOf from one ends them for all`, async () => {
    const basePath = join(dir, 'secrets');
    const raw = createFileProvider({ basePath });
    try {
      await run('file', (r) => ({ kind: 'file', basePath, tokensPath: `app${r}/tokens`, sessionsPath: `app${r}/sessions` }), raw);
    } finally {
      await raw.close();
    }
  }, 60_000);
});

describeWith('openbao', `${PROCESSES} processes, one user's sessions on one OpenBao mount`, () => {
  test.each([2, 1] as const)(
    `KV v%s: sessionsOf lists all ${SESSIONS} in every process; destroySessionsOf from one ends them for all`,
    async (kvVersion) => {
      const { address, token } = sharedVault();
      const mount = await kvMountFor(kvVersion, 'users-kv1');
      const prefix = uniquePrefix('users-proc');
      const raw = createVaultProvider({ address, auth: { method: 'token', token }, mount, kvVersion });
      try {
        await run(
          `openbao-kv${kvVersion}`,
          (r) => ({ kind: 'vault', address, token, mount, kvVersion, tokensPath: `${prefix}/${r}/tokens`, sessionsPath: `${prefix}/${r}/sessions` }),
          raw,
        );
      } finally {
        await raw.close();
      }
    },
    60_000,
  );
});
