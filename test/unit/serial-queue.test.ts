import t from 'tap';

import { SerialQueue } from '../../src/calls/serial-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('tasks of one key run one at a time in arrival order, other keys interleave', async (t) => {
  const seen: string[] = [];
  const q = new SerialQueue(() => {});
  void q.push('a', async () => {
    await sleep(30);
    seen.push('a1');
  });
  void q.push('b', async () => {
    seen.push('b1');
  });
  void q.push('a', async () => {
    seen.push('a2');
  });
  await q.drain();
  t.same(seen, ['b1', 'a1', 'a2']);
  t.equal(q.size, 0, 'idle keys are forgotten');
});

t.test('a failing task is reported and does not block the next one', async (t) => {
  const errors: unknown[] = [];
  const q = new SerialQueue((_key, err) => errors.push(err));
  let ran = false;
  void q.push('a', async () => {
    throw new Error('boom');
  });
  void q.push('a', async () => {
    ran = true;
  });
  await q.drain();
  t.equal(ran, true);
  t.equal(errors.length, 1);
});
