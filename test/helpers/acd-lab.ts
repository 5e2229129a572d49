// An ACD lab: a roster of SIPp agents with fixed contacts, a queues file and a flow that
// sends each test number to a queue, on one Asterisk with one (or more) controllers.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { agentSipPassword } from '../../src/acd/roster.js';
import { hotlineNumbers, repoRoot } from '../../src/asterisk/instance.js';
import { maskNumber } from '../../src/calls/privacy.js';
import { LogEvent, type LogEventName } from '../../src/events/log-events.js';
import type { ControllerProcess, LogLine } from './controller.js';
import { type Lab, startLab } from './lab.js';
import { citizenScenario, type CitizenStep, type RunningSipp, runSipp } from './sipp.js';

export interface LabAgent {
  id: string;
  skills: Record<string, number>;
  /** SIPp scenario run as this agent's phone; none: the test runs the phone itself. */
  scenario:
    'agent-answers.xml' | 'agent-answers-then-hangs-up.xml' | 'agent-never-answers.xml' | 'none' | (string & {});
  device?: 'sip' | 'webrtc';
  autoAnswer?: boolean;
  team?: string;
  /** For agent-answers-then-hangs-up: talk time in ms. */
  talkMs?: number;
  /** More SIPp arguments for the phone (an injection file, say). */
  extraArgs?: string[];
}

export interface AcdLab {
  lab: Lab;
  dir: string;
  phones: Map<string, RunningSipp>;
  close(): Promise<void>;
}

/** Test numbers: each routes to a queue node of the acd fixture flow; 7008 asks for privacy. */
export const acdFlow = `id: acd
numbers: ["7001", "7002", "7003", "7004", "7005", "7006", "7007", "7008"]
start: route
nodes:
  route:
    type: branch
    conditions:
      - { when: { did: ["7002"] }, next: vip }
      - { when: { did: ["7003"] }, next: special }
      - { when: { did: ["7004"] }, next: callback }
      - { when: { did: ["7005"] }, next: surveyed }
      - { when: { did: ["7006"] }, next: impatient }
      - { when: { did: ["7007"] }, next: small }
      - { when: { did: ["7008"] }, next: private }
    otherwise: normal
  normal: { type: queue, queue: general, onNoAgents: bye }
  vip: { type: queue, queue: general, priority: 5, onNoAgents: bye }
  special: { type: queue, queue: special, onNoAgents: bye }
  callback: { type: queue, queue: cbq, onNoAgents: bye }
  surveyed: { type: queue, queue: svq, onNoAgents: bye }
  impatient: { type: queue, queue: general, maxWait: 5, onTimeout: sorry, onNoAgents: bye }
  small: { type: queue, queue: tiny, onNoAgents: sorry }
  private: { type: set, vars: { privacy: "yes", topic: "不动产" }, next: normal }
  sorry: { type: hangup, prompt: goodbye }
  bye: { type: hangup }
`;

/** The fixture's queues, under the given defaults (the ACD tests' unless told otherwise). */
export function acdQueuesWith(defaults: string): string {
  return `defaults:
${defaults.trimEnd()}
queues:
  general: { name: 综合, skills: [general] }
  svq: { name: 评价测试, skills: [svskill], afterCallFlow: survey }
  tiny: { name: 小队列, skills: [general], maxLength: 1 }
  special:
    name: 专项
    skills: [special]
    targets: [{ seconds: 10, percent: 90 }]
    overflow: [{ afterSeconds: 3, addSkills: [backup] }]
  cbq:
    name: 回拨测试
    skills: [cbskill]
    announce: { firstAfterSeconds: 1, everySeconds: 0 }
    callbackAfterEstimatedWaitSeconds: 1
`;
}

export const acdQueues = acdQueuesWith(`  ringSeconds: 4
  wrapUpSeconds: 2
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`);

export function agentPort(lab: Lab, index: number): number {
  return lab.ports.sipp + index;
}

