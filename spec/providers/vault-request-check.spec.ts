// node-vault's `tv4` hook (vault-request-check.ts): node-vault must still call it the way the
// hook assumes (`validate(options)`, then reject with `.error`), or requests would go unchecked.
import createVaultClient from 'node-vault';
import { requestCheck } from '../../lib/providers/vault-request-check';

describe('node-vault request check (vault-request-check.ts)', () => {
  const sent: { method: string; uri: string }[] = [];
  const client = createVaultClient({
    'request-promise': {
      defaults: () => async (req: { method: string; uri: string }) => {
        sent.push({ method: req.method, uri: req.uri });
        return { statusCode: 200, body: { ok: true }, request: { path: '/' } };
      },
    },
    tv4: requestCheck as unknown as () => unknown,
    debug: () => undefined,
    endpoint: 'http://127.0.0.1:1',
    token: '',
  });
  beforeEach(() => {
    sent.length = 0;
  });

  it('lets a request with a string path and method through', async () => {
    await expect(client.request({ path: '/secret/data/a', method: 'GET' })).resolves.toEqual({ ok: true });
    expect(sent).toEqual([{ method: 'GET', uri: 'http://127.0.0.1:1/v1/secret/data/a' }]);
  });

  it.each([
    ['no path', { method: 'GET' }],
    ['a path that is not a string', { path: 7, method: 'GET' }],
    ['no method', { path: '/secret/data/a' }],
  ])('refuses %s with a TypeError, before anything is sent', async (_what, options) => {
    await expect(client.request(options as { path: string; method: string })).rejects.toThrow(TypeError);
    await expect(client.request(options as { path: string; method: string })).rejects.toThrow('node-vault request: path and method must be strings');
    expect(sent).toEqual([]);
  });
});
