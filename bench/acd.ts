// `npm run bench:acd`: how fast and how well rexian's ACD routes, printed as figures.
//  1. Agent freed → caller connected, side by side with Asterisk's own app_queue on the same
//     Asterisk, with the same SIPp agents, in the same run (measured by one AMI observer: from
//     the moment the agent is made available to the BridgeEnter of the agent's channel).
//  2. Service level under load vs Erlang C: Poisson arrivals of SIPp callers, exponential talk
//     times (time-compressed), N agents; measured against the M/M/N prediction.
//  3. Routing cost at scale: one routing decision with 2,000 agents and 5,000 waiting calls,
//     in process, against real Redis.
// The last line printed is one JSON object with the headline figures.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { averageSpeedOfAnswer, serviceLevel } from '../src/acd/erlang-c.js';
import { Router } from '../src/acd/router.js';
import { WaitingList } from '../src/acd/waiting.js';
import { type AcdLab, acdQueuesWith, citizen, type LabAgent, startAcdLab } from '../test/helpers/acd-lab.js';
import { observeAmi } from '../test/helpers/ami-observer.js';
import { ControllerProcess } from '../test/helpers/controller.js';
import { deleteKeys, sleep, until } from '../test/helpers/lab.js';
import { scratchDir } from '../test/helpers/scratch.js';
import type { RunningSipp } from '../test/helpers/sipp.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ROUNDS = Number(args.get('rounds') ?? 20);
const LOAD_CALLS = Number(args.get('calls') ?? 240);
const LOAD_AGENTS = Number(args.get('agents') ?? 4);
const MEAN_TALK_S = Number(args.get('talk') ?? 4);
const LOAD_RHO = Number(args.get('rho') ?? 0.7);
const SL_T = Number(args.get('t') ?? 2);
const skip = new Set((args.get('skip') ?? '').split(',').filter(Boolean));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---- 1. agent freed → caller connected ------------------------------------------------------

async function connectLatency(): Promise<{ ours: number[]; native: number[] }> {
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
  try {
    await controller.waitReady();
    await controller.api('POST', '/api/agents/q1/login', {});
    const ours: number[] = [];
    const native: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // rexian: the caller waits in our queue; the agent becomes ready through the API.
      {
        const c = citizen(lab.lab, controller, { did: '7001', caller: `1360000${String(i).padStart(4, '0')}` });
        await c.log('call queued');
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
      process.stdout.write(`  round ${i + 1}/${ROUNDS}: rexian ${ours.at(-1)} ms, app_queue ${native.at(-1)} ms\n`);
    }
    return { ours, native };
  } catch (err) {
    console.error(lab.lab.asterisk.tailLog(40));
    throw err;
  } finally {
    await ami.close();
    await controller.kill('SIGKILL');
    await lab.close();
  }
}

/** The bench's own number into app_queue, next to rexian's Stasis numbers. */
const NATIVE_DIALPLAN = `
[from-pstn]
exten => 7999,1,Answer()
 same => n,Queue(rexian-fallback,t,,,3600)
 same => n,Hangup()
`;

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
    // The first tenth of the run is warm-up (the queue starts empty, which flatters any ACD).
    const warmEnd = start + (span * 1000) / 10;
    const queuedAt = new Map(controller.logs.filter((l) => l.msg === 'call queued').map((l) => [l.callId, l.time]));
    const connects = controller.logs.filter(
      (l) => l.msg === 'call connected to agent' && (queuedAt.get(l.callId) ?? 0) >= warmEnd,
    );
    const ends = new Map(
      controller.logs
        .filter((l) => l.msg === 'agent hung up; ending the call' || l.msg === 'citizen hung up; agent goes to wrap-up')
        .map((l) => [l.callId, l.time]),
    );
    const waits = connects.map((l) => Number(l.waitMs) / 1000);
    const talks = connects.map((l) => ((ends.get(l.callId) ?? l.time) - l.time) / 1000).filter((x) => x > 0);
    const aht = talks.reduce((a, b) => a + b, 0) / Math.max(1, talks.length);
    const measuredLambda = LOAD_CALLS / span;
    const erlang = { arrivalRate: measuredLambda, handleTime: aht, agents: LOAD_AGENTS };
    return {
      calls: LOAD_CALLS,
      answered: controller.logs.filter((l) => l.msg === 'call connected to agent').length,
      measured: connects.length,
      lambda: round3(measuredLambda),
      aht: round1(aht),
      sl_measured: round3(waits.filter((w) => w <= SL_T).length / Math.max(1, waits.length)),
      sl_erlang_c: round3(serviceLevel(erlang, SL_T)),
      asa_measured_s: round3(waits.reduce((a, b) => a + b, 0) / Math.max(1, waits.length)),
      asa_erlang_c_s: round3(averageSpeedOfAnswer(erlang)),
      occupancy: round3(talks.reduce((a, b) => a + b, 0) / (LOAD_AGENTS * ((Date.now() - start) / 1000))),
    };
  } finally {
    await controller.kill('SIGKILL');
    await lab.close();
  }
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
  const { ours, native } = await connectLatency();
  Object.assign(result, {
    ours_connect_p50_ms: round1(percentile(ours, 50)),
    ours_connect_p99_ms: round1(percentile(ours, 99)),
    app_queue_connect_p50_ms: round1(percentile(native, 50)),
    app_queue_connect_p99_ms: round1(percentile(native, 99)),
  });
  console.log(`   rexian    p50 ${result.ours_connect_p50_ms} ms  p99 ${result.ours_connect_p99_ms} ms`);
  console.log(`   app_queue p50 ${result.app_queue_connect_p50_ms} ms  p99 ${result.app_queue_connect_p99_ms} ms`);
  console.log(`   app_queue median ÷ rexian median: ${round1(percentile(native, 50) / percentile(ours, 50))}×`);
}
if (!skip.has('load')) {
  console.log(`2. service level under load vs Erlang C (answered within ${SL_T} s; time-compressed)`);
  const load = await loadVsErlangC();
  console.log(
    `   measured: SL ${load.sl_measured}, ASA ${load.asa_measured_s} s, occupancy ${load.occupancy} (λ ${load.lambda}/s, AHT ${load.aht} s, ${load.answered}/${load.calls} answered, ${load.measured} after warm-up measured)`,
  );
  console.log(`   Erlang C: SL ${load.sl_erlang_c}, ASA ${load.asa_erlang_c_s} s`);
  Object.assign(result, {
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
