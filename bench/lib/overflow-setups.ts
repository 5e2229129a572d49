// The three set-ups `bench:overflow` compares, on the same agents:
//  (a) Asterisk's app_queue with the strongest static configuration we know for it: the
//      specialists at penalty 0 in the 一号答 queue and the general agents as members there
//      at penalty 1, shut out at first (QUEUE_MAX_PENALTY=0) and let in after a fixed time by
//      a queue rule (penaltychange). The caller keeps their place and a freed specialist can
//      still take them, which a Queue() timeout into the general queue would throw away (the
//      caller goes to the back of another line and the specialists lose them for good).
//  (b) rexian with `afterSeconds` overflow at the same fixed time (addSkills: general).
//  (c) rexian with `whenPredictedBelowTarget` overflow (addSkills: general).
// The app_queue files are written into the lab's own rendered configuration (a temporary
// instance directory), never into sip-config/ or dialplans/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AmiClient } from '../../src/asterisk/ami.js';
import type { Lab } from '../../test/helpers/lab.js';

export interface BenchAgents {
  specialists: string[];
  general: string[];
}

/** Dialled numbers for app_queue: they come before the lab's `_X.` catch-all. */
export const APP_QUEUE_DID = { special: '7103', general: '7101' } as const;
/** The acd fixture flow's numbers for rexian: 7003 → queue special, 7001 → queue general. */
export const REXIAN_DID = { special: '7003', general: '7001' } as const;

export const appQueueDialplan = `
[from-pstn]
exten => ${APP_QUEUE_DID.general},1,Answer()
 same => n,Queue(bench-general,t,,,3600)
 same => n,Hangup()
exten => ${APP_QUEUE_DID.special},1,Answer()
 ; the general agents (penalty 1) are shut out until the queue rule raises the limit
 same => n,Set(QUEUE_MAX_PENALTY=0)
 same => n,Queue(bench-special,t,,,3600)
 same => n,Hangup()
`;

function queueBlock(name: string, members: Array<{ id: string; penalty: number }>): string {
  return `
[${name}]
; the longest-idle member first, as rexian; ring 15 s; no wrap-up (the bench has none)
strategy=leastrecent
timeout=15
retry=1
wrapuptime=0
ringinuse=no
autofill=yes
joinempty=yes
leavewhenempty=no
musicclass=default
announce-frequency=0
periodic-announce-frequency=0
announce-holdtime=no
announce-position=no
${name === 'bench-special' ? 'defaultrule=bench-overflow\n' : ''}${members.map((m) => `member => PJSIP/agent-${m.id},${m.penalty}`).join('\n')}
`;
}

/** Adds the bench's queues and rule to the lab's app_queue configuration and reloads it. */
export async function installAppQueue(lab: Lab, ami: AmiClient, agents: BenchAgents, afterS: number): Promise<void> {
  const etc = join(lab.asterisk.hostDir, 'etc');
  const queues = join(etc, 'queues.conf');
  writeFileSync(
    queues,
    readFileSync(queues, 'utf8') +
      queueBlock('bench-general', [...agents.general.map((id) => ({ id, penalty: 0 }))]) +
      queueBlock('bench-special', [
        ...agents.specialists.map((id) => ({ id, penalty: 0 })),
        ...agents.general.map((id) => ({ id, penalty: 1 })),
      ]),
    { mode: 0o600 },
  );
  // After afterS seconds of waiting, members up to penalty 1 (the general agents) may answer.
  writeFileSync(join(etc, 'queuerules.conf'), `[bench-overflow]\npenaltychange => ${afterS},1\n`, { mode: 0o600 });
  await ami.action({ action: 'Command', command: 'module reload app_queue.so' });
  const shown = await ami.action({ action: 'Command', command: 'queue show bench-special' });
  const text = JSON.stringify(shown);
  for (const id of [...agents.specialists, ...agents.general])
    if (!text.includes(`agent-${id}`)) throw new Error(`app_queue did not load member ${id}: ${text}`);
  const rules = JSON.stringify(await ami.action({ action: 'Command', command: 'queue show rules bench-overflow' }));
  if (!rules.includes(`${afterS}`)) throw new Error(`app_queue did not load the overflow rule: ${rules}`);
}

export type RexianRule = { afterSeconds: number } | { whenPredictedBelowTarget: true };

/** The lab's queues file for a rexian run: the acd fixture's queues, the 一号答 one with the rule. */
export function rexianQueues(rule: RexianRule): string {
  return `defaults:
  ringSeconds: 15
  wrapUpSeconds: 0
  maxWaitSeconds: 3600
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""
  record: false
queues:
  general: { name: 综合, skills: [general] }
  special:
    name: 一号答
    skills: [special]
    targets: [{ seconds: 10, percent: 90 }, { seconds: 15, percent: 95 }]
    overflow: [${JSON.stringify({ ...rule, addSkills: ['general'] })}]
  svq: { name: 评价测试, skills: [svskill] }
  tiny: { name: 小队列, skills: [general], maxLength: 1 }
  cbq: { name: 回拨测试, skills: [cbskill] }
`;
}
