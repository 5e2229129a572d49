// Originating with our own channel id makes a retry harmless: the second request finds the
// first channel (Asterisk answers 409 for a reused id) and the phone rings once.
import { randomUUID } from 'node:crypto';

import { pino } from 'pino';
import t from 'tap';

import { AriClient } from '../../src/asterisk/ari.js';
import { type Lab, startLab, until } from '../helpers/lab.js';
import { runSipp, startLine } from '../helpers/sipp.js';

let lab: Lab;
let ari: AriClient;

t.before(async () => {
  lab = await startLab('originate', 5, {
    agents: [{ id: '2001', secret: 'lab-agent-secret', contact: 'sip:agent-2001@127.0.0.1:20572' }],
  });
  ari = new AriClient({
    url: lab.asterisk.ariUrl,
    username: lab.env.REXIAN_ARI_USERNAME!,
    password: lab.env.REXIAN_ARI_PASSWORD!,
    app: 'rexian-originate-test',
    logger: pino({ level: 'silent' }),
  });
  ari.start();
  await until('ARI connected', () => ari.connected);
});

t.teardown(async () => {
  await ari?.stop();
  await lab?.close();
});

t.test('a retried originate with the same channel id rings the agent once', async (t) => {
  const agent = runSipp({
    scenario: 'agent-answers.xml',
    localPort: lab.ports.sipp + 2,
    mediaPort: lab.ports.sippMedia + 20,
    timeoutSec: 30,
  });
  const channelId = `rexian-test-${randomUUID()}`;
  const first = await ari.originate({ channelId, endpoint: 'PJSIP/agent-2001', callerId: '12345', timeout: 20 });
  const second = await ari.originate({ channelId, endpoint: 'PJSIP/agent-2001', callerId: '12345', timeout: 20 });
  t.equal(first.id, channelId, 'Asterisk used our id');
  t.equal(second.id, channelId, 'the retry returned the same channel');
  const channels = await ari.channels();
  t.equal(
    channels.filter((c) => c.name.startsWith('PJSIP/agent-2001')).length,
    1,
    'exactly one channel to the agent exists',
  );
  await until(
    'agent answered',
    async () => (await ari.request<{ state: string }>('GET', `/channels/${channelId}`)).state === 'Up',
    15_000,
  );
  await ari.request('DELETE', `/channels/${channelId}`);
  const result = await agent.done;
  t.equal(result.exitCode, 0, `the agent phone saw one normal call ${result.errors}`);
  const invites = result.messages.filter((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.equal(invites.length, 1, 'one INVITE reached the phone');
});
