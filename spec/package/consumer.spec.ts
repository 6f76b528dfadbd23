// The shipped package as a user gets it: `npm pack`, installed into a fresh project, compiled with
// `strict: true, skipLibCheck: false` on the pinned TypeScript in both `import` and `require`
// styles, then loaded by Node both ways.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Consumer, packedConsumer, ROOT, typecheck } from './consumer';
import { removeTempDir } from '../support/temp-dir';

const USES = `
const provider = createMemoryProvider();
const store = new SecretsSessionStore({ provider, prefix: 'sess:', ttl: 3600, touchAfter: 60 });
store.on('create', (sid: string) => void sid);
const tokens = new TokenStore({ provider, path: 'api-tokens' });
const guard = bearerAuth({ tokens, scopes: ['read'] });
const router = tokenAdminRouter({ tokens });
const token: StaticTokenConfig = { name: 'ci', credential: 'x', scopes: ['read'] };
const tokenConfig: NonNullable<AuthConfig['authentication']['methods']['token']>['tokens'][number] | undefined = undefined;
const maybeConfig: AuthConfig | undefined = undefined;
const code: ErrorCode = 'INVALID_SESSION_ID';
async function boot(): Promise<ConfiguredAuth> {
  return createAuthFromConfig('config.yml');
}
export const used = [store, guard, router, token, tokenConfig, maybeConfig, code, boot];
`;

const NAMES = 'createMemoryProvider, SecretsSessionStore, TokenStore, bearerAuth, tokenAdminRouter, createAuthFromConfig';
const TYPES = 'type AuthConfig, type ConfiguredAuth, type ErrorCode, type StaticTokenConfig';

describe('the packed tarball in a consumer project', () => {
  let consumer: Consumer;
  beforeAll(async () => {
    consumer = await packedConsumer();
    await writeFile(join(consumer.dir, 'esm.mts'), `import { ${NAMES}, ${TYPES} } from 'express-secrets-auth';\n${USES}`);
    await writeFile(
      join(consumer.dir, 'cjs.cts'),
      `import esa = require('express-secrets-auth');\nconst { ${NAMES} } = esa;\ntype AuthConfig = esa.AuthConfig;\ntype ConfiguredAuth = esa.ConfiguredAuth;\ntype ErrorCode = esa.ErrorCode;\ntype StaticTokenConfig = esa.StaticTokenConfig;\n${USES}`,
    );
    for (const [name, files, moduleKind] of [
      ['tsconfig.nodenext.json', ['esm.mts', 'cjs.cts'], 'nodenext'],
      ['tsconfig.bundler.json', ['esm.mts'], 'preserve'],
    ] as const) {
      const compilerOptions = {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'ES2022',
        module: moduleKind,
        moduleResolution: moduleKind === 'nodenext' ? 'nodenext' : 'bundler',
        types: ['node'],
      };
      await writeFile(join(consumer.dir, name), JSON.stringify({ compilerOptions, files }, null, 2));
    }
  }, 120_000);
  afterAll(async () => {
    if (consumer) await removeTempDir(consumer.dir);
  });

  test('the tarball holds dist (with .d.ts), README and no specs or sources', () => {
    const list = execFileSync('tar', ['-tzf', consumer.tarball], { encoding: 'utf8' }).split('\n');
    expect(list).toEqual(expect.arrayContaining(['package/dist/index.d.ts', 'package/dist/index.mjs', 'package/dist/config/schema.d.ts', 'package/README.md']));
    expect(list.filter((f) => f.startsWith('package/spec/') || f.startsWith('package/lib/'))).toEqual([]);
  });

  test('import and require consumers compile with strict: true, skipLibCheck: false (module nodenext)', () => {
    const pinned = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
    const locked = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages['node_modules/typescript'].version;
    expect(pinned).toBe(locked);
    const result = typecheck(consumer.dir, 'tsconfig.nodenext.json');
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);

  test('an import consumer compiles with moduleResolution bundler too', () => {
    const result = typecheck(consumer.dir, 'tsconfig.bundler.json');
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);

  test('node loads the installed package with require and with import', () => {
    const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: consumer.dir, encoding: 'utf8' }).trim();
    expect(run(['-e', "console.log(typeof require('express-secrets-auth').SecretsSessionStore)"])).toBe('function');
    expect(run(['--input-type=module', '-e', "import { SecretsSessionStore } from 'express-secrets-auth'; console.log(typeof SecretsSessionStore)"])).toBe(
      'function',
    );
  });
});
