// Entering a queue routes the caller at once, with the holding-bridge request still in flight
// (issue 17: an agent who is free should ring without waiting for Asterisk's hold), and
// whatever moves the caller out of the holding bridge afterwards waits for that hold, so the
// two requests cannot reach Asterisk in the wrong order and leave the caller on music.
// An in-memory call port: the ARI requests are recorded and the hold answers when told to.
import { pino } from 'pino';
import t from 'tap';

import type { AcdCallState } from '../../src/acd/call-state.js';
import type { AcdWiring } from '../../src/acd/core.js';
import { builtInSettings, type QueueDefinition } from '../../src/acd/queue-config.js';
import { Queueing } from '../../src/acd/queueing.js';
import type { Call } from '../../src/calls/call.js';

const general: QueueDefinition = {
  ...builtInSettings,
  id: 'general',
  name: '综合',
  priority: 0,
  skills: ['general'],
  announce: { ...builtInSettings.announce, firstAfterSeconds: 0, everySeconds: 0 },
  maxWaitSeconds: 600,
  overflow: [],
};

function setup(options: { holdFails?: 'hung-up' } = {}) {
  const steps: string[] = [];
  let answerHold!: () => void;
  let failHold!: (err: Error) => void;
  const holdAnswered = new Promise<void>((resolve, reject) => {
    answerHold = resolve;
    failHold = reject;
  });
  const flow: { acd?: AcdCallState } = {};
  const call = {
    id: 'c1',
    channelId: 'ch1',
    log: pino({ level: 'silent' }),
    state: { did: '12345', caller: '13900000000' },
    get flow() {
      return flow;
    },
    updateFlow: async (patch: { acd: AcdCallState }) => {
      flow.acd = patch.acd;
    },
    note: async (type: string) => {
      steps.push(`note ${type}`);
    },
    later: () => undefined,
    ari: {
      bridges: {
        add: async (bridge: string) => {
          steps.push(`hold requested ${bridge}`);
          await holdAnswered;
          steps.push('hold done');
        },
        removeIfPresent: async (bridge: string) => {
          steps.push(`unhold ${bridge}`);
        },
      },
      channels: {
        get: async () => {
          if (options.holdFails === 'hung-up') throw new Error('404 channel not found');
          return {};
        },
      },
    },
  } as unknown as Call;
  const acd = {
    controllerId: 'me',
    deps: {
      ari: {
        app: 'rexian',
        ensureBridge: async () => undefined,
        bridges: { startMusic: async () => undefined },
      },
      prefix: 'p',
      redis: { smembers: async () => ['a1'] },
      waiting: {
        length: async () => 0,
        join: async () => {
          steps.push('joined the waiting list');
        },
      },
      stats: { offered: async () => undefined },
    },
    queue: () => general,
    route: async () => {
      steps.push('route');
    },
    queueExit: async () => undefined,
  } as unknown as AcdWiring;
  return { queueing: new Queueing(acd), call, steps, answerHold, failHold };
}

t.test('a caller is routed while the hold is still in flight', async (t) => {
  const { queueing, call, steps, answerHold } = setup();
  await queueing.enqueue(call, { queue: 'general', skills: [], priority: 0 });
  t.same(
    steps.filter((s) => s !== 'hold requested rexian-hold-general'),
    ['joined the waiting list', 'route', 'note queued'],
    'routed, and the enqueue over, before Asterisk answered the hold',
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(steps.includes('hold requested rexian-hold-general'), 'the hold is on its way');
  t.notOk(steps.includes('hold done'), 'and not answered yet');
  answerHold();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(steps.at(-1), 'hold done');
});

t.test('taking the caller off hold waits for the hold to be done', async (t) => {
  const { queueing, call, steps, answerHold } = setup();
  await queueing.enqueue(call, { queue: 'general', skills: [], priority: 0 });
  const unhold = queueing.unhold(call, 'general');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(
    steps.includes('unhold rexian-hold-general'),
    'no removal is sent while the hold is pending (it could overtake it)',
  );
  answerHold();
  await unhold;
  const done = steps.indexOf('hold done');
  t.ok(done >= 0 && steps.indexOf('unhold rexian-hold-general') > done, 'the removal follows the hold');
});

t.test('a hold that fails because the caller hung up does not stop what follows', async (t) => {
  const { queueing, call, steps, failHold } = setup({ holdFails: 'hung-up' });
  await queueing.enqueue(call, { queue: 'general', skills: [], priority: 0 });
  failHold(new Error('404 channel not found'));
  await queueing.unhold(call, 'general');
  t.ok(steps.includes('unhold rexian-hold-general'), 'unhold goes on (and finds nothing to remove)');
});
