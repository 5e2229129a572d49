// The alert rules file (src/alerts/rules.ts) and its words (src/alerts/messages.ts): the shipped
// file loads, every problem names file:line:col, and messages come in zh-CN and en.
import { join } from 'node:path';

import t from 'tap';

import { parseQueueConfig } from '../../src/acd/queue-config.js';
import { alertMessage } from '../../src/alerts/messages.js';
import { parseAlertRules } from '../../src/alerts/rules.js';
import { repoRoot } from '../../src/asterisk/instance.js';

const queues = new Map([
  ['general', { targets: [{ seconds: 10 }, { seconds: 15 }] }],
  ['special', { targets: [{ seconds: 10 }] }],
]);
const problemsOf = (text: string): string => {
  try {
    parseAlertRules('alerts.yaml', { queues }, text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
};

t.test('the shipped rules load against the shipped queues', async (t) => {
  const { queues: shipped } = parseQueueConfig(join(repoRoot, 'sip-config/queues.yaml'));
  const { rules } = parseAlertRules(join(repoRoot, 'sip-config/alerts.yaml'), { queues: shipped });
  t.ok(rules.length >= 8);
  t.same(
    [...new Set(rules.map((r) => r.kind))].sort(),
    [
      'agent-not-ready',
      'ami-disconnected',
      'ari-disconnected',
      'longest-wait',
      'outbox-growing',
      'outbox-length',
      'service-level',
      'waiting-no-agent-ready',
    ],
    'every kind has a rule',
  );
});

t.test('a rule: its params, `for` as forSeconds, the file webhook unless its own, minCalls by default', async (t) => {
  const { rules } = parseAlertRules(
    'alerts.yaml',
    { queues },
    `webhook: https://hooks.example/all
rules:
  sl:
    kind: service-level
    queue: general
    seconds: 15
    minutes: 30
    belowPercent: 80
    severity: warning
    for: 60
  quiet:
    kind: waiting-no-agent-ready
    severity: critical
    webhook: ""
    message: { zh-CN: "{queue}无人就绪", en: "nobody ready in {queue}" }
`,
  );
  t.same(rules, [
    {
      id: 'sl',
      kind: 'service-level',
      queue: 'general',
      seconds: 15,
      minutes: 30,
      belowPercent: 80,
      severity: 'warning',
      forSeconds: 60,
      webhook: 'https://hooks.example/all',
      minCalls: 10,
    },
    {
      id: 'quiet',
      kind: 'waiting-no-agent-ready',
      severity: 'critical',
      message: { 'zh-CN': '{queue}无人就绪', en: 'nobody ready in {queue}' },
      forSeconds: 0,
    },
  ]);
});

t.test('every problem is named with file:line:col', async (t) => {
  const text = `rules:
  a:
    kind: longest-wait
    severity: warning
    minutes: 3
  b:
    kind: service-level
    queue: special
    seconds: 15
    minutes: 30
    belowPercent: 80
    severity: warning
  c:
    kind: waiting-no-agent-ready
    queue: nowhere
    severity: loud
  d:
    kind: service-level
    severity: critical
`;
  t.match(problemsOf(text), /alerts\.yaml:16:5: "rules\.c\.severity" must be one of warning, critical/);
  // The file's shape first; the rules a schema cannot say once it has one.
  const message = problemsOf(text.replace('severity: loud', 'severity: warning'));
  t.match(message, /alerts\.yaml:5:5: rule "a" \(longest-wait\) does not take "minutes"/);
  t.match(message, /alerts\.yaml:2:3: rule "a" \(longest-wait\) needs "aboveSeconds"/);
  t.match(message, /alerts\.yaml:9:5: rule "b" asks for service level at 15 s, but queue "special" does not target it/);
  t.match(
    message,
    /alerts\.yaml:15:5: rule "c" watches queue "nowhere", which is not defined \(known: general, special\)/,
  );
  t.match(message, /alerts\.yaml:17:3: rule "d" \(service-level\) needs "seconds"/);
  t.match(
    problemsOf(
      'rules:\n  a: { kind: ari-disconnected, severity: warning }\n  a: { kind: ami-disconnected, severity: warning }\n',
    ),
    /alerts\.yaml:3:3: key "a" appears more than once/,
  );
  t.match(problemsOf('rules: [\n'), /alerts\.yaml:\d+:\d+: /, 'YAML that does not parse');
});

t.test('messages in zh-CN and en, from the kind or the rule, with the figures filled in', async (t) => {
  const rule = {
    id: 'sl',
    kind: 'service-level' as const,
    severity: 'warning' as const,
    forSeconds: 0,
    seconds: 15,
    minutes: 30,
    belowPercent: 80,
  };
  t.same(alertMessage(rule, { queue: 'general', queueName: '综合', value: 62.5, threshold: 80 }), {
    'zh-CN': '综合近30分钟15秒服务水平 62.5%，低于 80%',
    en: '综合: service level at 15 s over the last 30 minutes is 62.5%, below 80%',
  });
  t.same(
    alertMessage({ ...rule, message: { en: '{agent} {unknown} {value}' } }, { agent: '1001', value: 1, threshold: 2 })
      .en,
    '1001 {unknown} 1',
    'an unknown placeholder stays as written',
  );
  t.match(alertMessage(rule, { value: 1, threshold: 2 })['zh-CN'], /^全部队列/, 'no queue: the whole hotline');
});
