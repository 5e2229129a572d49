// The outbox append under Sentinel waits for a replica (WAIT): against the machine's Redis,
// which has none, a record asked to reach one replica is refused as not kept (the call's end
// tries again), and it is not dropped: it is in the stream, for the writer.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import t from 'tap';

import { RecordNotReplicated, RecordOutbox } from '../../src/records/outbox.js';
import type { StoredRecord } from '../../src/records/record-rows.js';
import { setReplicaAck } from '../../src/store/redis.js';
import { deleteKeys } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

const record = (callId: string): StoredRecord => ({ callId }) as unknown as StoredRecord;

t.test('a record no replica confirmed within the timeout is refused, and kept in the outbox', async (t) => {
  const prefix = `rexian-test:outbox-wait:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(redis, prefix));
  const replicas = Number(/connected_slaves:(\d+)/.exec(await redis.info('replication'))?.[1] ?? 0);
  t.equal(replicas, 0, 'the machine’s Redis has no replica');
  const outbox = new RecordOutbox(redis, prefix);

  await outbox.add(record('plain'));
  t.equal(await redis.xlen(outbox.key), 1, 'without replicas asked for, an append is kept at once');

  setReplicaAck(redis, { replicas: 1, timeoutMs: 200 });
  t.teardown(() => setReplicaAck(redis, undefined));
  const startedAt = Date.now();
  const adding = outbox.add(record('waited')).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 50));
  await redis.ping();
  const pingedAfter = Date.now() - startedAt;
  const err = await adding;
  t.ok(pingedAfter < 150, `the main connection answered during the WAIT (${pingedAfter} ms): WAIT has its own`);
  t.ok(err instanceof RecordNotReplicated, 'refused: on the master only');
  t.match(err, { callId: 'waited', replicas: 0, wanted: 1, timeoutMs: 200 });
  t.ok(Date.now() - startedAt >= 190, 'after waiting the timeout for a replica');
  const entries = await redis.xrange(outbox.key, '-', '+');
  t.same(
    entries.map(([, f]) => (JSON.parse(f[1]!) as { callId: string }).callId),
    ['plain', 'waited'],
    'the refused record is still in the outbox',
  );
});