export async function startAcdLab(
  name: string,
  slot: number,
  agents: LabAgent[],
  options: { prefix?: string; sipSecret?: string; phonesOfSlot?: number; extraDialplan?: string; queues?: string } = {},
): Promise<AcdLab> {
  const dir = mkdtempSync(join(tmpdir(), `rexian-acd-${name}-`));
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir);
  cpSync(join(repoRoot, 'test/fixtures/flows-greeting/calendar.yaml'), join(flowsDir, 'calendar.yaml'));
  writeFileSync(join(flowsDir, 'acd.yaml'), acdFlow);
  cpSync(join(repoRoot, 'ivr-flows/survey.yaml'), join(flowsDir, 'survey.yaml'));
  cpSync(join(repoRoot, 'ivr-flows/outbound-callback.yaml'), join(flowsDir, 'outbound-callback.yaml'));
  writeFileSync(join(dir, 'queues.yaml'), options.queues ?? acdQueues);
  writeFileSync(
    join(dir, 'agents.yaml'),
    `agents:\n${agents.map((a) => `  ${a.id}: { name: 测试${a.id}, skills: ${JSON.stringify(a.skills)}, device: ${a.device ?? 'sip'}, autoAnswer: ${a.autoAnswer ?? false}${a.team ? `, team: ${a.team}` : ''} }`).join('\n')}\n`,
  );
  const sipSecret = options.sipSecret ?? 'lab-agent-master-secret';
  // SIPp agents do not register: each endpoint gets a fixed contact at its phone's port.
  // Another lab's phones may serve this one too (two Asterisks, one set of agents).
  const ports = { sipp: 20_000 + (options.phonesOfSlot ?? slot) * 100 + 70 };
  const lab = await startLab(name, slot, {
    flowsDir,
    queuesFile: join(dir, 'queues.yaml'),
    agentsFile: join(dir, 'agents.yaml'),
    prefix: options.prefix,
    pstnContact: `sip:127.0.0.1:${ports.sipp + 9}`,
    numbers: [...hotlineNumbers, '7001', '7002', '7003', '7004', '7005', '7006', '7007', '7008'],
    extraDialplan: options.extraDialplan,
    agents: agents.map((a, i) => ({
      id: a.id,
      secret: agentSipPassword(sipSecret, a.id),
      webrtc: a.device === 'webrtc',
      ...(a.device === 'webrtc' ? {} : { contact: `sip:agent-${a.id}@127.0.0.1:${ports.sipp + i}` }),
    })),
  });
  lab.env.REXIAN_AGENT_SIP_SECRET = sipSecret;
  const phones = new Map<string, RunningSipp>();
  if (options.phonesOfSlot === undefined)
    agents.forEach((a, i) => {
      if (a.scenario === 'none') return;
      phones.set(
        a.id,
        runSipp({
          scenario: a.scenario,
          localPort: agentPort(lab, i),
          mediaPort: lab.ports.sippMedia + 40 + 4 * i,
          calls: 1000,
          timeoutSec: 900,
          extraArgs: [...(a.talkMs ? ['-d', String(a.talkMs)] : []), ...(a.extraArgs ?? [])],
        }),
      );
    });
  return {
    lab,
    dir,
    phones,
    async close() {
      for (const p of phones.values()) p.kill();
      await lab.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let citizenSeq = 0;
const busyPorts = new Set<number>();

/**
 * A citizen dialling a test number; the returned helpers find their call in the logs. Each
 * citizen takes a free one of the lab's 28 citizen ports until its call ends.
 */
export function citizen(
  lab: Lab,
  controller: ControllerProcess,
  options: { did: string; caller: string; steps?: CitizenStep[]; hangUpAfterMs?: number; expectController?: boolean },
) {
  let k = citizenSeq++ % 28;
  for (let tries = 0; busyPorts.has(lab.ports.controller - 30 + k) && tries < 28; tries++) k = (k + 1) % 28;
  const from = controller.logs.length;
  const sipp = runSipp({
    scenario: citizenScenario(
      options.steps ?? [],
      options.hangUpAfterMs !== undefined ? { hangUpAfterMs: options.hangUpAfterMs } : 'wait-for-bye',
    ),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: options.did,
    localPort: lab.ports.controller - 30 + k, // the lab's block of 100 ports, below the controller's
    mediaPort: 50_000 + (lab.ports.sippMedia - 30_000) + 4 * k,
    keys: { caller: options.caller },
    timeoutSec: 300,
  });
  const port = lab.ports.controller - 30 + k;
  busyPorts.add(port);
  void sipp.done.finally(() => busyPorts.delete(port));
  if (options.expectController === false)
    return { sipp, entered: new Promise<LogLine>(() => {}), log: () => new Promise<LogLine>(() => {}) };
  const entered = controller.waitForEvent(
    LogEvent.callEntered,
    (l) => l.caller === maskNumber(options.caller),
    30_000,
    from,
  );
  const log = async (
    event: LogEventName,
    timeoutMs = 30_000,
    extra: (l: LogLine) => boolean = () => true,
    c: ControllerProcess = controller,
  ): Promise<LogLine> => {
    const { callId } = await entered;
    return c.waitForEvent(event, (l) => l.callId === callId && extra(l), timeoutMs, 0);
  };
  return { sipp, entered, log };
}
