// How an unanswered callback is named, and when it is tried again.
import t from 'tap';

import { dispositionOf, retryAt } from '../../src/dialer/service.js';

t.test('Q.850 causes become the dispositions a hotline reports', async (t) => {
  t.equal(dispositionOf(17), 'busy');
  t.equal(dispositionOf(19), 'no-answer', 'rang out');
  t.equal(dispositionOf(18), 'no-answer', 'no user responding');
  t.equal(dispositionOf(1), 'wrong-number', 'unallocated number (404)');
  t.equal(dispositionOf(28), 'wrong-number', 'invalid format');
  t.equal(dispositionOf(21), 'refused', 'call rejected (603)');
  t.equal(dispositionOf(38), 'failed', 'network out of order');
});

t.test("busy and no answer are tried again until the rule's maximum; the rest are settled", async (t) => {
  const rules = { busy: { max: 2, afterSeconds: 60 }, noAnswer: { max: 1, afterSeconds: 600 } };
  t.equal(retryAt(rules, 'busy', 1, 0), 60_000, 'first busy: again in a minute');
  t.equal(retryAt(rules, 'busy', 2, 0), 60_000, 'second busy: once more');
  t.equal(retryAt(rules, 'busy', 3, 0), undefined, 'third busy: settled');
  t.equal(retryAt(rules, 'no-answer', 1, 0), 600_000);
  t.equal(retryAt(rules, 'no-answer', 2, 0), undefined);
  t.equal(retryAt(rules, 'failed', 1, 0), 600_000, 'a failure counts as no answer');
  t.equal(retryAt(rules, 'wrong-number', 1, 0), undefined, 'a wrong number is never dialled again');
  t.equal(retryAt(rules, 'refused', 1, 0), undefined, 'nor is a citizen who refused');
  t.equal(retryAt(rules, 'reached', 1, 0), undefined);
});
