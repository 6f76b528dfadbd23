// One of the processes of races.spec.ts and users-index.spec.ts: opens a TokenStore and a
// SecretsSessionStore on the backend it is told (file folder, OpenBao KV v2 or KV v1; with
// `userIndex`, sessions are indexed by their `user` field) and runs the batches the spec sends
// over IPC, answering each with its counts. argv[2]: folder of the compiled library.
const { join } = require('node:path');

const lib = require(join(process.argv[2], 'index.js'));

let tokens;
let sessions;
let provider;
/** Sessions this process loaded (get), kept to save them later: a request that loaded before a logout. */
const loaded = new Map();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jitter = (ms) => (ms > 0 ? sleep(Math.random() * ms) : Promise.resolve());

/** Runs fn on each item, at most `n` at once. */
async function pool(items, n, fn) {
  let next = 0;
  const out = new Array(items.length);
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

async function closeStores() {
  await tokens?.close();
  await sessions?.close();
  await provider?.close();
}

const cookie = () => ({ originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() });

const ops = {
  /** Opens the stores on `backend`; called again, it first closes the ones opened before. */
  async init(backend) {
    await closeStores();
    provider =
      backend.kind === 'file'
        ? lib.createFileProvider({ basePath: backend.basePath, fsync: false })
        : lib.createVaultProvider({
            // One node, or every node of an HA cluster (then the provider finds the active node).
            ...(backend.addresses ? { addresses: backend.addresses } : { address: backend.address }),
            auth: { method: 'token', token: backend.token },
            mount: backend.mount,
            kvVersion: backend.kvVersion,
          });
    // Every verification reads the backend (no verify cache) and every use makes a last_used_at write due.
    tokens = new lib.TokenStore({
      provider,
      path: backend.tokensPath,
      bcryptCost: 4,
      verifyCacheTtlMs: 0,
      lastUsedIntervalMs: 0,
      rateLimit: false,
      createConcurrency: 2,
      createMaxQueue: 10_000,
      logger: { warn() {}, error() {} },
    });
    sessions = new lib.SecretsSessionStore({
      provider,
      path: backend.sessionsPath,
      cleanupIntervalMs: 0,
      ...(backend.userIndex && { userOf: (s) => s.user }),
    });
    // What express-session's middleware sets on its store: regenerate() ends with it (a new id).
    sessions.generate = (req) => {
      req.sessionID = `${req.sessionID}-new`;
      req.session = { cookie: cookie() };
    };
    return { pid: process.pid };
  },
  async createTokens(n, label) {
    return pool(
      Array.from({ length: n }, (_, i) => i),
      8,
      async (i) => {
        const { token, record } = await tokens.create({ name: `${label}-${i}` });
        return { id: record.id, token };
      },
    );
  },
  /** Uses each token `times` times (each a backend read, a bcrypt and a last_used_at write). */
  async use(list, times, spreadMs) {
    let accepted = 0;
    await pool(list, 16, async (token) => {
      for (let k = 0; k < times; k++) {
        await jitter(spreadMs);
        if (await tokens.verify(token)) accepted++;
      }
    });
    await tokens.flush();
    return { verifies: list.length * times, accepted };
  },
  async revoke(ids, spreadMs) {
    const done = await pool(ids, 16, async (id) => {
      await jitter(spreadMs);
      return tokens.revoke(id);
    });
    return { revoked: done.filter(Boolean).length };
  },
  /** Rotates each token `times` times in a row; answers the token of the last acknowledged rotation. */
  async rotate(ids, times, spreadMs) {
    const latest = {};
    await pool(ids, 16, async (id) => {
      for (let k = 0; k < times; k++) {
        await jitter(spreadMs);
        latest[id] = (await tokens.rotate(id)).token;
      }
    });
    return latest;
  },
  /** How many of `list` verify here, now. */
  async accepted(list) {
    const ok = await pool(list, 16, async (token) => Boolean(await tokens.verify(token)));
    await tokens.flush();
    return ok.filter(Boolean).length;
  },
  async setSessions(sids, data) {
    await pool(sids, 16, (sid) => sessions.set(sid, { cookie: cookie(), ...data, sid }));
    return sids.length;
  },
  async load(sids) {
    let found = 0;
    await pool(sids, 16, async (sid) => {
      const s = await sessions.get(sid);
      if (s) {
        loaded.set(sid, s);
        found++;
      }
    });
    return found;
  },
  /** Saves sessions loaded earlier (before a logout elsewhere), changed, as express-session does at the end of a request. */
  async saveLoaded(sids, by, spreadMs) {
    await pool(sids, 16, async (sid) => {
      const s = loaded.get(sid);
      loaded.delete(sid);
      if (!s) return;
      await jitter(spreadMs);
      s.saved_by = by;
      s.cookie = cookie();
      await sessions.set(sid, s);
    });
    return sids.length;
  },
  /**
   * A sign-in on each id, as express-session runs it: the cookie's session is loaded (null for a
   * fresh visitor, whose session was never stored), regenerate() ends it and makes a new id, and
   * the new session is saved. Answers old id -> new id, for the acknowledged sign-ins.
   */
  async signIn(sids, spreadMs) {
    const out = {};
    await pool(sids, 16, async (sid) => {
      await jitter(spreadMs);
      const req = { sessionID: sid };
      const data = await sessions.get(sid);
      req.session = data ? sessions.createSession(req, data) : { cookie: cookie() };
      await new Promise((resolve, reject) => sessions.regenerate(req, (err) => (err ? reject(err) : resolve())));
      await sessions.set(req.sessionID, { cookie: cookie(), user: 'carol', sid: req.sessionID });
      out[sid] = req.sessionID;
    });
    return out;
  },
  /** Reads and touches each session `times` times (a request's end-of-request touch). */
  async touch(sids, times, spreadMs) {
    let touches = 0;
    await pool(sids, 16, async (sid) => {
      for (let k = 0; k < times; k++) {
        await jitter(spreadMs);
        const s = await sessions.get(sid);
        if (!s) return;
        s.cookie = cookie();
        await sessions.touch(sid, s);
        touches++;
      }
    });
    return { touches };
  },
  async destroy(sids, spreadMs) {
    await pool(sids, 16, async (sid) => {
      await jitter(spreadMs);
      await sessions.destroy(sid);
    });
    return sids.length;
  },
  /** The sessions of `sids` this process can read now: sid -> saved_by (or null when unsaved). */
  async readable(sids) {
    const out = {};
    await pool(sids, 16, async (sid) => {
      const s = await sessions.get(sid);
      if (s) out[sid] = s.saved_by ?? null;
    });
    return out;
  },
  /** Keys of the live sessions of `user`, as sessionsOf lists them here. */
  async sessionsOf(user) {
    return (await sessions.sessionsOf(user)).map((s) => s.key);
  },
  async destroySessionsOf(user) {
    return sessions.destroySessionsOf(user);
  },
  async close() {
    await closeStores();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', async (msg) => {
  try {
    const result = await ops[msg.op](...msg.args);
    process.send({ id: msg.id, ok: true, result });
  } catch (err) {
    process.send({ id: msg.id, ok: false, error: `${err?.name}: ${err?.message}` });
  }
});
process.send({ ready: true });
