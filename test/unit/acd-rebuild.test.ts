// The rebuild plan after Redis lost its data: Asterisk's channels and bridges in, the calls
// to rebuild (and what to leave or hang up) out.
import t from 'tap';

import { agentOfChannel, planRebuild } from '../../src/acd/rebuild.js';
import type { AriBridge, AriChannel } from '../../src/asterisk/ari.js';

const app = 'rexian';

function citizen(id: string, createdAt: string, caller = '13800000001', did = '7001'): AriChannel {
  return {
    id,
    name: `PJSIP/citizen-${id.slice(-4)}`,
    state: 'Up',
    caller: { name: '', number: caller },
    connected: { name: '', number: '' },
    dialplan: {
      context: 'rexian-inbound',
      exten: did,
      priority: 3,
      app_name: 'Stasis',
      app_data: `${app},inbound,${did}`,
    },
    creationtime: createdAt,
  };
}

function agentLeg(id: string, agentId: string, callId: string, inApp = true): AriChannel {
  return {
    id,
    name: `PJSIP/agent-${agentId}-0000001f`,
    state: inApp ? 'Up' : 'Ringing',
    caller: { name: '', number: '7001' },
    connected: { name: '', number: '' },
    dialplan: inApp
      ? { context: 'default', exten: 's', priority: 1, app_name: 'Stasis', app_data: `${app},agent-leg,${callId}` }
      : { context: 'default', exten: 's', priority: 1 },
    creationtime: '2025-03-01T10:00:30.000+0800',
  };
}

const bridge = (id: string, channels: string[], type = 'mixing'): AriBridge => ({ id, bridge_type: type, channels });

t.test(
  'callers in a holding bridge go back to that queue in order of arrival, whatever order Asterisk lists them in',
  async (t) => {
    const late = citizen('c-late', '2025-03-01T10:00:09.000+0800', '13800000002');
    const early = citizen('c-early', '2025-03-01T10:00:01.000+0800', '13800000001');
    const plan = planRebuild({
      app,
      lost: [late, early],
      all: [late, early],
      bridges: [bridge('rexian-hold-general', ['c-late', 'c-early'], 'holding')],
      queues: ['general'],
    });
    t.same(
      plan.calls.map((c) => [c.state, c.callId, 'queue' in c ? c.queue : '']),
      [
        ['waiting', 'c-early', 'general'],
        ['waiting', 'c-late', 'general'],
      ],
    );
    t.match(plan.calls[0], {
      did: '7001',
      caller: '13800000001',
      kind: 'inbound',
      createdAt: Date.parse('2025-03-01T02:00:01.000Z'),
    });
    t.same(plan.hangUp, []);
  },
);

t.test("a citizen talking to an agent stays with that agent, named by the leg's endpoint", async (t) => {
  const c = citizen('call-1', '2025-03-01T10:00:00.000+0800');
  const leg = agentLeg('call-1-a2', 'zhang-wei', 'call-1');
  const plan = planRebuild({
    app,
    lost: [c, leg],
    all: [c, leg],
    bridges: [bridge('call-1-talk', ['call-1', 'call-1-a2'])],
    queues: ['general'],
  });
  t.match(plan.calls, [
    { state: 'talking', callId: 'call-1', agentId: 'zhang-wei', bridgeId: 'call-1-talk', held: false, legCount: 2 },
  ]);
  t.same([...plan.busyAgents], [['zhang-wei', 'call-1']], 'the agent is busy: no other call for them');
});

t.test("a citizen on hold (out of the talk bridge) is still the agent's call, not a new one", async (t) => {
  const c = citizen('call-2', '2025-03-01T10:00:00.000+0800');
  const leg = agentLeg('call-2-a1', 'a1', 'call-2');
  const plan = planRebuild({
    app,
    lost: [c, leg],
    all: [c, leg],
    bridges: [bridge('call-2-talk', ['call-2-a1'])],
    queues: ['general'],
  });
  t.match(plan.calls, [{ state: 'talking', agentId: 'a1', held: true }]);
});

