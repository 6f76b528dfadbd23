// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these specs are about the ${...} reference syntax
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findSecretRefs, hasSecretRefs, parseSecretRefs, resolveSecretRefs } from '../../lib/config/refs';
import { createFileProvider, createMemoryProvider, type SecretProvider, SecretReferenceError } from '../../lib';
import { removeTempDir, tempDir } from '../support/temp-dir';

const DB_PASSWORD = 'pa55-w0rd-DB-secret';
const CI_TOKEN = 'esa_ci-token-secret-value';

async function rejection(promise: Promise<unknown>): Promise<SecretReferenceError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretReferenceError);
  return err as SecretReferenceError;
}

describe('resolveSecretRefs', () => {
  let dir: string;
  let providers: Record<string, SecretProvider>;
  const env = { APP_USER: 'app', EMPTY: '' };

  beforeAll(async () => {
    dir = await tempDir('esa-refs-');
    const memory = createMemoryProvider();
    const file = createFileProvider({ basePath: dir });
    await memory.put('flipt/tokens/ci-token', { value: CI_TOKEN, other: 'unused-secret' });
    await memory.put('numbers', { port: 5432, enabled: true, nested: { a: 1 }, nothing: null });
    await file.put('apps/my.app/v1.2/db', { password: DB_PASSWORD, user: 'db-user' });
    await file.put('ns:team/db', { password: DB_PASSWORD });
    await fs.mkdir(path.join(dir, 'mounted'), { recursive: true });
    await fs.writeFile(path.join(dir, 'mounted', 'token'), 'from-a-mounted-file');
    providers = { memory, file };
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  describe('syntaxes', () => {
    it('resolves {{ secret.<provider>.<path>.<key> }}, with or without whitespace', async () => {
      const out = await resolveSecretRefs(
        {
          a: '{{ secret.memory.flipt/tokens/ci-token.value }}',
          b: '{{secret.memory.flipt/tokens/ci-token.value}}',
          c: '{{   secret.memory.flipt/tokens/ci-token.value   }}',
        },
        providers,
      );
      expect(out).toEqual({ a: CI_TOKEN, b: CI_TOKEN, c: CI_TOKEN });
    });

    it('resolves ${secret:<provider>:<path>:<key>} with "/" and ":" in the path', async () => {
      const out = await resolveSecretRefs(['${secret:file:apps/my.app/v1.2/db:password}', '${secret:file:ns:team/db:password}'], providers);
      expect(out).toEqual([DB_PASSWORD, DB_PASSWORD]);
    });

    it('resolves ${env:NAME}, including an empty value', async () => {
      expect(await resolveSecretRefs({ user: '${env:APP_USER}', empty: '${env:EMPTY}' }, providers, { env })).toEqual({ user: 'app', empty: '' });
    });

    it('reads process.env by default', async () => {
      process.env.ESA_REFS_SPEC = 'from-process';
      try {
        expect(await resolveSecretRefs('${env:ESA_REFS_SPEC}', {})).toBe('from-process');
      } finally {
        delete process.env.ESA_REFS_SPEC;
      }
    });

    it('takes the path as everything between the provider and the last dot', async () => {
      expect(await resolveSecretRefs('{{ secret.file.apps/my.app/v1.2/db.password }}', providers)).toBe(DB_PASSWORD);
    });

    it('reads a plain-text file of the file provider through the key "value"', async () => {
      expect(await resolveSecretRefs('{{ secret.file.mounted/token.value }}', providers)).toBe('from-a-mounted-file');
    });
  });

  describe('embedding', () => {
    it('replaces a reference inside a longer string', async () => {
      expect(await resolveSecretRefs('Bearer {{ secret.memory.flipt/tokens/ci-token.value }}!', providers)).toBe(`Bearer ${CI_TOKEN}!`);
    });

    it('replaces several references of every syntax in one string', async () => {
      const out = await resolveSecretRefs(
        'postgres://${env:APP_USER}:{{ secret.file.apps/my.app/v1.2/db.password }}@db:${secret:memory:numbers:port}/x?u={{secret.file.apps/my.app/v1.2/db.user}}',
        providers,
        { env },
      );
      expect(out).toBe(`postgres://app:${DB_PASSWORD}@db:5432/x?u=db-user`);
    });

    it('stringifies non-string values, embedded or whole', async () => {
      const out = await resolveSecretRefs(
        { port: '${secret:memory:numbers:port}', on: 'on={{ secret.memory.numbers.enabled }}', nested: '{{ secret.memory.numbers.nested }}' },
        providers,
      );
      expect(out).toEqual({ port: '5432', on: 'on=true', nested: '{"a":1}' });
    });

    it('walks nested objects and arrays, keeps other values, and does not modify its input', async () => {
      const buffer = Buffer.from('keep');
      const input = {
        list: ['plain', { token: '{{ secret.memory.flipt/tokens/ci-token.value }}' }],
        count: 3,
        flag: false,
        none: null,
        buffer,
      };
      const snapshot = JSON.stringify(input);
      const out = await resolveSecretRefs(input, providers);
      expect(out).toEqual({ list: ['plain', { token: CI_TOKEN }], count: 3, flag: false, none: null, buffer });
      expect(out.buffer).toBe(buffer);
      expect(JSON.stringify(input)).toBe(snapshot);
    });

    it('leaves strings without references alone, including other templates', async () => {
      const input = ['{{ not.a.secret }}', '${HOME}', '$ {env:X}', 'secret.memory.a.b'];
      expect(await resolveSecretRefs(input, providers)).toEqual(input);
    });
  });

  it('reads each distinct (provider, path) once per resolution', async () => {
    const get = jest.spyOn(providers.file, 'get');
    try {
      await resolveSecretRefs(
        [
          '{{ secret.file.apps/my.app/v1.2/db.password }}',
          '${secret:file:apps/my.app/v1.2/db:user}',
          'x {{ secret.file.apps/my.app/v1.2/db.password }} {{ secret.file.apps/my.app/v1.2/db.user }}',
          '{{ secret.file.ns:team/db.password }}',
        ],
        providers,
      );
      expect(get.mock.calls.map(([p]) => p).sort()).toEqual(['apps/my.app/v1.2/db', 'ns:team/db']);
    } finally {
      get.mockRestore();
    }
  });

  describe('errors name the reference, never a value', () => {
    const secrets = [DB_PASSWORD, CI_TOKEN, 'unused-secret', 'db-user'];
    function expectNoSecrets(err: Error): void {
      for (const s of secrets) expect(err.message).not.toContain(s);
    }

    it('on a missing provider', async () => {
      const ref = '{{ secret.vault.flipt/tokens/ci-token.value }}';
      const err = await rejection(resolveSecretRefs({ token: ref }, providers));
      expect(err.reference).toBe(ref);
      expect(err.message).toContain(ref);
      expect(err.message).toMatch(/no provider named "vault".*available: memory, file/);
    });

    it('on a missing path', async () => {
      const ref = '${secret:memory:flipt/tokens/absent:value}';
      const err = await rejection(resolveSecretRefs(`x ${ref}`, providers));
      expect(err.message).toContain(ref);
      expect(err.message).toContain('provider "memory" has no secret at "flipt/tokens/absent"');
    });

    it('on a missing key, without the values of the keys that exist', async () => {
      const ref = '{{ secret.memory.flipt/tokens/ci-token.nokey }}';
      const err = await rejection(resolveSecretRefs(['{{ secret.file.apps/my.app/v1.2/db.password }}', `${ref}`], providers));
      expect(err.message).toContain(ref);
      expect(err.message).toContain('has no key "nokey"');
      expectNoSecrets(err);
    });

    it('on a key whose value is null', async () => {
      const err = await rejection(resolveSecretRefs('{{ secret.memory.numbers.nothing }}', providers));
      expect(err.message).toContain('has no key "nothing"');
    });

    it('on a missing environment variable, even when other parts of the string resolved', async () => {
      const err = await rejection(resolveSecretRefs('{{ secret.file.apps/my.app/v1.2/db.password }}:${env:NOT_SET_ANYWHERE}', providers, { env }));
      expect(err.reference).toBe('${env:NOT_SET_ANYWHERE}');
      expect(err.message).toContain('environment variable NOT_SET_ANYWHERE is not set');
      expectNoSecrets(err);
    });

    it('on a malformed reference', async () => {
      for (const ref of ['{{ secret.memory.onlytwo }}', '${secret:memory:nokey}', '${env:1BAD}', '{{ secret.bad name.a.b }}']) {
        const err = await rejection(resolveSecretRefs(ref, providers));
        expect(err.message).toContain(ref);
        expect(err.message).toContain('malformed reference');
      }
    });

    it('on an unterminated reference, without the text around it', async () => {
      const err = await rejection(resolveSecretRefs(`${CI_TOKEN}{{ secret.memory.a.b`, providers));
      expect(err.message).toContain('unterminated reference');
      expectNoSecrets(err);
    });

    it('on an invalid path, before any read', async () => {
      const err = await rejection(resolveSecretRefs('{{ secret.memory.../etc/passwd.value }}', providers));
      expect(err.message).toContain('reading "../etc/passwd" from provider "memory" failed');
    });

    it('when the provider fails, keeping the cause', async () => {
      const encrypted = createFileProvider({ basePath: dir, encryptionKey: 'a'.repeat(64) });
      await encrypted.put('enc/db', { password: DB_PASSWORD });
      const wrongKey = createFileProvider({ basePath: dir, encryptionKey: 'b'.repeat(64) });
      const err = await rejection(resolveSecretRefs('{{ secret.file.enc/db.password }}', { file: wrongKey }));
      expect(err.message).toMatch(/reading "enc\/db" from provider "file" failed: Cannot decrypt/);
      expect(err.cause).toBeInstanceOf(Error);
      expectNoSecrets(err);
    });
  });
});

describe('finding references', () => {
  it('parses each syntax into its parts', () => {
    expect(parseSecretRefs('{{ secret.vault.a/b.c.key }} ${secret:file:x/y:z:k} ${env:HOME}')).toEqual([
      { kind: 'secret', raw: '{{ secret.vault.a/b.c.key }}', provider: 'vault', path: 'a/b.c', key: 'key' },
      { kind: 'secret', raw: '${secret:file:x/y:z:k}', provider: 'file', path: 'x/y:z', key: 'k' },
      { kind: 'env', raw: '${env:HOME}', name: 'HOME' },
    ]);
  });

  it('says whether a value holds references and where', () => {
    expect(hasSecretRefs({ a: ['x', { b: 'plain' }], n: 1 })).toBe(false);
    expect(hasSecretRefs({ a: ['x', { b: 'y ${env:X}' }] })).toBe(true);
    expect(hasSecretRefs('{{ secret.bad }}')).toBe(true);
    expect(findSecretRefs({ a: ['x', { b: '${env:X}' }] })).toEqual([{ location: ['a', 1, 'b'], ref: { kind: 'env', raw: '${env:X}', name: 'X' } }]);
  });
});

describe('hostile input', () => {
  it('keeps a "__proto__" key as a plain key', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": "{{ secret.memory.p.v }}"}}') as Record<string, unknown>;
    const memory = createMemoryProvider();
    await memory.put('p', { v: 'x' });
    const out = await resolveSecretRefs(input, { memory });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 'x' });
  });
});
