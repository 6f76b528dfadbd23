// One error hierarchy: every error class the package exports is a SecretsAuthError with an
// upper-case code, and describeError (the one way an error reaches a log line) never prints a
// foreign error's message.
import express from 'express';
import request from 'supertest';
import * as lib from '../lib';
import {
  ApiError,
  BackendError,
  BackendUnavailableError,
  ConfigError,
  ConflictError,
  DecryptionError,
  DeliveryRefusedError,
  describeError,
  generateToken,
  InvalidPathError,
  InvalidSessionIdError,
  LimitBusyError,
  PermissionDeniedError,
  SecretNotFoundError,
  SecretReferenceError,
  SecretsAuthError,
  TokenError,
  watchSecretRefs,
} from '../lib';
import { AutoRotator } from '../lib/admin/auto-rotate';
import { errorHandler } from '../lib/admin/errors';
import type { TokenAdminBackend } from '../lib/admin/types';
import { UsageError } from '../lib/cli/usage';
import { parseDuration } from '../lib/shared/duration';
import { LockLostError } from '../lib/providers/file-lock';

const UPPER_CODE = /^[A-Z][A-Z0-9_]*$/;

/** One instance of every error class the package exports, by export name. */
const SAMPLES: Record<string, () => Error> = {
  SecretsAuthError: () => new SecretsAuthError('SOME_CODE', 'm'),
  BackendError: () => new BackendError('m'),
  BackendUnavailableError: () => new BackendUnavailableError('m'),
  ConfigError: () => new ConfigError('m'),
  ConflictError: () => new ConflictError('p'),
  DecryptionError: () => new DecryptionError('p'),
  InvalidPathError: () => new InvalidPathError('r'),
  InvalidSessionIdError: () => new InvalidSessionIdError('r'),
  PermissionDeniedError: () => new PermissionDeniedError('p', 'read'),
  SecretNotFoundError: () => new SecretNotFoundError('p'),
  SecretReferenceError: () => new SecretReferenceError('{{ secret.file.a.b }}', 'r'),
  LimitBusyError: () => new LimitBusyError(),
  TokenError: () => new TokenError('TOKEN_NOT_FOUND', 'm'),
  ApiError: () => new ApiError(400, 'invalid_request', 'm'),
  DeliveryRefusedError: () => new DeliveryRefusedError('m'),
};

const publicApi = lib as unknown as Record<string, unknown>;
const isErrorClass = (value: unknown): value is new (...args: never[]) => Error =>
  typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error;
const exportedErrorClasses = (): string[] =>
  Object.keys(publicApi)
    .filter((name) => isErrorClass(publicApi[name]))
    .sort();