t.test('a citizen in no bridge was in the IVR: not in the plan, so its flow starts again', async (t) => {
  const c = citizen('ivr-1', '2025-03-01T10:00:00.000+0800');
  const plan = planRebuild({ app, lost: [c], all: [c], bridges: [], queues: ['general'] });
  t.same(plan.calls, []);
  t.same(plan.leftAlone, []);
});

t.test(
  'an agent leg still ringing for a waiting caller is hung up, and new legs do not reuse its number',
  async (t) => {
    const c = citizen('call-3', '2025-03-01T10:00:00.000+0800');
    const ringing = agentLeg('call-3-a4', 'a2', 'call-3', false);
    const plan = planRebuild({
      app,
      lost: [c],
      all: [c, ringing],
      bridges: [bridge('rexian-hold-general', ['call-3'], 'holding')],
      queues: ['general'],
    });
    t.match(plan.calls, [{ state: 'waiting', callId: 'call-3', legCount: 4 }]);
    t.same(
      plan.hangUp.map((h) => h.channelId),
      ['call-3-a4'],
    );
  },
);

t.test('a queue callback talking (agent leg -a, citizen leg -c) is kept with its agent', async (t) => {
  const a = agentLeg('orig-cbx1-a', 'cb1', 'orig-cbx1');
  const c = {
    ...agentLeg('orig-cbx1-c', 'unused', 'orig-cbx1'),
    name: 'PJSIP/pstn-00000020',
    connected: { name: '', number: '13900000051' },
  };
  const plan = planRebuild({
    app,
    lost: [a, c],
    all: [a, c],
    bridges: [bridge('orig-cbx1-talk', ['orig-cbx1-a', 'orig-cbx1-c'])],
    queues: ['cbq'],
  });
  t.match(plan.calls, [{ state: 'callback-talking', callId: 'orig-cbx1', agentId: 'cb1', caller: '13900000051' }]);
  t.ok(plan.busyAgents.has('cb1'));
  t.same(plan.hangUp, [], 'its legs are not taken for orphans');
});

t.test(
  'what cannot be named is left alone, not restarted: a talk bridge with no agent, a bridge that is not ours',
  async (t) => {
    const transferred = citizen('call-4', '2025-03-01T10:00:00.000+0800');
    const supervised = citizen('call-5', '2025-03-01T10:00:00.000+0800');
    const plan = planRebuild({
      app,
      lost: [transferred, supervised],
      all: [transferred, supervised],
      bridges: [bridge('call-4-talk', ['call-4', 'call-4-x1']), bridge('someone-elses', ['call-5'])],
      queues: ['general'],
    });
    t.same(plan.calls, []);
    t.same(
      plan.leftAlone.map((l) => l.channelId),
      ['call-4', 'call-5'],
    );
  },
);

t.test(
  'a caller in the holding bridge of a queue no longer configured is not rebuilt (its flow starts again)',
  async (t) => {
    const c = citizen('call-6', '2025-03-01T10:00:00.000+0800');
    const plan = planRebuild({
      app,
      lost: [c],
      all: [c],
      bridges: [bridge('rexian-hold-gone', ['call-6'], 'holding')],
      queues: ['general'],
    });
    t.same(plan.calls, []);
    t.same(plan.leftAlone, []);
  },
);

t.test('an agent leg whose citizen is gone is hung up', async (t) => {
  const leg = agentLeg('vanished-a1', 'a1', 'vanished');
  const plan = planRebuild({
    app,
    lost: [leg],
    all: [leg],
    bridges: [bridge('vanished-talk', ['vanished-a1'])],
    queues: ['general'],
  });
  t.same(
    plan.hangUp.map((h) => h.channelId),
    ['vanished-a1'],
  );
  t.same(plan.busyAgents.size, 0);
});

t.test('the agent is read from the endpoint in the channel name, hyphens and all', async (t) => {
  t.equal(agentOfChannel({ name: 'PJSIP/agent-a1-00000012' }), 'a1');
  t.equal(agentOfChannel({ name: 'PJSIP/agent-zhang-wei-0000ab12' }), 'zhang-wei');
  t.equal(agentOfChannel({ name: 'PJSIP/pstn-00000012' }), undefined);
});
