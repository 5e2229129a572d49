// The capacity bench's lab: one Asterisk with a wide RTP range (hundreds of calls need
// hundreds of ports; a test lab's 200 hold about 100 channels), many agent endpoints whose
// fixed contacts all point at one SIPp that answers every call (auto-answer phones), a flow
// that sends 7001 through a prompt to the queue and keeps 7010 in a menu, and the same two
// numbers as plain dialplan into app_queue (7901, 7910) for the comparison. The dialplan text
// lives in the lab's rendered config only: dialplans/ and sip-config/ are not touched.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pino } from 'pino';

import { agentSipPassword } from '../../src/acd/roster.js';
import { AmiClient } from '../../src/asterisk/ami.js';
import { hotlineNumbers, repoRoot } from '../../src/asterisk/instance.js';
import { type Lab, startLab, until } from '../../test/helpers/lab.js';
import { citizenScenario } from '../../test/helpers/sipp.js';

/** Asterisk's RTP ports here: above the kernel's ephemeral range and every test lab's ranges. */
export const RTP_RANGE = { start: 61_000, end: 63_998 };

export const NUMBERS = { rexianQueue: '7001', rexianIvr: '7010', nativeQueue: '7901', nativeIvr: '7910' };

const FLOW = `id: capacity
numbers: ["${NUMBERS.rexianQueue}", "${NUMBERS.rexianIvr}"]
start: route
nodes:
  route:
    type: branch
    conditions:
      - { when: { did: ["${NUMBERS.rexianIvr}"] }, next: menu }
    otherwise: greet
  greet: { type: play, prompt: fallback-apology, next: wait }
  wait: { type: queue, queue: general, onNoAgents: bye }
  menu:
    type: menu
    prompt: fallback-apology
    options: { "1": greet }
    timeout: 10
    retries: 5
    noInput: { next: bye }
    invalid: { next: bye }
  bye: { type: hangup }
`;

const QUEUES = `defaults:
  ringSeconds: 10
  wrapUpSeconds: 0
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""
queues:
  general: { name: 综合, skills: [general] }
`;

/**
 * The same two callers' paths as dialplan into app_queue: the same prompt (the fallback
 * apology, which the rendered [globals] names), then rexian-fallback (every agent a member),
 * or the prompt again and again while waiting for a key. The talk is recorded as rexian's
 * queues record it (a WAV per call, from the agent's answer: MixMonitor on the member's
 * channel, from Queue's gosub), so both sides pay for quality-inspection recording. Queue's
 * gosub argument is a context alone (app_queue runs `<context>,s,1`): written as
 * context^s^1 it named no context, nothing was recorded, and app_queue looked cheaper.
 */
const NATIVE_DIALPLAN = `
[from-pstn]
exten => ${NUMBERS.nativeQueue},1,Answer()
 same => n,Playback(\${REXIAN_FALLBACK_PROMPT})
 same => n,Queue(rexian-fallback,t,,,3600,,capacity-record-talk)
 same => n,Hangup()
exten => ${NUMBERS.nativeIvr},1,Answer()
 same => n(menu),Read(choice,\${REXIAN_FALLBACK_PROMPT},1,,1,10)
 same => n,Goto(menu)

[capacity-record-talk]
exten => s,1,MixMonitor(capacity-\${UNIQUEID}.wav)
 same => n,Return()
`;

export interface CapacityLab {
  lab: Lab;
  agentIds: string[];
  /** The one SIP port every agent endpoint's contact points at. */
  agentPort: number;
  close(): Promise<void>;
}