describe('one error hierarchy', () => {
  test('every exported error class derives from SecretsAuthError', () => {
    const classes = exportedErrorClasses();
    expect(classes.length).toBeGreaterThan(0);
    for (const name of classes) {
      const value = publicApi[name] as { prototype: unknown };
      expect([name, value === SecretsAuthError || value.prototype instanceof SecretsAuthError]).toEqual([name, true]);
    }
  });

  test('every exported error class has a sample here, and each sample has a stable upper-case code and its class name', () => {
    expect(exportedErrorClasses()).toEqual(Object.keys(SAMPLES).sort());
    for (const [name, make] of Object.entries(SAMPLES)) {
      const err = make();
      expect(err).toBeInstanceOf(SecretsAuthError);
      expect(err).toBeInstanceOf(publicApi[name] as new (...args: never[]) => Error);
      expect(err.name).toBe(name);
      expect((err as SecretsAuthError<string>).code).toMatch(UPPER_CODE);
    }
  });

  test('internal errors are SecretsAuthErrors too (LockLostError, the CLI usage error)', () => {
    expect(new LockLostError()).toBeInstanceOf(SecretsAuthError);
    expect(new LockLostError().code).toBe('LOCK_LOST');
    expect(new UsageError('create needs --name')).toBeInstanceOf(SecretsAuthError);
    expect(new UsageError('create needs --name').code).toBe('USAGE');
  });

  test('ApiError: upper-case code, the HTTP body keeps its lower-case code (wire format unchanged)', async () => {
    expect(new ApiError(404, 'not_found', 'm')).toMatchObject({ status: 404, code: 'NOT_FOUND', wireCode: 'not_found' });
    expect(new DeliveryRefusedError('m')).toMatchObject({ status: 409, code: 'DELIVERY_REFUSED', wireCode: 'delivery_refused' });
    const app = express();
    app.get('/x', (_req, _res, next) => next(new DeliveryRefusedError('Choose another delivery path.')));
    app.use(errorHandler({ info: () => undefined, warn: () => undefined }));
    const res = await request(app).get('/x');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: 'delivery_refused', message: 'Choose another delivery path.' } });
  });

  test.each(['5x', '-5s', 'abc'])('a bad duration (%p) is a ConfigError, code CONFIG_ERROR', (input) => {
    const err = (() => {
      try {
        parseDuration(input);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SecretsAuthError);
    expect(err).toMatchObject({ code: 'CONFIG_ERROR' });
  });

  test('a bad refreshIntervalMs is a ConfigError, code CONFIG_ERROR', async () => {
    const err = await watchSecretRefs('x', {}, { refreshIntervalMs: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsAuthError);
    expect(err).toMatchObject({ code: 'CONFIG_ERROR' });
  });
});

describe('describeError', () => {
  const { token } = generateToken('esa');

  test('a SecretsAuthError: its message, name and code', () => {
    const line = describeError(new SecretNotFoundError('app/db'));
    expect(line).toContain('No secret at "app/db"');
    expect(line).toContain('SecretNotFoundError');
    expect(line).toContain('SECRET_NOT_FOUND');
  });

  test('a foreign error: its name and short code, never its message', () => {
    const err = Object.assign(new Error(`connect failed for Bearer ${token}`), { code: 'ECONNREFUSED' });
    expect(describeError(err)).toBe('Error (ECONNREFUSED)');
    expect(describeError(new TypeError(`bad header ${token}`))).toBe('TypeError');
  });

  test('a foreign error whose name or code is free text shows neither', () => {
    const named = new Error('x');
    named.name = `Bearer ${token}`;
    expect(describeError(named)).toBe('Error');
    const coded = Object.assign(new Error('x'), { code: token });
    expect(describeError(coded)).toBe('Error');
    expect(describeError(Object.assign(new Error('x'), { code: `E ${token}` }))).toBe('Error');
  });

  test('a thrown non-Error shows only its type', () => {
    expect(describeError(token)).toBe('a thrown string (not an Error)');
    expect(describeError({ token })).toBe('a thrown object (not an Error)');
    expect(describeError(null)).toBe('a thrown null (not an Error)');
    expect(describeError(undefined)).not.toContain('esa_');
  });

  test("log lines go through it: auto-rotate and the admin router never print a foreign error's message", async () => {
    const logs: string[] = [];
    const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const leaky = () => Object.assign(new Error(`upstream said: token=${token}`), { code: 'ECONNRESET' });
    const rotator = new AutoRotator({
      tokens: { list: () => Promise.reject(leaky()) } as unknown as TokenAdminBackend,
      target: { provider: lib.createMemoryProvider(), prefix: 'token-delivery' },
      graceSeconds: 0,
      intervalMs: 60_000,
      logger,
      now: () => Date.now(),
      audit: async () => undefined,
    });
    await expect(rotator.runOnce()).resolves.toEqual([]);

    const app = express();
    app.get('/x', () => {
      throw leaky();
    });
    app.use(errorHandler(logger));
    const res = await request(app).get('/x');
    expect(res.status).toBe(500);

    expect(logs).toHaveLength(2);
    for (const line of logs) {
      expect(line).toContain('Error (ECONNRESET)');
      expect(line).not.toContain(token);
      expect(line).not.toContain('upstream said');
    }
  });
});
