// The ARI client's guard (src/asterisk/ari.ts guardBy): while the guard says no, a request is
// refused before anything leaves the process; the moment it says yes, requests go out again.
// Against a local HTTP server standing in for Asterisk's REST port (it only counts requests:
// what is tested is whether the client sends, not what Asterisk does).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import t from 'tap';

import { AriClient } from '../../src/asterisk/ari.js';
import { AriError } from '../../src/errors/index.js';

t.test('a guarded client sends nothing while the guard says no', async (t) => {
  let received = 0;
  const server = createServer((_req, res) => {
    received++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const ari = new AriClient({
    url: `http://127.0.0.1:${port}`,
    username: 'u',
    password: 'p',
    app: 'rexian',
    logger: pino({ level: 'silent' }),
  });
  t.same(await ari.request('GET', '/channels'), [], 'unguarded: sent');
  t.equal(received, 1);
  let may = false;
  ari.guardBy(() => may);
  const refused = await ari.request('POST', '/bridges/b1/addChannel', { channel: 'c1' }).catch((e: unknown) => e);
  t.type(refused, AriError);
  t.match((refused as Error).message, /no longer holds its ARI lease/);
  t.equal(received, 1, 'nothing reached the server');
  may = true;
  await ari.request('GET', '/channels');
  t.equal(received, 2, 'allowed again: sent');
});
