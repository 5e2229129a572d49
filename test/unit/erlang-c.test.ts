import t, { type Test } from 'tap';

import { agentsNeeded, averageSpeedOfAnswer, probabilityOfWaiting, serviceLevel } from '../../src/acd/erlang-c.js';

const close = (
  t: Test | { ok: (v: boolean, m?: string) => void },
  got: number,
  want: number,
  eps: number,
  msg: string,
) => t.ok(Math.abs(got - want) <= eps, `${msg}: got ${got}, want ${want} ± ${eps}`);

t.test('the textbook case: 2 erlangs on 3 agents wait 4/9 of the time', async (t) => {
  close(t, probabilityOfWaiting(3, 2), 4 / 9, 1e-12, 'P(wait)');
});

t.test('one agent is M/M/1: P(wait) = ρ and ASA = ρ·AHT/(1−ρ)', async (t) => {
  close(t, probabilityOfWaiting(1, 0.6), 0.6, 1e-12, 'P(wait)');
  close(t, averageSpeedOfAnswer({ arrivalRate: 0.6 / 100, handleTime: 100, agents: 1 }), 150, 1e-9, 'ASA');
});

t.test('service level rises with agents and with the threshold', async (t) => {
  const load = { arrivalRate: 1, handleTime: 180 }; // 180 erlangs
  const sl = (agents: number, s: number) => serviceLevel({ ...load, agents }, s);
  t.ok(sl(190, 15) < sl(200, 15) && sl(200, 15) < sl(210, 15));
  t.ok(sl(200, 10) < sl(200, 15));
  t.equal(sl(180, 15), 0, 'no headroom: nobody is served in time in the long run');
});

t.test('agents needed: the smallest N that meets the target', async (t) => {
  // A city line: ~2.7 million calls a year, busiest hour ~700 calls, 240 s handle time.
  const lambda = 700 / 3600;
  const n95 = agentsNeeded(lambda, 240, 15, 0.95);
  t.ok(serviceLevel({ arrivalRate: lambda, handleTime: 240, agents: n95 }, 15) >= 0.95);
  t.ok(serviceLevel({ arrivalRate: lambda, handleTime: 240, agents: n95 - 1 }, 15) < 0.95);
  t.ok(agentsNeeded(lambda, 240, 10, 0.977) >= n95, 'the 97.7% within 10 s target needs at least as many');
  t.equal(agentsNeeded(0, 240, 15, 0.95), 0);
});

t.test('large N stays finite and accurate (no factorial overflow)', async (t) => {
  const c = probabilityOfWaiting(450, 400);
  t.ok(c > 0 && c < 1, `C = ${c}`);
});
