// The controller's client of the edge's seat listener: a change the edge does not take waits,
// the newest per seat, and is sent again once the edge answers; changes go one at a time, in the
// order they were made, so a seat's removal never lands before its older set. Driven against a
// local HTTP server standing in for the listener's transport (the listener itself is proved
// against real Kamailio in test/integration/edge.test.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import t from 'tap';

import { EdgeSeatClient } from '../../src/edge/seat-client.js';
import { until } from '../helpers/lab.js';

async function listener(): Promise<{
  port: number;
  seen: string[];
  up: boolean;
  slowMs: number;
  mostAtOnce: number;
  close(): Promise<void>;
}> {
  const state = { seen: [] as string[], up: false, slowMs: 0, mostAtOnce: 0 };
  let inFlight = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (!state.up) {
        res.writeHead(503).end();
        return;
      }
      const rpc = JSON.parse(body) as { method: string; params: string[]; id: number };
      state.mostAtOnce = Math.max(state.mostAtOnce, ++inFlight);
      setTimeout(() => {
        inFlight--;
        state.seen.push(`${rpc.method} ${rpc.params[1]}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', result: {}, id: rpc.id }));
      }, state.slowMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

const logger = pino({ level: 'silent' });

t.test('an edge out of reach gets the newest change of each seat once it answers', async (t) => {
  const edge = await listener();
  const client = new EdgeSeatClient({ host: '127.0.0.1', rpcPort: edge.port }, 'token', logger, 1_000, 50);
  t.teardown(async () => {
    client.close();
    await edge.close();
  });
  t.equal(await client.tell('set', 'agent-a', 'pw-a'), false, 'the edge refused: not taken');
  t.equal(client.waiting, 1, 'it waits');
  t.equal(await client.tell('remove', 'agent-a'), false, 'a newer change of the same seat');
  t.equal(await client.tell('set', 'sup-x', 'pw-x'), false, 'and another seat');
  t.equal(client.waiting, 2, 'one change per seat waits, the newest');
  edge.up = true;
  await until('the waiting changes sent', () => client.waiting === 0, 3_000, 10);
  t.same(edge.seen, ['htable.delete agent-a', 'htable.sets sup-x'], 'the removal, not the older set; then the other');
  t.equal(await client.tell('set', 'agent-b', 'pw-b'), true, 'and the next change goes at once');
  t.same(edge.seen.at(-1), 'htable.sets agent-b');
});

t.test('changes made together reach the edge one at a time, in the order made', async (t) => {
  const edge = await listener();
  edge.up = true;
  edge.slowMs = 20;
  const client = new EdgeSeatClient({ host: '127.0.0.1', rpcPort: edge.port }, 'token', logger, 1_000, 50);
  t.teardown(async () => {
    client.close();
    await edge.close();
  });
  const told = await Promise.all([
    client.tell('set', 'agent-c', 'pw-c'),
    client.tell('remove', 'agent-c'),
    client.tell('set', 'agent-d', 'pw-d'),
    client.tell('set', 'agent-e', 'pw-e'),
  ]);
  t.same(told, [true, true, true, true]);
  t.equal(edge.mostAtOnce, 1, 'one request at a time');
  t.same(
    edge.seen,
    ['htable.delete agent-c', 'htable.sets agent-d', 'htable.sets agent-e'],
    'the set overtaken by its removal is not sent',
  );
  t.equal(client.waiting, 0);
});
