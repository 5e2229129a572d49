// A supervisor's own browser seat: one endpoint per person, safe to dial whatever the person's
// name, its password derived from the agents' master secret (never stored), distinct from any
// agent's; and only our own endpoints' names reach `PJSIP/<name>`.
import t from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { endpointDialString } from '../../src/calls/dial-string.js';
import { isRexianError } from '../../src/errors/index.js';
import { supervisorEndpoint, supervisorSipPassword } from '../../src/supervision/seats.js';

function refusal(name: string): string {
  try {
    endpointDialString(name);
  } catch (err) {
    if (isRexianError(err, 'REXIAN_BAD_DIAL_STRING')) return String(err.details.reason);
    throw err;
  }
  return '';
}

t.test('a supervisor named in ASCII gets sup-<name>; any other name a stable hashed seat', async (t) => {
  t.equal(supervisorEndpoint('banzhang'), 'sup-banzhang');
  t.equal(supervisorEndpoint('li.na_2'), 'sup-li.na_2');
  const chinese = supervisorEndpoint('张班长');
  t.match(chinese, /^sup-x[0-9a-f]{20}$/, `a Chinese name becomes a dialable seat (${chinese})`);
  t.equal(supervisorEndpoint('张班长'), chinese, 'the same name, the same seat');
  t.not(supervisorEndpoint('李班长'), chinese, 'another name, another seat');
  t.equal(refusal(chinese), '', 'and it passes the dial-string check');
  t.equal(refusal(supervisorEndpoint('banzhang')), '');
});

t.test("the seat's password derives from the master secret, and is no agent's", async (t) => {
  const a = supervisorSipPassword('master-1', 'banzhang');
  t.equal(a.length, 24);
  t.equal(supervisorSipPassword('master-1', 'banzhang'), a, 'derived, so nothing is stored');
  t.not(supervisorSipPassword('master-2', 'banzhang'), a, 'another secret, another password');
  t.not(supervisorSipPassword('master-1', 'laoli'), a, 'another supervisor, another password');
  t.not(agentSipPassword('master-1', 'banzhang'), a, 'an agent with the same id has another password');
});

t.test('only our endpoint names reach a dial string: nothing that adds a party, a trunk or options', async (t) => {
  t.equal(endpointDialString('agent-1001'), 'PJSIP/agent-1001');
  t.equal(endpointDialString('sup-banzhang'), 'PJSIP/sup-banzhang');
  for (const forged of [
    'agent-1&PJSIP/9911',
    'sup-x/trunk',
    '13800138000@pstn',
    'a,b',
    '',
    '-lead',
    'a b',
    'x'.repeat(81),
  ])
    t.equal(refusal(forged), 'not-endpoint', `refused: ${JSON.stringify(forged)}`);
});
