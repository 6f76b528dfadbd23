// The Vault transport's request line and headers, seen by a plain loopback HTTP server that
// echoes them (not a Vault: only what node:http puts on the wire is under test here).
import { createServer, type Server } from 'node:http';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTransport } from '../../lib/providers/vault-transport';

describe('vault transport (vault-transport.ts)', () => {
  let server: Server;
  let origin: string;
  const agent = new http.Agent({ keepAlive: true });
  const send = createTransport(agent, 2_000).defaults();
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null, token: req.headers['x-vault-token'] ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a plain path and its query as they are', async () => {
    const res = await send({ method: 'GET', uri: `${origin}/v1/secret/data/sessions/sess:abc%3Ad?list=true`, headers: { 'X-Vault-Token': 't' } });
    expect(res.body).toEqual({ url: '/v1/secret/data/sessions/sess:abc%3Ad?list=true', authorization: null, token: 't' });
    expect(res.request.path).toBe('/v1/secret/data/sessions/sess:abc%3Ad?list=true');
  });

  it('percent-encodes what a URL would (a space, non-ASCII) instead of failing', async () => {
    const res = await send({ method: 'POST', uri: `${origin}/v1/auth/my approle/é/login`, json: { role_id: 'r' } });
    expect((res.body as { url: string }).url).toBe('/v1/auth/my%20approle/%C3%A9/login');
  });

  it('sends user:password from the address as Basic auth', async () => {
    const res = await send({ method: 'GET', uri: origin.replace('http://', 'http://proxy%20user:p%40ss@') + '/v1/sys/leader' });
    expect((res.body as { authorization: string }).authorization).toBe(`Basic ${Buffer.from('proxy user:p@ss').toString('base64')}`);
  });
});
