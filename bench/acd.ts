// `npm run bench:acd`: how fast and how well rexian's ACD routes, printed as figures.
//  1. Agent freed → caller connected, side by side with Asterisk's own app_queue on the same
//     Asterisk, with the same SIPp agents, in the same run (measured by one AMI observer: from
//     the moment the agent is made available to the BridgeEnter of the agent's channel), and
//     the floor under both: a bare ARI path with no logic (originate, answer, bridge).
//  2. Service level under load vs Erlang C: Poisson arrivals of SIPp callers, exponential talk
//     times (time-compressed), N agents; measured against the M/M/N prediction and against a
//     perfect queue replaying the same calls (bench/lib/ideal-queue.ts), call by call, with the
//     excess split into the offer (routing, our logic) and the ring (phone, bridge set-up).
//  3. Routing cost at scale: one routing decision with 2,000 agents and 5,000 waiting calls,
//     in process, against real Redis.
// The last line printed is one JSON object with the headline figures.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { pino } from 'pino';

import { averageSpeedOfAnswer, serviceLevel } from '../src/acd/erlang-c.js';
import { Router } from '../src/acd/router.js';
import { WaitingList } from '../src/acd/waiting.js';
import { AriClient, type AriEvent } from '../src/asterisk/ari.js';
import { LogEvent } from '../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, type LabAgent, startAcdLab } from '../test/helpers/acd-lab.js';
import { observeAmi } from '../test/helpers/ami-observer.js';
import { ControllerProcess, type LogLine } from '../test/helpers/controller.js';
import { deleteKeys, sleep, until } from '../test/helpers/lab.js';
import { scratchDir } from '../test/helpers/scratch.js';
import type { RunningSipp } from '../test/helpers/sipp.js';
import { compareWithIdeal, simulateIdealQueue } from './lib/ideal-queue.js';
import { freedAgents } from './lib/idle-agents.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ROUNDS = Number(args.get('rounds') ?? 20);
const LOAD_CALLS = Number(args.get('calls') ?? 240);
const LOAD_AGENTS = Number(args.get('agents') ?? 4);
const MEAN_TALK_S = Number(args.get('talk') ?? 4);
const LOAD_RHO = Number(args.get('rho') ?? 0.7);
const SL_T = Number(args.get('t') ?? 2);
/** Where to write the load run's controller log (JSON lines), to read where an excess comes from. */
const LOG_FILE = args.get('log');
/** Section 2's figures again from a saved log (`--log`), nothing run: `--replay=<file> --agents=N`. */
const REPLAY = args.get('replay');
const skip = new Set((args.get('skip') ?? '').split(',').filter(Boolean));
if (REPLAY) for (const part of ['connect', 'route']) skip.add(part);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---- 1. agent freed → caller connected ------------------------------------------------------