export async function startCapacityLab(slot: number, agentCount: number, dir: string): Promise<CapacityLab> {
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir, { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/flows-greeting/calendar.yaml'), join(flowsDir, 'calendar.yaml'));
  writeFileSync(join(flowsDir, 'capacity.yaml'), FLOW);
  writeFileSync(join(dir, 'queues.yaml'), QUEUES);
  const agentIds = Array.from({ length: agentCount }, (_, i) => `c${i + 1}`);
  writeFileSync(
    join(dir, 'agents.yaml'),
    `agents:\n${agentIds.map((id) => `  ${id}: { name: 容量${id}, skills: { general: 5 }, device: sip, autoAnswer: true }`).join('\n')}\n`,
  );
  const sipSecret = 'lab-agent-master-secret';
  const agentPort = 20_000 + slot * 100 + 70;
  const lab = await startLab('bench-capacity', slot, {
    flowsDir,
    queuesFile: join(dir, 'queues.yaml'),
    agentsFile: join(dir, 'agents.yaml'),
    pstnContact: `sip:127.0.0.1:${agentPort + 9}`,
    numbers: [...hotlineNumbers, NUMBERS.rexianQueue, NUMBERS.rexianIvr],
    extraDialplan: NATIVE_DIALPLAN,
    agents: agentIds.map((id) => ({
      id,
      secret: agentSipPassword(sipSecret, id),
      contact: `sip:agent-${id}@127.0.0.1:${agentPort}`,
    })),
  });
  lab.env.REXIAN_AGENT_SIP_SECRET = sipSecret;
  // The lab's RTP range holds ~100 channels: widen it for this instance only, and reload.
  writeFileSync(
    join(lab.asterisk.hostDir, 'etc/rtp.conf'),
    `[general]\nrtpstart=${RTP_RANGE.start}\nrtpend=${RTP_RANGE.end}\n`,
    { mode: 0o600 },
  );
  await lab.asterisk.command('module reload res_rtp_asterisk.so');
  return { lab, agentIds, agentPort, close: () => lab.close() };
}

/** Citizen scenarios with a caller number per call ([field0] of an injection file). */
export function citizenScenarios(dir: string, ivrHoldMs: number): { queue: string; ivr: string } {
  const perCall = (text: string): string => text.replaceAll('[caller]', '[field0]');
  const queue = join(dir, 'citizen-queue.xml');
  writeFileSync(queue, perCall(readFileSync(join(repoRoot, 'test/sipp/citizen-waits-for-bye.xml'), 'utf8')));
  const ivr = join(dir, 'citizen-ivr.xml');
  writeFileSync(ivr, perCall(readFileSync(citizenScenario([], { hangUpAfterMs: ivrHoldMs }), 'utf8')));
  return { queue, ivr };
}

/** The agents' phone: answers every call, talks `talkMs`, hangs up. */
export function agentScenario(): string {
  return join(repoRoot, 'test/sipp/agent-answers-then-hangs-up.xml');
}

/**
 * Agent freed → connected, as Asterisk tells it (AMI), the same for rexian and app_queue: the
 * Hangup of an agent's channel, then the next BridgeEnter of a channel of the same agent into
 * a talk bridge. Only those two events are kept (hundreds of calls make millions of others).
 */
export class AgentTurnarounds {
  private readonly freedAt = new Map<string, number>();
  private readonly turnarounds: Array<{ at: number; ms: number }> = [];
  private readonly client: AmiClient;

  constructor(lab: Lab) {
    this.client = new AmiClient({
      host: '127.0.0.1',
      port: lab.ports.ami,
      username: lab.env.REXIAN_AMI_USERNAME!,
      password: lab.env.REXIAN_AMI_PASSWORD!,
      logger: pino({ level: 'silent' }),
    });
    this.client.on('event', (e: Record<string, string>) => {
      const agent = /^PJSIP\/agent-([^-]+)-/.exec(e.channel ?? '')?.[1];
      if (!agent) return;
      const now = Date.now();
      if (e.event === 'Hangup') this.freedAt.set(agent, now);
      else if (e.event === 'BridgeEnter' && e.bridgetype !== 'holding') {
        const freed = this.freedAt.get(agent);
        if (freed === undefined) return;
        this.freedAt.delete(agent);
        this.turnarounds.push({ at: now, ms: now - freed });
      }
    });
  }

  async start(): Promise<void> {
    this.client.start();
    await until('AMI watcher connected', () => this.client.connected, 10_000);
  }

  /** Turnarounds (ms) whose connect fell in [from, to). */
  between(from: number, to: number): number[] {
    return this.turnarounds.filter((t) => t.at >= from && t.at < to).map((t) => t.ms);
  }

  /** Forgets who was freed (between runs: a stale hang-up would pair with the next run's first call). */
  reset(): void {
    this.freedAt.clear();
  }

  action(action: Record<string, string>): Promise<Record<string, string>> {
    return this.client.action(action);
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
