// One of the processes of expiry-notice.spec.ts: opens a TokenStore on the backend it is sent
// (file folder, OpenBao KV v2 or KV v1), runs one expiry check at the moment it is told, and
// answers with the ids of the `token.expiring` events it emitted. argv[2]: compiled library folder.
const { join } = require('node:path');

const lib = require(join(process.argv[2], 'index.js'));

let tokens;
let provider;
const events = [];

process.on('message', async ({ op, backend, at }) => {
  try {
    if (op === 'init') {
      provider =
        backend.kind === 'file'
          ? lib.createFileProvider({ basePath: backend.basePath, fsync: false })
          : lib.createVaultProvider({
              address: backend.address,
              auth: { method: 'token', token: backend.token },
              mount: backend.mount,
              kvVersion: backend.kvVersion,
            });
      tokens = new lib.TokenStore({
        provider,
        path: backend.tokensPath,
        expiryCheckIntervalMs: 0,
        logger: { warn() {} },
        onAudit: (e) => {
          if (e.action === 'token.expiring') events.push(e.token.id);
        },
      });
      process.send({ ok: true, pid: process.pid });
    } else if (op === 'check') {
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      await tokens.notifyExpiring();
      process.send({ ok: true, ids: events.splice(0) });
    } else if (op === 'close') {
      await tokens.close();
      await provider.close();
      process.send({ ok: true });
      process.exit(0);
    }
  } catch (err) {
    process.send({ ok: false, error: String(err?.code) });
  }
});
process.send({ ready: true });