async function connectLatency(): Promise<{ ours: number[]; native: number[]; bare: number[] }> {
  // The agent talks half a second and hangs up; the citizens wait for the hang-up.
  const agents: LabAgent[] = [
    { id: 'q1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 500 },
  ];
  const lab = await startAcdLab('bench-connect', 15, agents, { extraDialplan: NATIVE_DIALPLAN });
  const controller = new ControllerProcess(
    { ...lab.lab.env, REXIAN_LOG_LEVEL: 'info' },
    lab.lab.ports.controller,
  ).start();
  const ami = await observeAmi(lab.lab);
  const bare = bareAri(lab.lab.env);
  try {
    await controller.waitReady();
    await bare.ready;
    await controller.api('POST', '/api/agents/q1/login', {});
    const ours: number[] = [];
    const native: number[] = [];
    const bareTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // rexian: the caller waits in our queue; the agent becomes ready through the API.
      {
        const c = citizen(lab.lab, controller, { did: '7001', caller: `1360000${String(i).padStart(4, '0')}` });
        await c.log(LogEvent.callQueued);
        await sleep(200);
        const since = ami.events.length;
        const t0 = Date.now();
        await controller.api('POST', '/api/agents/q1/ready');
        const entered = await ami.waitFor(
          'agent joins the talk bridge',
          (e) => e.event === 'BridgeEnter' && /^PJSIP\/agent-q1-/.test(e.channel ?? '') && e.bridgetype !== 'holding',
          20_000,
          since,
        );
        ours.push(entered.receivedAt - t0);
        await c.sipp.done;
        await until(
          'agent back from the call',
          async () =>
            ['wrap-up', 'ready'].includes((await controller.api('GET', '/api/agents/q1')).body.state as string),
          10_000,
        );
        await controller.api('POST', '/api/agents/q1/not-ready', { reason: 'break' });
      }
      // app_queue: the caller waits in the native queue; the member is unpaused over AMI.
      {
        await ami.action({
          action: 'QueuePause',
          queue: 'rexian-fallback',
          interface: 'PJSIP/agent-q1',
          paused: 'true',
          reason: 'bench',
        });
        const c = citizen(lab.lab, controller, {
          did: '7999',
          caller: `1350000${String(i).padStart(4, '0')}`,
          expectController: false,
        });
        const since0 = ami.events.length;
        await ami.waitFor('caller joins the native queue', (e) => e.event === 'QueueCallerJoin', 10_000, since0);
        await sleep(200);
        const since = ami.events.length;
        const t0 = Date.now();
        await ami.action({
          action: 'QueuePause',
          queue: 'rexian-fallback',
          interface: 'PJSIP/agent-q1',
          paused: 'false',
        });
        const entered = await ami.waitFor(
          'member joins the bridge',
          (e) => e.event === 'BridgeEnter' && /^PJSIP\/agent-q1-/.test(e.channel ?? ''),
          30_000,
          since,
        );
        native.push(entered.receivedAt - t0);
        await c.sipp.done;
        await sleep(300);
      }
      // The floor: a bare ARI path with no logic at all (originate to the agent, and when the
      // agent answers add it to the caller's bridge), on the same Asterisk and SIPp agent.
      {
        const c = citizen(lab.lab, controller, {
          did: '7998',
          caller: `1370000${String(i).padStart(4, '0')}`,
          expectController: false,
        });
        const caller = await bare.next((e) => e.type === 'StasisStart' && !String(e.channel?.id).startsWith('bare-'));
        const bridgeId = `bare-bridge-${i}`;
        await bare.ari.ensureBridge(bridgeId, 'mixing', bridgeId);
        await bare.ari.bridges.add(bridgeId, caller.channel!.id);
        await sleep(200);
        const since = ami.events.length;
        const t0 = Date.now();
        const agentLeg = `bare-agent-${i}`;
        const answered = bare.next((e) => e.type === 'StasisStart' && e.channel?.id === agentLeg);
        await bare.ari.originate({ channelId: agentLeg, endpoint: 'PJSIP/agent-q1', timeout: 20 });
        await answered;
        await bare.ari.bridges.add(bridgeId, agentLeg);
        const entered = await ami.waitFor(
          'agent joins the bare bridge',
          (e) => e.event === 'BridgeEnter' && /^PJSIP\/agent-q1-/.test(e.channel ?? ''),
          20_000,
          since,
        );
        bareTimes.push(entered.receivedAt - t0);
        await bare.next((e) => e.type === 'StasisEnd' && e.channel?.id === agentLeg, 20_000);
        await bare.ari.hangupChannel(caller.channel!.id);
        await c.sipp.done;
        await bare.ari.request('DELETE', `/bridges/${bridgeId}`).catch(() => undefined);
        await sleep(300);
      }
      process.stdout.write(
        `  round ${i + 1}/${ROUNDS}: rexian ${ours.at(-1)} ms, app_queue ${native.at(-1)} ms, bare ARI ${bareTimes.at(-1)} ms\n`,
      );
    }
    return { ours, native, bare: bareTimes };
  } catch (err) {
    console.error(lab.lab.asterisk.tailLog(40));
    throw err;
  } finally {
    await bare.ari.stop();
    await ami.close();
    await controller.kill('SIGKILL');
    await lab.close();
  }
}

/** The bench's own numbers: into app_queue, and into the bare ARI app, next to rexian's Stasis numbers. */
const NATIVE_DIALPLAN = `
[from-pstn]
exten => 7999,1,Answer()
 same => n,Queue(rexian-fallback,t,,,3600)
 same => n,Hangup()
exten => 7998,1,Answer()
 same => n,Stasis(rexian-bare)
 same => n,Hangup()
`;

