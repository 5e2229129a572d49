// Every Lua script touches only the keys it declares (KEYS), as Redis requires for a script
// to be safe beyond one node. Against real Redis: MONITOR shows each EVAL/EVALSHA and then the
// commands its script ran ("lua"); COMMAND GETKEYS names the keys of each, and each must be
// among the KEYS of the script that ran it. The router's, the virtual-number pool's and the
// alerts' scripts are driven through their usual paths, including the ones that need a retry
// (the keys a match needs are only known inside it).
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import t from 'tap';

import { Router } from '../../src/acd/router.js';
import { WaitingList } from '../../src/acd/waiting.js';
import { AlertStore } from '../../src/alerts/store.js';
import type { ActiveAlert } from '../../src/alerts/types.js';
import { BindingStore } from '../../src/masking/bindings.js';
import { deleteKeys, sleep } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
const other = new Redis('redis://127.0.0.1:6379');
t.teardown(() => {
  redis.disconnect();
  other.disconnect();
});

interface Seen {
  /** Each script run: its KEYS and the commands it ran. */
  scripts: Array<{ keys: Set<string>; commands: string[][] }>;
}

async function watch(prefix: string): Promise<{ stop(): Promise<Seen> }> {
  const monitor = await redis.monitor();
  const seen: Seen = { scripts: [] };
  let current: { keys: Set<string>; commands: string[][] } | undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = args[0]?.toLowerCase();
    if (source !== 'lua') {
      current = undefined;
      if (name === 'eval' || name === 'evalsha') {
        const n = Number(args[2]);
        const keys = args.slice(3, 3 + n);
        // Another test's scripts on the same Redis are not ours to judge.
        if (keys.some((k) => k.startsWith(prefix)) || args.slice(3).some((a) => a.startsWith(prefix))) {
          current = { keys: new Set(keys), commands: [] };
          seen.scripts.push(current);
        }
      }
      return;
    }
    current?.commands.push(args);
  });
  await sleep(50);
  return {
    async stop() {
      await sleep(100);
      monitor.disconnect();
      return seen;
    },
  };
}

/** The keys a command touches, as Redis itself says (COMMAND GETKEYS). */
async function keysOf(command: string[]): Promise<string[]> {
  try {
    return (await other.call('COMMAND', 'GETKEYS', ...command)) as string[];
  } catch {
    return []; // a command without keys
  }
}

async function undeclared(seen: Seen): Promise<string[]> {
  const out: string[] = [];
  for (const s of seen.scripts)
    for (const c of s.commands) for (const k of await keysOf(c)) if (!s.keys.has(k)) out.push(`${c[0]} ${k}`);
  return out;
}

t.test('the router scripts touch only the keys they declare, retries included', async (t) => {
  const prefix = `rexian-test:declared:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(other, prefix));
  const watching = await watch(prefix);
  const router = new Router(redis, prefix);
  const stranger = new Router(other, prefix); // knows no agent's skills: its scripts must ask
  const waiting = new WaitingList(redis, prefix);
  await router.registerAgent('a1', { general: 5, vip: 3 });
  await router.registerAgent('a2', { general: 4 });
  await router.registerAgent('ghost', { general: 9 });
  await stranger.setAgentState('a1', 'ready', '', '', 10);
  await router.setAgentState('a2', 'ready', '', '', 20);
  await router.setAgentState('ghost', 'ready', '', '', 5);
  await other.del(`${prefix}:agent:ghost`); // a ready entry whose hash Redis lost
  await waiting.join('c-theirs', {
    queue: 'general',
    origin: 'general',
    priority: 0,
    enqueuedAt: 1,
    owner: 'ctl-b',
    did: '7001',
    caller: '1',
  });
  await other.set(`${prefix}:controller:ctl-b`, '1', 'PX', 5_000);
  // The ghost at the head of the ready set is dropped (that round finds nobody), then the call of
  // a live controller is deferred to it.
  t.equal(await router.match([{ queue: 'general', skills: ['general'] }], 100, 'ctl-a'), undefined);
  t.same(await router.match([{ queue: 'general', skills: ['general'] }], 100, 'ctl-a'), { deferTo: 'ctl-b' });
  await other.del(`${prefix}:controller:ctl-b`);
  await waiting.enqueue('vipq', 'c-vip', 5, 2);
  await waiting.enqueue('general', 'c-1', 0, 3);
  const first = await stranger.match(
    [
      { queue: 'general', skills: ['general'] },
      { queue: 'vipq', skills: ['vip'] },
    ],
    100,
    'ctl-a',
  );
  t.match(first, { callId: 'c-vip', agentId: 'a1' }, 'the vip call, to the vip agent');
  t.equal(await stranger.returnCall('c-vip'), 'vipq', 'put back by a router that did not reserve it');
  t.ok(await router.moveCall('c-1', 'general', 'other'), 'moved');
  await router.setAgentState('a1', 'ready', '', '', 150, { expect: ['reserved'], expectCall: 'c-vip' });
  const again = await router.match([{ queue: 'vipq', skills: ['vip'] }], 200, 'ctl-a');
  t.match(again, { callId: 'c-vip' });
  t.equal(await router.returnCall('c-vip', { ifQueued: true }), undefined, 'not queued: not put back');
  await router.setAgentState('a1', 'wrap-up', '', '', 300, { wrapUntil: 400 });
  await stranger.setAgentState('a1', 'logged-out', '', '', 500, { expect: ['wrap-up'] });
  const seen = await watching.stop();
  t.ok(seen.scripts.length >= 10, `the scripts ran (${seen.scripts.length} runs)`);
  t.ok(
    seen.scripts.some((s) => s.commands.some((c) => c[0]?.toLowerCase() === 'xadd')),
    'and wrote (the check sees their writes)',
  );
  t.same(await undeclared(seen), [], 'no key touched that was not declared');
});

t.test('the virtual-number pool and the alerts declare their keys', async (t) => {
  const prefix = `rexian-test:declared:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(other, prefix));
  const watching = await watch(prefix);
  const bindings = new BindingStore(redis, prefix, () => ['02100000001', '02100000002'], { ttlHours: 1, maxCalls: 3 });
  const b1 = await bindings.bind({ a: '13800000001', b: '13900000001' }, 'test');
  const b2 = await bindings.bind({ a: '13800000002', b: '13900000002' }, 'test');
  t.not(b1.x, b2.x, 'two bindings, two numbers of the pool');
  await bindings.unbind(b1.id, 'test');
  const alerts = new AlertStore(redis, prefix);
  const alert = {
    alertId: 'al-1',
    rule: 'r',
    kind: 'queue-wait',
    severity: 'warning',
    value: 1,
    threshold: 0,
    message: { 'zh-CN': 'x', en: 'x' },
    firedAt: new Date().toISOString(),
  } as unknown as ActiveAlert;
  t.ok(await alerts.claim('k', alert));
  t.ok(await alerts.acknowledge('al-1', 'sup', 'supervisor', new Date().toISOString()));
  t.ok(await alerts.release('k', new Date().toISOString()));
  const seen = await watching.stop();
  t.ok(seen.scripts.length >= 5, `the scripts ran (${seen.scripts.length} runs)`);
  t.same(await undeclared(seen), [], 'no key touched that was not declared');
});

t.test('the check itself sees a script that touches a key it did not declare', async (t) => {
  const prefix = `rexian-test:declared:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(other, prefix));
  const watching = await watch(prefix);
  await redis.eval(`redis.call('SET', KEYS[1] .. ':other', 1) return 1`, 1, `${prefix}:k`);
  t.same(await undeclared(await watching.stop()), [`SET ${prefix}:k:other`]);
});
