// The ids we give Asterisk's channels, bridges, playbacks and recordings are a contract: a
// restarted controller, the rebuild after Redis lost its data and the integration tests find
// calls by them. Each is pinned to the exact string it has always been, and each parser
// gives back what its builder was given.
import t from 'tap';

import * as ids from '../../src/asterisk/ids.js';

const call = '1712345678.42';

t.test('each id is exactly the string rexian has always used', async (t) => {
  t.equal(ids.agentLeg(call, 3), '1712345678.42-a3');
  t.equal(ids.consultLeg(call, 4), '1712345678.42-x4');
  t.equal(ids.emergencyLeg(call, 5), '1712345678.42-e5');
  t.equal(ids.supervisorLeg(call), '1712345678.42-s1');
  t.equal(ids.snoopLeg(call, 2), '1712345678.42-sn2');
  t.equal(ids.maskedLeg(call), '1712345678.42-m');
  t.equal(ids.callbackCallId('entry-7', 1_700_000_000_000), 'entry-7-cbloyw3v28');
  t.equal(ids.callbackAgentLeg('entry-7-cbloyw3v28'), 'entry-7-cbloyw3v28-a');
  t.equal(ids.callbackCitizenLeg('entry-7-cbloyw3v28'), 'entry-7-cbloyw3v28-c');
  t.equal(ids.agentEndpoint('1001'), 'agent-1001');
  t.equal(ids.talkBridge(call), '1712345678.42-talk');
  t.equal(ids.holdingBridge('rexian', 'general'), 'rexian-hold-general');
  t.equal(ids.supervisionBridge(call), '1712345678.42-sup');
  t.equal(ids.stepPlayback(call, 'greeting', '0a1b2c3d'), '1712345678.42-greeting-0a1b2c3d');
  t.equal(ids.ivrPlayback(call, 7), '1712345678.42-p7');
  t.equal(ids.divertPlayback(call), '1712345678.42-divert');
  t.equal(ids.announcementPlayback(call, 1_700_000_000_000), '1712345678.42-ann-loyw3v28');
  t.equal(ids.callbackConfirmPlayback(call), '1712345678.42-cbok');
  t.equal(ids.ringbackPlayback('1712345678.42-x4'), '1712345678.42-x4-ringback');
  t.equal(ids.talkRecording(call), '1712345678.42-talk');
  t.equal(ids.emergencyRecording(call), '1712345678.42-emergency');
  t.equal(ids.maskedRecording(call), '1712345678.42-masked');
  t.equal(ids.voicemailRecording(call, 1_700_000_000_000), '1712345678.42-vm-1700000000000');
});

t.test('an agent leg parses back to its call and number, for any call or for one given call', async (t) => {
  for (const [callId, n] of [
    [call, 1],
    [call, 12],
    ['dial-task-9-2', 3],
    ['a-a1', 2],
  ] as const) {
    const id = ids.agentLeg(callId, n);
    t.same(ids.parseAgentLeg(id), { callId, n }, id);
    t.same(ids.parseAgentLeg(id, callId), { callId, n }, `${id} as a leg of ${callId}`);
  }
  // A dot in the call id is a dot, not "any character".
  t.equal(ids.parseAgentLeg('1712345678x42-a1', call), undefined);
  t.equal(ids.parseAgentLeg(ids.agentLeg('other', 1), call), undefined);
  t.equal(ids.parseAgentLeg(ids.callbackAgentLeg(call)), undefined, 'a callback agent leg has no number');
  t.equal(ids.parseAgentLeg(ids.consultLeg(call, 1)), undefined);
  t.equal(ids.parseAgentLeg(`${ids.agentLeg(call, 1)}-ringback`), undefined);
});

t.test('a talk bridge parses back to its call, and nothing else is taken for one', async (t) => {
  for (const callId of [call, 'entry-7-cbloyw3v28', 'x-talk'])
    t.equal(ids.parseTalkBridge(ids.talkBridge(callId)), callId);
  t.equal(ids.parseTalkBridge(ids.supervisionBridge(call)), undefined);
  t.equal(ids.parseTalkBridge(ids.holdingBridge('rexian', 'general')), undefined);
});

t.test('a holding bridge parses back to its queue, for our app only', async (t) => {
  for (const queue of ['general', 'hold-x', 'a-b-c'])
    t.equal(ids.parseHoldingBridge('rexian', ids.holdingBridge('rexian', queue)), queue);
  t.equal(ids.parseHoldingBridge('rexian', ids.holdingBridge('other', 'general')), undefined, "another app's bridge");
  t.equal(ids.parseHoldingBridge('rexian', ids.talkBridge(call)), undefined);
});

t.test("an agent's channel name gives back the agent of the endpoint it rang", async (t) => {
  for (const agent of ['1001', 'zhang-san'])
    t.equal(ids.agentOfChannelName(`PJSIP/${ids.agentEndpoint(agent)}-0000001f`), agent);
  t.equal(ids.agentOfChannelName('PJSIP/pstn-0000001f'), undefined);
  t.equal(ids.agentOfChannelName(`PJSIP/${ids.agentEndpoint('1001')}`), undefined, 'an endpoint is not a channel');
});