/** An ARI application of the bench's own (`rexian-bare`) on the lab's Asterisk, with a way to wait for its events. */
function bareAri(env: Record<string, string>) {
  const ari = new AriClient({
    url: env.REXIAN_ARI_URL!,
    username: env.REXIAN_ARI_USERNAME!,
    password: env.REXIAN_ARI_PASSWORD!,
    app: 'rexian-bare',
    logger: pino({ level: 'silent' }),
  });
  const seen: AriEvent[] = [];
  const waiters = new Set<{ match: (e: AriEvent) => boolean; resolve: (e: AriEvent) => void }>();
  ari.on('event', (e: AriEvent) => {
    for (const w of waiters)
      if (w.match(e)) {
        waiters.delete(w);
        w.resolve(e);
        return;
      }
    seen.push(e);
  });
  const ready = new Promise<void>((resolve) => ari.once('connected', () => resolve()));
  ari.start();
  return {
    ari,
    ready,
    /** The first event (already seen and not yet taken, or to come) that matches. */
    next(match: (e: AriEvent) => boolean, timeoutMs = 20_000): Promise<AriEvent> {
      const i = seen.findIndex(match);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w)) reject(new Error('bare ARI: the awaited event did not come'));
        }, timeoutMs);
      });
    },
  };
}

// ---- 2. service level under load vs Erlang C ----------------------------------------------

function exponential(mean: number): number {
  return -Math.log(1 - Math.random()) * mean;
}

