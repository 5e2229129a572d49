import t from 'tap';

import { attemptAfterClose, backoffDelay } from '../../src/asterisk/backoff.js';

const opts = { baseMs: 200, maxMs: 5_000 };

t.test('the delay doubles with each attempt and stops at the cap', async (t) => {
  const top = [0, 1, 2, 3, 4, 5, 6, 20, 1000].map((a) => backoffDelay(a, opts, 0.999999));
  t.same(top, [200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
});

t.test('jitter keeps each delay in the upper half of its ceiling', async (t) => {
  t.equal(backoffDelay(0, opts, 0), 100);
  t.equal(backoffDelay(10, opts, 0), 2_500);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, opts);
    t.ok(d >= 800 && d <= 1600, `${d} within [800, 1600]`);
  }
});

t.test('a connection that drops at once keeps the backoff growing; one that lasted resets it', async (t) => {
  let attempt = 0;
  const delays: number[] = [];
  // Asterisk accepts the socket and it drops 20 ms later, ten times over.
  for (let i = 0; i < 10; i++) {
    delays.push(backoffDelay(attempt, opts, 0.999999));
    attempt = attemptAfterClose(attempt + 1, 20, 5_000);
  }
  t.same(delays.slice(-3), [5_000, 5_000, 5_000], 'at the cap, not back at 200 ms');
  t.ok(delays.reduce((a, b) => a + b, 0) > 30_000, 'ten quick drops take over 30 s, not a storm');
  t.equal(attemptAfterClose(7, 60_000, 5_000), 0, 'after a minute up, the next drop starts from the first delay');
});

t.test('odd attempts (negative, fractional, huge) still give a finite delay within the cap', async (t) => {
  for (const a of [-3, 1.7, Number.MAX_SAFE_INTEGER]) {
    const d = backoffDelay(a, opts, 0.5);
    t.ok(Number.isFinite(d) && d > 0 && d <= 5_000, `attempt ${a}: ${d}`);
  }
});
