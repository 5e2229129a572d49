// Virtual-number bindings on real Redis: a free X for each binding and never one in use,
// exact expiry that frees X by itself, extend, unbind, a case's bindings, routing decisions
// (A reaches B, B reaches A, anyone else is refused), call limits, and an audit of it all.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import t from 'tap';

import { BindingStore } from '../../src/masking/bindings.js';
import { parsePool } from '../../src/masking/pool.js';
import { deleteKeys, sleep, streamEntries } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
const prefix = `rexian-test:masking:${randomBytes(4).toString('hex')}`;
const pool = parsePool('virtual-numbers.yaml', 'numbers:\n  - { from: "02367721000", count: 2 }\n  - "02367729999"\n');
const store = new BindingStore(redis, prefix, () => pool.numbers, { ttlHours: 72, maxCalls: 2 });
const A = '02388880001';
const B = '13800000401';

t.teardown(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

t.test('the pool file: ranges expand, a number twice is named', async (t) => {
  t.same(pool.numbers, ['02367721000', '02367721001', '02367729999']);
  t.throws(
    () => parsePool('v.yaml', 'numbers:\n  - "02367721000"\n  - { from: "02367720999", count: 2 }\n'),
    /v\.yaml:3:5: virtual number 02367721000 is listed twice/,
  );
});

t.test('each binding gets a free X; a full pool is a clear error; a taken X is refused', async (t) => {
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await store.bind({ a: A, b: `1380000041${i}`, caseId: 'C-1' }, 'ticketing'));
  t.same(made.map((b) => b.x).sort(), pool.numbers, 'three bindings, three different numbers');
  await t.rejects(store.bind({ a: A, b: '13800000499' }, 'ticketing'), {
    code: 'REXIAN_POOL_EXHAUSTED',
    message: /every one of the 3 virtual numbers is bound/,
  });
  await store.unbind(made[0]!.id, 'ticketing');
  await t.rejects(
    store.bind({ a: A, b: '13800000499', x: made[1]!.x }, 'ticketing'),
    { code: 'REXIAN_NUMBER_TAKEN' },
    "a live binding's X is never handed out again",
  );
  const again = await store.bind({ a: A, b: '13800000499' }, 'ticketing');
  t.equal(again.x, made[0]!.x, 'an unbound X is free again');
  t.same(
    (await store.byCase('C-1')).map((b) => b.id).sort(),
    [made[1]!.id, made[2]!.id].sort(),
    'the case lists its live bindings',
  );
  for (const b of [made[1]!, made[2]!, again]) await store.unbind(b.id, 'ticketing');
});

t.test('bad numbers are named', async (t) => {
  await t.rejects(store.bind({ a: '110', b: B }, 'x'), { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'a' } });
  await t.rejects(store.bind({ a: A, b: `${B}&x` }, 'x'), { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'b' } });
  await t.rejects(
    store.bind({ a: A, b: B, x: '02300000000' }, 'x'),
    { code: 'REXIAN_BAD_REQUEST', message: /x "02300000000" is not a number of the virtual pool/ },
    'an X outside the pool',
  );
});

t.test('routing: A reaches B and B reaches A through X; anyone else is refused; the call limit holds', async (t) => {
  const b = await store.bind({ a: A, b: B }, 'ticketing');
  t.match(await store.route(b.x, A), { to: B, binding: { id: b.id } }, 'A dials X: B rings');
  t.match(await store.route(b.x, `+86${B}`), { to: A }, 'B dials X: A rings');
  t.same(await store.route(b.x, '13900000000'), { refused: 'not-a-party' }, 'a third party is refused');
  t.same(await store.route(b.x, A), { refused: 'call-limit' }, 'the third call through a binding with a limit of 2');
  await store.unbind(b.id, 'ticketing');
  t.same(await store.route(b.x, A), { refused: 'not-bound' }, 'unbound: X reaches nobody at once');
});

t.test('a binding expires exactly and frees its X by itself; extend moves the expiry', async (t) => {
  const short = await store.bind({ a: A, b: B, ttlHours: 1.2 / 3600 }, 'ticketing'); // 1.2 s
  const kept = await store.bind({ a: A, b: '13800000402', ttlHours: 1.2 / 3600 }, 'ticketing');
  await store.extend(kept.id, 1, 'ticketing');
  await sleep(1500);
  t.equal(await store.get(short.id), undefined, 'gone after its time');
  t.same(await store.route(short.x, A), { refused: 'expired' }, 'a call to X hears that the binding expired');
  t.ok(await store.get(kept.id), 'the extended one lives on');
  const reuse = await store.bind({ a: A, b: '13800000403', x: short.x }, 'ticketing');
  t.equal(reuse.x, short.x, 'the expired X is free again');
  const audit = await streamEntries(redis, `${prefix}:masking:audit`);
  t.ok(
    audit.some((e) => e.action === 'extend' && e.binding === kept.id && e.who === 'ticketing'),
    'extend audited',
  );
  t.ok(
    audit.every((e) => !Object.values(e).some((v) => String(v).includes(B))),
    "the audit never holds the citizen's number",
  );
});