async function loadVsErlangC(): Promise<Record<string, number>> {
  const dir = scratchDir('bench');
  // The agent's phone talks for a time read per call from an injection file, which holds
  // exponential samples drawn here (SIPp's own distributions need a GSL build).
  const scenario = join(dir, 'agent-exp.xml');
  const base = readFileSync(join(import.meta.dirname, '../test/sipp/agent-answers-then-hangs-up.xml'), 'utf8');
  writeFileSync(
    scenario,
    base.replace(
      '<pause/>',
      '<nop><action><assignstr assign_to="talk" value="[field0]"/><todouble assign_to="talkms" variable="talk"/></action></nop>\n  <pause variable="talkms"/>',
    ),
  );
  const agents: LabAgent[] = Array.from({ length: LOAD_AGENTS }, (_, i) => {
    const talks = join(dir, `talks-${i}.csv`);
    writeFileSync(
      talks,
      `SEQUENTIAL\n${Array.from({ length: LOAD_CALLS + 10 }, () => `${Math.round(exponential(MEAN_TALK_S * 1000))};`).join('\n')}\n`,
    );
    return {
      id: `l${i + 1}`,
      skills: { general: 5 },
      scenario: scenario as LabAgent['scenario'],
      extraArgs: ['-inf', talks],
    };
  });
  const lab: AcdLab = await startAcdLab('bench-load', 16, agents, { queues: LOAD_QUEUES });
  const controller = new ControllerProcess(
    { ...lab.lab.env, REXIAN_LOG_LEVEL: 'info' },
    lab.lab.ports.controller,
  ).start();
  try {
    await controller.waitReady();
    for (const a of agents) await controller.api('POST', `/api/agents/${a.id}/login`, { ready: true });
    const lambda = (LOAD_RHO * LOAD_AGENTS) / MEAN_TALK_S;
    process.stdout.write(
      `  ${LOAD_CALLS} calls, λ = ${round3(lambda)}/s, mean talk ${MEAN_TALK_S} s, ${LOAD_AGENTS} agents (offered load ${round3(lambda * MEAN_TALK_S)} erlangs)\n`,
    );
    const citizens: RunningSipp[] = [];
    const start = Date.now();
    for (let i = 0; i < LOAD_CALLS; i++) {
      await sleep(exponential(1000 / lambda));
      citizens.push(citizen(lab.lab, controller, { did: '7001', caller: `1340000${String(i).padStart(4, '0')}` }).sipp);
      if ((i + 1) % 20 === 0) process.stdout.write(`  placed ${i + 1}/${LOAD_CALLS}\n`);
    }
    const span = (Date.now() - start) / 1000;
    await Promise.all(citizens.map((c) => c.done));
    if (LOG_FILE) writeFileSync(LOG_FILE, controller.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return loadFigures(
      controller.logs,
      start,
      span,
      Date.now(),
      agents.map((a) => a.id),
    );
  } finally {
    await controller.kill('SIGKILL');
    await lab.close();
  }
}

/** Section 2 from a saved controller log: the placing is taken to span the first to the last arrival. */
function replayFigures(file: string): Record<string, number> {
  const logs = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
  const arrivals = logs.filter((l) => l.msg === 'call queued').map((l) => Number(l.enqueuedAt ?? l.time));
  const start = Math.min(...arrivals);
  return loadFigures(
    logs,
    start,
    (Math.max(...arrivals) - start) / 1000,
    logs.at(-1)!.time,
    Array.from({ length: LOAD_AGENTS }, (_, i) => `l${i + 1}`),
  );
}

/**
 * Section 2's figures from the load run's controller log (or a saved one, `--replay=<file>`):
 * `start` is when the first call was placed and `span` (s) how long the placing took.
 */
function loadFigures(
  logs: LogLine[],
  start: number,
  span: number,
  endMs: number,
  agentIds: string[],
): Record<string, number> {
  // The first tenth of the run is warm-up (the queue starts empty, which flatters any ACD).
  const warmEnd = start + (span * 1000) / 10;
  // A call's arrival is the instant its wait starts on the controller's clock (enqueuedAt, the
  // origin of every waitMs below), not the time of the "call queued" line: that line came after
  // the holding-bridge request, so under load the replay's arrivals were late by the hold
  // (up to ≈ 200 ms) and every call that had to wait showed that much excess it never had.
  const queuedAt = new Map(
    logs
      .filter((l) => l.msg === 'call queued')
      .map((l) => [l.callId, typeof l.enqueuedAt === 'number' ? l.enqueuedAt : l.time]),
  );
  const connects = logs.filter((l) => l.msg === 'call connected to agent' && (queuedAt.get(l.callId) ?? 0) >= warmEnd);
  const ends = new Map(
    logs
      .filter((l) => l.msg === 'agent hung up; ending the call' || l.msg === 'citizen hung up; agent goes to wrap-up')
      .map((l) => [l.callId, l.time]),
  );
  const waits = connects.map((l) => Number(l.waitMs) / 1000);
  const talks = connects.map((l) => ((ends.get(l.callId) ?? l.time) - l.time) / 1000).filter((x) => x > 0);
  const aht = talks.reduce((a, b) => a + b, 0) / Math.max(1, talks.length);
  const measuredLambda = logs.filter((l) => l.msg === 'call queued').length / span;
  const erlang = { arrivalRate: measuredLambda, handleTime: aht, agents: agentIds.length };
  // The same calls (arrival, talk) through a perfect queue with the same agents (issue 17 §1):
  // what any ACD could do at best; the difference per call is what rexian's path costs.
  const connectedAt = new Map(logs.filter((l) => l.msg === 'call connected to agent').map((l) => [l.callId, l]));
  // A call's talk is its phone's: from the agent's answer (where waitMs stops) to the hang-up.
  // Counted from the "connected" line instead, as before, each talk lost the set-up after the
  // answer (≈ 11 ms), so the perfect queue freed its agents earlier than the phones hung up and
  // every call behind them in a busy period showed the sum of those as excess.
  const offeredWait = new Map(
    logs.filter((l) => l.msg === 'call offered to agent').map((l) => [String(l.callId), Number(l.waitMs)]),
  );
  // The "offered" line is written just before the originate: the ring starts no earlier.
  const offeredAt = new Map(
    logs.filter((l) => l.msg === 'call offered to agent').map((l) => [String(l.callId), l.time]),
  );
  const replay = (withRing: boolean) =>
    simulateIdealQueue(
      [...queuedAt].map(([id, at]) => {
        const c = connectedAt.get(id);
        const from = withRing ? (offeredAt.get(String(id)) ?? at) : at + Number(c?.waitMs ?? 0);
        return {
          id: String(id),
          queue: 'general',
          arrivalMs: at - start,
          talkMs: c ? (ends.get(id) ?? c.time) - from : aht * 1000,
        };
      }),
      agentIds.map((id) => ({ id, skills: { general: 5 } })),
      { general: { skills: ['general'] } },
    );
  const measured = connects.map((l) => ({ id: String(l.callId), waitMs: Number(l.waitMs), answered: true }));
  const afterWarmUp = (outcomes: ReturnType<typeof replay>) =>
    outcomes.filter((o) => (queuedAt.get(o.id) ?? 0) >= warmEnd);
  const ideal = replay(false);
  const excess = compareWithIdeal(measured, afterWarmUp(ideal), SL_T * 1000);
  // The same perfect queue, but each call's service starts with its phone's own ring (offer to
  // answer, as measured): what is left is our logic alone, summed over a busy period.
  const excessRingIn = compareWithIdeal(measured, afterWarmUp(replay(true)), SL_T * 1000);
  // Where the excess comes from: the offer (routing and our logic, from the ideal instant to
  // the originate), the ring (originate to the agent's answer, where waitMs stops) and the
  // set-up after it (talk bridge, bookkeeping: to the "connected" line, an upper bound), split
  // by whether the perfect queue had an agent free on arrival or made the caller wait too.
  const idealById = new Map(ideal.map((o) => [o.id, o]));
  const routingMs: number[] = [];
  const ringMs: number[] = [];
  const setupMs: number[] = [];
  const excessFree: number[] = [];
  const excessWaited: number[] = [];
  for (const l of connects) {
    const offered = offeredWait.get(String(l.callId));
    const best = idealById.get(String(l.callId));
    const arrived = queuedAt.get(l.callId);
    if (offered === undefined || !best?.answered || arrived === undefined) continue;
    routingMs.push(offered - best.waitMs);
    ringMs.push(Number(l.waitMs) - offered);
    setupMs.push(l.time - (arrived + Number(l.waitMs)));
    (best.waitMs === 0 ? excessFree : excessWaited).push(Number(l.waitMs) - best.waitMs);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  // A freed agent while callers wait: the step to their next offer, and any agent left free.
  const offerLines = logs.filter((l) => l.msg === 'call offered to agent');
  const firstOffer = new Map<string, number>();
  const offerTo = new Map<string, number>(); // call|agent → that offer's time
  for (const l of offerLines) {
    if (!firstOffer.has(String(l.callId))) firstOffer.set(String(l.callId), l.time);
    offerTo.set(`${String(l.callId)}|${String(l.agentId)}`, l.time);
  }
  // An agent is free from the first word of their call's end: the wrap-up's end (wrapUpSeconds
  // 0 here) is often logged before the hang-up line, and the next offer between the two.
  const wrapEnds = new Map<string, number[]>();
  for (const l of logs)
    if (l.msg === 'wrap-up ended')
      wrapEnds.set(String(l.agentId), [...(wrapEnds.get(String(l.agentId)) ?? []), l.time]);
  const endOf = (id: string | undefined, agentId: string | undefined): number | undefined => {
    const hangUp = ends.get(id);
    const connected = connectedAt.get(id)?.time;
    const wrapEnd =
      agentId === undefined || connected === undefined ? undefined : wrapEnds.get(agentId)?.find((t) => t > connected);
    if (hangUp === undefined) return wrapEnd;
    return wrapEnd === undefined ? hangUp : Math.min(hangUp, wrapEnd);
  };
  const freed = freedAgents(
    [...queuedAt].map(([id, at]) => {
      const agentId = connectedAt.get(id)?.agentId as string | undefined;
      return {
        id: String(id),
        queuedAt: at,
        firstOfferAt: firstOffer.get(String(id)),
        agentId,
        offeredAt: agentId === undefined ? undefined : offerTo.get(`${String(id)}|${agentId}`),
        endAt: endOf(id, agentId),
      };
    }),
  );
  return {
    freed_to_offer_cases: freed.gapsMs.length,
    freed_to_offer_p50_ms: round1(percentile(freed.gapsMs, 50)),
    freed_to_offer_p99_ms: round1(percentile(freed.gapsMs, 99)),
    idle_while_waiting: freed.idle.length,
    excess_routing_mean_ms: round1(mean(routingMs)),
    excess_routing_p99_ms: round1(percentile(routingMs, 99)),
    excess_ring_mean_ms: round1(mean(ringMs)),
    excess_ring_p99_ms: round1(percentile(ringMs, 99)),
    excess_setup_mean_ms: round1(mean(setupMs)),
    excess_setup_p99_ms: round1(percentile(setupMs, 99)),
    excess_free_calls: excessFree.length,
    excess_free_p50_ms: round1(percentile(excessFree, 50)),
    excess_free_p99_ms: round1(percentile(excessFree, 99)),
    excess_waited_calls: excessWaited.length,
    excess_waited_p50_ms: round1(percentile(excessWaited, 50)),
    excess_waited_p99_ms: round1(percentile(excessWaited, 99)),
    calls: queuedAt.size,
    answered: logs.filter((l) => l.msg === 'call connected to agent').length,
    measured: connects.length,
    lambda: round3(measuredLambda),
    aht: round1(aht),
    sl_measured: round3(waits.filter((w) => w <= SL_T).length / Math.max(1, waits.length)),
    sl_erlang_c: round3(serviceLevel(erlang, SL_T)),
    asa_measured_s: round3(waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length)),
    asa_erlang_c_s: round3(averageSpeedOfAnswer(erlang)),
    sl_ideal: round3(excess.serviceLevelIdeal),
    excess_wait_mean_ms: round1(excess.meanMs),
    excess_wait_p99_ms: round1(excess.p99Ms),
    excess_ring_in_ideal_mean_ms: round1(excessRingIn.meanMs),
    excess_ring_in_ideal_p99_ms: round1(excessRingIn.p99Ms),
    occupancy: round3(talks.reduce((a, b) => a + b, 0) / (agentIds.length * ((endMs - start) / 1000))),
  };
}

const LOAD_QUEUES = acdQueuesWith(`  ringSeconds: 10
  wrapUpSeconds: 0
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`);

// ---- 3. routing cost at scale --------------------------------------------------------------

async function routingCost(): Promise<number[]> {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `rexian-bench:route:${randomBytes(4).toString('hex')}`;
  try {
    const router = new Router(redis, prefix);
    const waiting = new WaitingList(redis, prefix);
    const queues = Array.from({ length: 10 }, (_, i) => `q${i}`);
    const pipe = redis.pipeline();
    for (let i = 0; i < 5000; i++)
      pipe.zadd(`${prefix}:queue:${queues[i % 10]}:waiting`, WaitingList.score(i % 3, 1_000_000 + i), `c${i}`);
    await pipe.exec();
    for (let i = 0; i < 2000; i++) {
      // Each agent has its queue's skill and one secondary.
      await router.registerAgent(`a${i}`, { [`q${i % 10}`]: 1 + (i % 9), [`q${(i + 3) % 10}`]: 1 });
    }
    // Half the agents ready, the rest on calls: a busy hour.
    for (let i = 0; i < 2000; i += 2) await router.setAgentState(`a${i}`, 'ready', '', '', 1000 + i);
    const requests = queues.map((q, i) => ({ queue: q, skills: [q, queues[(i + 7) % 10]!] }));
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = process.hrtime.bigint();
      const m = await router.match(requests);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!m || 'deferTo' in m) break;
      // Keep the sizes steady: the agent is ready again and a new caller arrives.
      await router.setAgentState(m.agentId, 'ready');
      await waiting.enqueue(m.queue, `${m.callId}-again`, 0);
    }
    return times;
  } finally {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

// ---- main -----------------------------------------------------------------------------------

const result: Record<string, number | string> = {};
if (!skip.has('connect')) {
  console.log(`1. agent freed → caller connected (${ROUNDS} rounds each, same Asterisk, same SIPp agent)`);
  const { ours, native, bare } = await connectLatency();
  Object.assign(result, {
    bare_connect_p50_ms: round1(percentile(bare, 50)),
    bare_connect_p99_ms: round1(percentile(bare, 99)),
    ours_connect_p50_ms: round1(percentile(ours, 50)),
    ours_connect_p99_ms: round1(percentile(ours, 99)),
    app_queue_connect_p50_ms: round1(percentile(native, 50)),
    app_queue_connect_p99_ms: round1(percentile(native, 99)),
  });
  console.log(`   rexian    p50 ${result.ours_connect_p50_ms} ms  p99 ${result.ours_connect_p99_ms} ms`);
  console.log(`   app_queue p50 ${result.app_queue_connect_p50_ms} ms  p99 ${result.app_queue_connect_p99_ms} ms`);
  console.log(
    `   bare ARI  p50 ${result.bare_connect_p50_ms} ms  p99 ${result.bare_connect_p99_ms} ms (the floor: originate, answer, bridge)`,
  );
  console.log(`   app_queue median ÷ rexian median: ${round1(percentile(native, 50) / percentile(ours, 50))}×`);
  console.log(
    `   rexian median − bare ARI median: ${round1(percentile(ours, 50) - percentile(bare, 50))} ms of routing and logic`,
  );
}
if (!skip.has('load')) {
  console.log(`2. service level under load vs Erlang C (answered within ${SL_T} s; time-compressed)`);
  const load = REPLAY ? replayFigures(REPLAY) : await loadVsErlangC();
  console.log(
    `   measured: SL ${load.sl_measured}, ASA ${load.asa_measured_s} s, occupancy ${load.occupancy} (λ ${load.lambda}/s, AHT ${load.aht} s, ${load.answered}/${load.calls} answered, ${load.measured} after warm-up measured)`,
  );
  console.log(`   Erlang C: SL ${load.sl_erlang_c}, ASA ${load.asa_erlang_c_s} s`);
  console.log(
    `   perfect queue, same calls and agents: SL ${load.sl_ideal}; rexian's excess wait per call mean ${load.excess_wait_mean_ms} ms, p99 ${load.excess_wait_p99_ms} ms`,
  );
  console.log(
    `   of which offer (routing, logic) mean ${load.excess_routing_mean_ms} ms p99 ${load.excess_routing_p99_ms} ms; ` +
      `ring mean ${load.excess_ring_mean_ms} ms p99 ${load.excess_ring_p99_ms} ms`,
  );
  console.log(
    `   against a perfect queue whose calls start with their phone's own ring: excess mean ` +
      `${load.excess_ring_in_ideal_mean_ms} ms, p99 ${load.excess_ring_in_ideal_p99_ms} ms (our logic alone)`,
  );
  console.log(
    `   after the answer, talk bridge and bookkeeping (not in the wait): mean ${load.excess_setup_mean_ms} ms ` +
      `p99 ${load.excess_setup_p99_ms} ms`,
  );
  console.log(
    `   excess of calls the perfect queue answered at once (${load.excess_free_calls}): ` +
      `p50 ${load.excess_free_p50_ms} ms p99 ${load.excess_free_p99_ms} ms; of calls it made wait too ` +
      `(${load.excess_waited_calls}): p50 ${load.excess_waited_p50_ms} ms p99 ${load.excess_waited_p99_ms} ms`,
  );
  console.log(
    `   an agent freed while callers waited → a waiting caller offered (${load.freed_to_offer_cases} times): ` +
      `p50 ${load.freed_to_offer_p50_ms} ms p99 ${load.freed_to_offer_p99_ms} ms; ` +
      `an agent free ≥ 300 ms while a caller waited: ${load.idle_while_waiting} times`,
  );
  Object.assign(result, {
    freed_to_offer_p50_ms: load.freed_to_offer_p50_ms,
    freed_to_offer_p99_ms: load.freed_to_offer_p99_ms,
    idle_while_waiting: load.idle_while_waiting,
    sl_ideal: load.sl_ideal,
    excess_wait_mean_ms: load.excess_wait_mean_ms,
    excess_wait_p99_ms: load.excess_wait_p99_ms,
    excess_routing_p99_ms: load.excess_routing_p99_ms,
    excess_ring_p99_ms: load.excess_ring_p99_ms,
    excess_setup_p99_ms: load.excess_setup_p99_ms,
    excess_free_p99_ms: load.excess_free_p99_ms,
    excess_waited_p99_ms: load.excess_waited_p99_ms,
    excess_ring_in_ideal_p99_ms: load.excess_ring_in_ideal_p99_ms,
    sl_measured: load.sl_measured,
    sl_erlang_c: load.sl_erlang_c,
    asa_measured_s: load.asa_measured_s,
    asa_erlang_c_s: load.asa_erlang_c_s,
    sl_threshold_s: SL_T,
  });
}
if (!skip.has('route')) {
  console.log('3. routing decision with 2,000 agents and 5,000 waiting calls (10 queues, Redis Lua)');
  const times = await routingCost();
  result.route_decision_p50_ms = round3(percentile(times, 50));
  result.route_decision_p99_ms = round3(percentile(times, 99));
  console.log(
    `   ${times.length} decisions: p50 ${result.route_decision_p50_ms} ms, p99 ${result.route_decision_p99_ms} ms`,
  );
}
console.log(JSON.stringify(result));
process.exit(0);
