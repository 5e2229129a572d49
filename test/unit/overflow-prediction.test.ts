import t, { type Test } from 'tap';

import { erlangCdf, erlangMedian, predictOverflow, RING_MARGIN_MS } from '../../src/acd/overflow-prediction.js';

const close = (t: Test, got: number, want: number, eps: number, msg: string) =>
  t.ok(Math.abs(got - want) <= eps, `${msg}: got ${got}, want ${want} ± ${eps}`);

t.test('the k-th freeing of n busy agents is an Erlang time: its CDF and median', async (t) => {
  // k = 1 is exponential: P(T ≤ t) = 1 − e^(−rt), median ln 2 / r.
  close(t, erlangCdf(1, 0.25, 4), 1 - Math.exp(-1), 1e-12, 'exponential CDF');
  close(t, erlangMedian(1, 0.25), Math.LN2 / 0.25, 1e-9, 'exponential median');
  // k = 2: P = 1 − e^(−x)(1 + x); the median of Erlang(2, 1) is 1.678346990.
  close(t, erlangCdf(2, 1, 2), 1 - Math.exp(-2) * 3, 1e-12, 'Erlang(2) CDF');
  close(t, erlangMedian(2, 1), 1.67834699, 1e-6, 'Erlang(2) median');
  t.equal(erlangCdf(3, 1, 0), 0, 'nothing comes in no time');
  t.ok(erlangMedian(5, 1) > erlangMedian(4, 1), 'later in line is later');
});

// 3 specialists, 12 s handle time: one frees every 4 s on average.
const base = { agents: 3, handleTimeS: 12, targetS: 10 };
const now = 1_000_000;

t.test(
  'a caller first in line waits for a specialist until the last moment overflow still makes the target',
  async (t) => {
    const lastChanceWait = 10_000 - RING_MARGIN_MS - erlangMedian(1, 0.25) * 1000; // ≈ 6.2 s
    t.ok(lastChanceWait > 5_000 && lastChanceWait < 7_000, `waits ${lastChanceWait} ms, longer than a 5 s static rule`);
    const early = predictOverflow({ ...base, waitingSince: [now - 3_000] }, now);
    t.same(early.late, [], 'after 3 s: a specialist is still likely in time, no overflow');
    close(t, early.nextAt!, now - 3_000 + lastChanceWait, 1, 'routes again the moment the caller would miss');
    const late = predictOverflow({ ...base, waitingSince: [now - 6_500] }, now);
    t.same(late.late, [0], 'after 6.5 s: predicted late, overflow now');
  },
);

t.test('callers deep in line overflow at once, the first in line keeps waiting', async (t) => {
  const since = [now - 2_000, now - 1_500, now - 1_000, now - 500];
  const p = predictOverflow({ ...base, waitingSince: since }, now);
  // Third in line: the median of the 3rd freeing is 10.7 s, past the 10 s target already.
  t.same(p.late, [2, 3], 'the third and fourth callers are predicted late; the first two are not');
  t.ok(p.nextAt !== undefined && p.nextAt > now, 'the first callers are not late yet; the rule looks again then');
});

t.test('more agents or shorter calls keep the call in the queue longer', async (t) => {
  const since = [now - 1_000, now - 800, now - 600];
  t.same(predictOverflow({ ...base, waitingSince: since }, now).late, [2], '3 agents: the third caller is late');
  t.same(predictOverflow({ ...base, agents: 10, waitingSince: since }, now).late, [], '10 agents: in time');
  t.same(predictOverflow({ ...base, handleTimeS: 3, waitingSince: since }, now).late, [], 'short calls');
});

t.test('a queue with no agent of its own overflows every caller; an empty queue nothing', async (t) => {
  t.same(predictOverflow({ ...base, agents: 0, waitingSince: [now - 10, now - 5] }, now).late, [0, 1]);
  t.same(predictOverflow({ ...base, waitingSince: [] }, now), { late: [] });
});
