// Child process of crash.spec.ts: writes sessions and API tokens through the file provider in a
// tight loop and prints one line per acknowledged write, until it is killed with SIGKILL.
//   node crash-writer.js <compiled library folder (dist/ or a transpiled copy of lib/)> <basePath> <run> <lockStaleMs>
// Lines (stdout to a pipe is synchronous on Linux, so a printed line was acknowledged before the kill):
//   S <sid> <n>        session <sid> written with n = <n>
//   C <lane> <seq>     the lane's shared counter session rewritten with n = <seq>
//   T <token>          a token issued (its record written)

const [libDir, basePath, run, lockStaleMs] = process.argv.slice(2);
const { createFileProvider } = require(`${libDir}/providers/file`);
const { SecretsSessionStore } = require(`${libDir}/session/store`);
const { TokenStore } = require(`${libDir}/tokens/store`);

const provider = createFileProvider({ basePath, lockStaleMs: Number(lockStaleMs) });
const store = new SecretsSessionStore({ provider, cleanupIntervalMs: false });
const tokens = new TokenStore({ provider, bcryptCost: 4, logger: { warn() {} } });
const out = (line) => process.stdout.write(`${line}\n`);
const session = (n, client) => ({ cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) }, n, client });

async function sessionLane(lane) {
  for (let i = 0; ; i++) {
    const sid = `r${run}-l${lane}-${i}`;
    await store.set(sid, session(i, sid));
    out(`S ${sid} ${i}`);
    // Sequence numbers grow across runs, so the counter must never go back to an older value.
    const seq = Number(run) * 1_000_000 + i;
    await store.set(`counter-l${lane}`, session(seq, `lane-${lane}`));
    out(`C ${lane} ${seq}`);
  }
}

async function tokenLane() {
  for (;;) {
    const { token } = await tokens.create({ name: `run-${run}` });
    out(`T ${token}`);
  }
}

out('READY');
Promise.all([sessionLane(0), sessionLane(1), sessionLane(2), tokenLane(), tokenLane()]).catch((err) => {
  process.stderr.write(`crash-writer failed: ${err?.stack}\n`);
  process.exit(1);
});
