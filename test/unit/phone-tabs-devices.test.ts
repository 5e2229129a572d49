// The pure parts of the browser phone's two-tab rule and device choice, in Node (which has a
// real BroadcastChannel): the newest tab holds the phone, an older claim arriving late still
// leaves exactly one holder, take-back works, and closing the holder hands the phone on; a
// remembered device that vanished falls back to the default and is named.
import t from 'tap';

import { resolveChoice } from '../../web/shared/phone/devices.js';
import { TabClaim } from '../../web/shared/phone/tab-claim.js';

const settle = () => new Promise((r) => setTimeout(r, 30));

function tab(agent: string, log: string[], name: string): TabClaim {
  return new TabClaim(agent, { take: () => log.push(`${name} take`), yield: () => log.push(`${name} yield`) });
}

t.test('the newest tab takes the phone and the older one yields; take-back and close hand it over', async (t) => {
  const log: string[] = [];
  const a = tab('t1', log, 'a');
  a.claim();
  await settle();
  const b = tab('t1', log, 'b');
  b.claim();
  await settle();
  t.same(log, ['a take', 'b take', 'a yield'], 'b is newer: a yields');
  t.equal(a.role, 'yielded');
  t.equal(b.role, 'holder');
  a.claim();
  await settle();
  t.same(log.slice(3), ['a take', 'b yield'], 'a takes it back, b yields');
  a.close();
  await settle();
  t.same(log.slice(5), ['b take'], 'a closes: b takes the phone by itself');
  t.equal(b.role, 'holder');
  b.close();
});

t.test('two tabs claiming at the same instant end with exactly one holder', async (t) => {
  const log: string[] = [];
  const a = tab('t2', log, 'a');
  const b = tab('t2', log, 'b');
  a.claim();
  b.claim();
  await settle();
  t.equal([a.role, b.role].filter((r) => r === 'holder').length, 1, 'one holder');
  a.close();
  b.close();
});

t.test("another agent's tabs are not touched", async (t) => {
  const log: string[] = [];
  const a = tab('t3', log, 'a');
  const b = tab('t4', log, 'b');
  a.claim();
  b.claim();
  await settle();
  t.same([a.role, b.role], ['holder', 'holder'], 'each agent holds their own phone');
  a.close();
  b.close();
});

t.test('a remembered device that is gone falls back to the default, named; a present one is used', async (t) => {
  const present = [{ id: 'm1', label: 'Headset' }];
  t.same(resolveChoice(undefined, present), { id: 'default' }, 'nothing remembered: the default');
  t.same(resolveChoice({ id: 'm1', label: 'Headset' }, present), { id: 'm1' }, 'present: used');
  t.same(
    resolveChoice({ id: 'm9', label: '旧耳麦' }, present),
    { id: 'default', vanished: '旧耳麦' },
    'gone: the default, and its name to say so',
  );
});
