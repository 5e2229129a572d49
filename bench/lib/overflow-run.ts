// One run of `bench:overflow` on a lab's Asterisk: SIPp citizens dial at the traffic's
// instants, and the bench plays the citizens' clock through AMI, the same way whatever
// queues the call (app_queue or rexian): a caller not answered within their patience hangs
// up, and an answered caller hangs up when their talk time is over. So patience and talk
// belong to the call, not to the agent who happens to take it, and the three runs differ
// only in who answers when. "Answered" is Asterisk's word for it: the moment a caller's
// channel and an agent's channel share a (non-holding) bridge.
import { pino } from 'pino';

import { AmiClient } from '../../src/asterisk/ami.js';
import type { Lab } from '../../test/helpers/lab.js';
import { sleep } from '../../test/helpers/lab.js';
import { citizenScenario, type RunningSipp, runSipp } from '../../test/helpers/sipp.js';
import type { BenchCall, CallOutcome, LineId } from './overflow-traffic.js';

type AmiEvent = Record<string, string>;

interface Tracked {
  call: BenchCall;
  channel?: string;
  arrivedAt?: number;
  connectedAt?: number;
  agentId?: string;
  abandoned: boolean;
  timer?: NodeJS.Timeout;
}

const AGENT_CHANNEL = /^PJSIP\/agent-(.+)-[0-9a-f]+$/;
/** The lab's 28 citizen ports sit below its controller port (as in test/helpers/acd-lab.ts). */
const CITIZEN_PORTS = 28;

export interface RunOptions {
  lab: Lab;
  calls: BenchCall[];
  /** The number each line's citizens dial. */
  did: Record<LineId, string>;
  /** Caller numbers are this prefix and the call's sequence number (unique per run). */
  callerPrefix: string;
  progress?: (line: string) => void;
}

/** Connects to the lab's AMI as the bench (events and Hangup actions). */
export async function benchAmi(lab: Lab): Promise<AmiClient> {
  const ami = new AmiClient({
    host: '127.0.0.1',
    port: lab.ports.ami,
    username: lab.env.REXIAN_AMI_USERNAME!,
    password: lab.env.REXIAN_AMI_PASSWORD!,
    logger: pino({ level: 'silent' }),
  });
  ami.start();
  for (let i = 0; i < 100 && !ami.connected; i++) await sleep(100);
  if (!ami.connected) throw new Error('bench: AMI did not connect');
  return ami;
}

export async function runTraffic(ami: AmiClient, o: RunOptions): Promise<CallOutcome[]> {
  const byCaller = new Map<string, Tracked>();
  const byChannel = new Map<string, Tracked>();
  const bridges = new Map<string, Set<string>>();
  const hangUp = (t: Tracked): void => {
    if (t.channel) void ami.action({ action: 'Hangup', channel: t.channel }).catch(() => undefined);
  };
  const onEvent = (e: AmiEvent): void => {
    const now = Date.now();
    const kind = e.event;
    if (kind === 'Newchannel' && e.channel?.startsWith('PJSIP/pstn-')) {
      const t = byCaller.get(e.calleridnum ?? '');
      if (!t || t.channel) return;
      t.channel = e.channel;
      t.arrivedAt = now;
      byChannel.set(e.channel, t);
      t.timer = setTimeout(() => {
        if (t.connectedAt !== undefined) return;
        t.abandoned = true;
        hangUp(t);
      }, t.call.patienceMs);
    } else if (kind === 'BridgeEnter' && e.bridgetype !== 'holding') {
      const members = bridges.get(e.bridgeuniqueid!) ?? new Set<string>();
      members.add(e.channel!);
      bridges.set(e.bridgeuniqueid!, members);
      const caller = [...members].map((c) => byChannel.get(c)).find((t) => t !== undefined);
      const agent = [...members].map((c) => AGENT_CHANNEL.exec(c)?.[1]).find((a) => a !== undefined);
      if (!caller || !agent || caller.connectedAt !== undefined || caller.abandoned) return;
      caller.connectedAt = now;
      caller.agentId = agent;
      clearTimeout(caller.timer);
      caller.timer = setTimeout(() => hangUp(caller), caller.call.talkMs);
    } else if (kind === 'BridgeLeave') {
      bridges.get(e.bridgeuniqueid!)?.delete(e.channel!);
    } else if (kind === 'Hangup') {
      const t = byChannel.get(e.channel ?? '');
      // Hung up by the hotline before any agent answered (no agents, queue full): not answered.
      if (t && t.connectedAt === undefined && !t.abandoned) {
        t.abandoned = true;
        clearTimeout(t.timer);
      }
    }
  };
  ami.on('event', onEvent);
  const scenario = citizenScenario([], 'wait-for-bye');
  const freePorts = Array.from({ length: CITIZEN_PORTS }, (_, k) => k);
  const running: Array<Promise<unknown>> = [];
  let portWaits = 0;
  try {
    const start = Date.now();
    for (const call of o.calls) {
      const due = start + call.atMs - Date.now();
      if (due > 0) await sleep(due);
      while (freePorts.length === 0) {
        portWaits++;
        await sleep(20);
      }
      const k = freePorts.shift()!;
      const caller = `${o.callerPrefix}${String(call.seq).padStart(4, '0')}`;
      byCaller.set(caller, { call, abandoned: false });
      const sipp: RunningSipp = runSipp({
        scenario,
        remote: `127.0.0.1:${o.lab.ports.sip}`,
        service: o.did[call.line],
        localPort: o.lab.ports.controller - 30 + k,
        mediaPort: 50_000 + (o.lab.ports.sippMedia - 30_000) + 4 * k,
        keys: { caller },
        timeoutSec: 600,
      });
      running.push(sipp.done.finally(() => freePorts.push(k)));
      if ((call.seq + 1) % 25 === 0) o.progress?.(`placed ${call.seq + 1}/${o.calls.length}`);
    }
    await Promise.race([Promise.allSettled(running), sleep(180_000)]);
    await sleep(500);
    if (portWaits > 0) o.progress?.(`note: arrivals waited ${portWaits * 20} ms in all for a free citizen port`);
  } finally {
    ami.off('event', onEvent);
    for (const t of byCaller.values()) clearTimeout(t.timer);
  }
  return [...byCaller.values()].map((t) => ({
    seq: t.call.seq,
    line: t.call.line,
    abandoned: t.abandoned,
    ...(t.connectedAt !== undefined && t.arrivedAt !== undefined
      ? { waitMs: t.connectedAt - t.arrivedAt, agentId: t.agentId! }
      : {}),
  }));
}
