// A real scanner from the npm registry (secretlint + @secretlint/secretlint-rule-pattern, pinned
// devDependencies) run as an OS process with the rule from docs/leaked-tokens.md over a fixture
// folder of real tokens (made by TokenStore) and near-misses; its report is then piped through
// `tokens revoke-leaked -`, which must leave exactly the real tokens.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAuthFromConfig, type ConfiguredAuth } from '../../lib';
import { findTokens, tokenPattern } from '../../lib/tokens/find';
import { checksum, generateToken } from '../../lib/tokens/format';
import { docBlock } from '../docs/readme-blocks';
import { runCli } from '../support/cli';
import { ROOT, requireBuiltDist } from '../support/compiled-library';
import { removeTempDir, tempDir } from '../support/temp-dir';

// The package's bin (its `exports` hide it from require.resolve); `npm ci` installs it.
const SECRETLINT = join(ROOT, 'node_modules', 'secretlint', 'bin', 'secretlint.js');
const RULE_NAME = 'express-secrets-auth API token';

/** Runs the secretlint binary in `cwd`; resolves with its exit code and output (killed after 60 s). */
function secretlint(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SECRETLINT, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A token-shaped string with a valid CRC32 over `body`. */
const withCrc = (body: string) => body + checksum(body);

describe('secretlint (registry scanner) with the documented rule, then tokens revoke-leaked', () => {
  let dir: string;
  let fixtures: string;
  let config: string;
  let auth: ConfiguredAuth;
  const real: { token: string; id: string }[] = [];
  let nearMisses: { kind: string; value: string }[];

  beforeAll(async () => {
    requireBuiltDist('cli.js');
    if (!existsSync(SECRETLINT)) throw new Error(`${SECRETLINT} is missing: run \`npm ci\` (secretlint is a devDependency)`);
    dir = await tempDir('esa-secretlint-');
    fixtures = join(dir, 'repo');
    config = join(dir, 'auth.yml');
    await writeFile(
      config,
      `secrets:\n  providers:\n    file: { base_path: ${join(dir, 'store')} }\nauthentication:\n  methods:\n    token:\n      enabled: true\n      storage:\n        secrets: { provider: file, path: tokens, bcrypt_cost: 4, verify_cache_ttl: 0 }\n`,
    );
    auth = await createAuthFromConfig(config);
    for (let i = 0; i < 20; i++) {
      const { token, record } = await auth.tokens.create({ name: `leak-${i}`, scopes: [] });
      real.push({ token, id: record.id });
    }
    // Near-misses are built from tokens that are in no store and appear nowhere else in the fixture,
    // so any report of one (or of a part of one) is the scanner's fault, not a neighbour's match.
    const base = Array.from({ length: 12 }, () => generateToken('esa').token);
    const flip = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    nearMisses = [
      ...base.slice(0, 4).map((t) => ({ kind: 'wrong CRC', value: flip(t) })),
      { kind: 'wrong length (secret one short, valid CRC)', value: withCrc(base[4].slice(0, -7)) },
      { kind: 'wrong length (id one short, valid CRC)', value: withCrc(`esa_${base[5].slice(4, 15)}${base[5].slice(16, -6)}`) },
      { kind: 'longer word (a character after)', value: `${base[6]}x` },
      { kind: 'longer word (a character before)', value: `x${base[7]}` },
      { kind: 'longer word (an underscore after)', value: `${base[8]}_v2` },
      { kind: 'other prefix (valid CRC)', value: withCrc(`xsa${base[9].slice(3, -6)}`) },
      { kind: 'other prefix (upper case, valid CRC)', value: withCrc(`ESA${base[10].slice(3, -6)}`) },
      { kind: 'other prefix (longer, valid CRC)', value: withCrc(`mesa${base[11].slice(3, -6)}`) },
    ];
    const t = real.map((r) => r.token);
    const n = nearMisses.map((m) => m.value);
    const files: Record<string, string> = {
      'logs/access.log': [
        `10.0.0.1 - - "GET /api/items?access_token=${t[0]}&page=2 HTTP/1.1" 200`,
        `redirect https://app.example.test/callback#token=${t[1]}`,
        `clone https://ci:${t[2]}@git.example.test/org/repo.git`,
        `GET /hook/${t[3]}/status 404 (near: /hook/${n[0]}/status)`,
      ].join('\n'),
      'config/service.json': JSON.stringify({ api: { token: t[4], fallback: [t[5], t[6]] }, stale: n[1], other: n[9] }, null, 2),
      'src/client.ts': [`const a = '${t[7]}';`, `const b = "${t[8]}";`, `const c = \`${t[9]}\`;`, `const d = '${n[6]}';`].join('\n'),
      '.env': [`API_TOKEN=${t[10]}`, `QUOTED_TOKEN="${t[11]}"`, `export DEPLOY_TOKEN=${t[12]}`, `OLD_TOKEN=${n[2]}`, `LONG=${n[8]}`].join('\n'),
      'deploy/values.yaml': [`auth:`, `  token: ${t[13]}`, `  backup: '${t[14]}'`, `  legacy: ${n[4]}`, `  upper: ${n[10]}`].join('\n'),
      'docs/notes.md': [
        `${t[15]} at the start of a line`,
        `inline \`${t[16]}\` code and (${t[17]}) in parentheses, then ${n[3]}`,
        `near: ${n[5]} ${n[7]} ${n[11]}`,
        `last, no newline: ${t[18]},${t[19]}`,
      ].join('\n'),
    };
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(fixtures, name, '..'), { recursive: true });
      await writeFile(join(fixtures, name), text);
    }
    await writeFile(join(dir, 'secretlintrc.json'), docBlock('docs/leaked-tokens.md', 'secretlintrc'));
  });
  afterAll(async () => {
    await auth?.close();
    await removeTempDir(dir);
  });

  test('every real token is reported, no near-miss but the wrong-CRC ones; the CLI keeps exactly the real tokens and revokes them', async () => {
    const started = Date.now();
    const scan = await secretlint(fixtures, [
      '**/*',
      '--secretlintrc',
      join(dir, 'secretlintrc.json'),
      '--format',
      'compact',
      '--no-maskSecrets',
      '--no-color',
    ]);
    const scanMs = Date.now() - started;
    expect(scan.stderr).toBe('');
    expect(scan.code).toBe(1); // 1 = findings reported
    const reported = [...scan.stdout.matchAll(new RegExp(`found matching ${RULE_NAME}: (\\S+) \\(`, 'g'))].map((m) => m[1]);
    const realTokens = real.map((r) => r.token);
    const wrongCrc = nearMisses.filter((m) => m.kind === 'wrong CRC').map((m) => m.value);
    // The scanner: every real token, once; of the near-misses only those a regex cannot tell (CRC).
    expect([...reported].sort()).toEqual([...realTokens, ...wrongCrc].sort());
    for (const m of nearMisses.filter((x) => x.kind !== 'wrong CRC')) expect(scan.stdout).not.toContain(m.value.slice(8, 30));
    // Every line of the report is one finding, all in the files written above (the .env file included).
    expect(new Set([...scan.stdout.matchAll(/^(.+): line \d+, col \d+, Error/gm)].map((m) => m[1].slice(fixtures.length + 1)))).toEqual(
      new Set(['logs/access.log', 'config/service.json', 'src/client.ts', '.env', 'deploy/values.yaml', 'docs/notes.md']),
    );
    // Candidates in the report by the pattern alone include the wrong-CRC ones; the CRC check drops them.
    expect([...scan.stdout.matchAll(tokenPattern('esa'))].length).toBe(reported.length);
    expect(findTokens(scan.stdout, 'esa').sort()).toEqual([...realTokens].sort());

    const revoked = await runCli(['tokens', 'revoke-leaked', '-', '--config', config, '--json'], { env: process.env, input: scan.stdout });
    expect(revoked.stderr).toBe('');
    expect(revoked.code).toBe(0);
    const out = JSON.parse(revoked.stdout);
    expect(out).toMatchObject({ found: 20, verified: 20, revoked: 20, not_checked: 0, error: null });
    expect(out.tokens.map((x: { id: string }) => x.id).sort()).toEqual(real.map((r) => r.id).sort());
    for (const r of real) expect(await auth.tokens.verify(r.token)).toBeNull();
    console.log(
      `secretlint: ${realTokens.length}/${realTokens.length} real tokens reported, ${reported.length - realTokens.length} wrong-CRC candidates ` +
        `(dropped by the CRC check), 0/${nearMisses.length - wrongCrc.length} other near-misses; scan ${scanMs} ms; revoke-leaked: ${out.found} found, ${out.revoked} revoked`,
    );
  });
});
