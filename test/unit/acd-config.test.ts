// The queues file and the agent roster: shipped files load; mistakes name file:line:col.
import { join } from 'node:path';

import t from 'tap';

import { parseQueueConfig } from '../../src/acd/queue-config.js';
import { agentSipPassword, parseRoster, rosterEndpoints } from '../../src/acd/roster.js';
import { repoRoot } from '../../src/asterisk/instance.js';
import { problems } from '../helpers/problems.js';

t.test('the shipped queues: every line of the hotline, targets and overflow before the target', async (t) => {
  const { queues } = parseQueueConfig(join(repoRoot, 'sip-config/queues.yaml'));
  t.same([...queues.keys()].sort(), [
    'enterprise',
    'general',
    'line-12315',
    'line-12329',
    'line-12333',
    'line-12348',
    'line-12366',
    'talent',
    'yihaoda',
  ]);
  const general = queues.get('general')!;
  t.same(
    general.targets,
    [
      { seconds: 10, percent: 90 },
      { seconds: 15, percent: 95 },
    ],
    'defaults apply',
  );
  t.equal(queues.get('yihaoda')!.wrapUpSeconds, 30, 'a queue overrides a default');
  t.equal(queues.get('line-12315')!.skills[0], 'line-12315', 'skills default to the queue id');
  for (const q of queues.values()) {
    for (const rule of q.overflow)
      if (rule.afterSeconds !== undefined)
        t.ok(rule.afterSeconds < q.targets[0]!.seconds, `${q.id} overflows before its first target`);
  }
});

t.test('queue mistakes are named with file:line:col', async (t) => {
  const text = `queues:
  general:
    name: 综合
    ringSecond: 10
  yihaoda:
    name: 一号答
    overflow:
      - { afterSeconds: 12, toQueue: genral }
      - { afterSeconds: 3 }
`;
  const found = problems(() => parseQueueConfig('queues.yaml', text));
  t.match(found.join('\n'), /queues\.yaml:4:5: unknown key "queues\.general\.ringSecond"/);
  t.equal(found.length, 1, 'schema errors first; rules only once the shape is right');
  const rules = problems(() => parseQueueConfig('queues.yaml', text.replace('    ringSecond: 10\n', '')));
  t.match(rules.join('\n'), /queues\.yaml:7:29: queue "yihaoda" overflows to queue "genral", which is not defined/);
  t.match(rules.join('\n'), /waits 12 s, not before the 10 s target/);
  t.match(rules.join('\n'), /queues\.yaml:8:9: queue "yihaoda" overflow rule 2 does nothing/);
});

t.test('the shipped roster and the PJSIP endpoints it makes', async (t) => {
  const roster = parseRoster(join(repoRoot, 'sip-config/agents.yaml'));
  t.ok(roster.agents.size >= 3);
  t.same(roster.ringNoAnswer, { state: 'not-ready', reason: 'no-answer' });
  t.equal(roster.notReadyReasons.break, '小休');
  const endpoints = rosterEndpoints(roster, 'master-secret-123');
  const web = endpoints.find((e) => e.webrtc);
  t.ok(web, 'a browser agent gets a WebRTC endpoint');
  t.equal(
    endpoints[0]!.secret,
    agentSipPassword('master-secret-123', endpoints[0]!.id),
    'passwords derive from the master secret',
  );
  t.not(
    agentSipPassword('master-secret-123', '1001'),
    agentSipPassword('master-secret-123', '1002'),
    'and differ per agent',
  );
  t.not(agentSipPassword('master-secret-123', '1001'), agentSipPassword('other-secret-456', '1001'));
});

t.test('roster mistakes are named with file:line:col', async (t) => {
  const found = problems(() =>
    parseRoster(
      'agents.yaml',
      `ringNoAnswer: { reason: lunch }
agents:
  "1001": { name: 王芳, skills: { general: 120 } }
`,
    ),
  );
  t.match(found.join('\n'), /agents\.yaml:3:33: "agents\.1001\.skills\.general" must be <= 99/);
  const reason = problems(() =>
    parseRoster(
      'agents.yaml',
      `ringNoAnswer: { reason: lunch }
agents:
  "1001": { name: 王芳, skills: { general: 5 } }
`,
    ),
  );
  t.match(reason.join('\n'), /agents\.yaml:1:1: ringNoAnswer\.reason "lunch" is not one of notReadyReasons/);
});
