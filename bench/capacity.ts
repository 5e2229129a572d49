// `npm run bench:capacity`: how many simultaneous calls this machine holds (issue 17 §3).
// Steps of rising load, each a steady mix of citizens: a third in the IVR (a menu that waits
// for a key), a third waiting with music, a third talking to auto-answer agents who hang up
// after a fixed talk time, whereupon the next waiting caller is connected. Per step: calls
// held, the controller's and Asterisk's CPU, the controller's RSS and event-loop lag p99
// (its /metrics), agent freed → connected (AMI: the agent's Hangup to its next BridgeEnter)
// and SIPp failures; the first step where one of them gives is the knee. Then the same call
// rates through app_queue alone (dialplan, no controller) for CPU per call side by side.
// The citizens and agents send no audio of their own: Asterisk plays prompts and music, and
// a talk bridge carries nothing, so the talk third is cheaper than a real conversation.
// Both record every talk (rexian's queues do by default; app_queue through MixMonitor).
// --quick: two small steps, short calls. The last line printed is one JSON object.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ControllerProcess } from '../test/helpers/controller.js';
import { sleep, until } from '../test/helpers/lab.js';
import { scratchDir } from '../test/helpers/scratch.js';
import {
  agentScenario,
  AgentTurnarounds,
  type CapacityLab,
  citizenScenarios,
  NUMBERS,
  startCapacityLab,
} from './lib/capacity-lab.js';
import { cpuShare, loadAverage, pidListeningOn, type ProcSample, sampleProcess } from './lib/proc-stats.js';
import { callerNumbers, type SippCounters, type SippLoad, startSippLoad } from './lib/sipp-load.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const QUICK = args.has('quick');
const STEPS = (args.get('steps') ?? (QUICK ? '6,15' : '30,60,90,120,150,180,240'))
  .split(',')
  .map(Number)
  .filter((n) => n >= 3);
/** app_queue runs these steps too (default: the first, middle and last rexian steps that held). */
const NATIVE_STEPS = args.get('native-steps')?.split(',').map(Number);
const TALK_S = Number(args.get('talk') ?? (QUICK ? 5 : 15));
const RAMP_S = Number(args.get('ramp') ?? (QUICK ? 4 : 8));
const WINDOW_S = Number(args.get('window') ?? (QUICK ? 10 : 30));
const SLOT = 35;
/** prom-client's default monitorEventLoopDelay resolution. */
const EVENT_LOOP_SAMPLING_MS = 10;
const skip = new Set((args.get('skip') ?? '').split(',').filter(Boolean));

/** Where a step gives: any of these (app_queue's own turnaround is about 1 s: it rechecks once a second). */
const LIMITS = { failedShare: 0.01, heldShare: 0.9, turnaroundP99Ms: 1500, lagP99Ms: 200, cpuCores: 1.8 };

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round1 = (x: number): number => Math.round(x * 10) / 10;

interface StepResult {
  kind: 'rexian' | 'app_queue';
  target: number;
  heldMean: number;
  heldMin: number;
  talking: number;
  controllerCpu: number;
  asteriskCpu: number;
  controllerRssMb: number;
  controllerFds: number;
  asteriskFds: number;
  lagP99Ms: number;
  turnaroundP50Ms: number;
  turnaroundP99Ms: number;
  turnarounds: number;
  callsDone: number;
  failed: number;
  placed: number;
  cpuMsPerCall: number;
  gave: string[];
}

interface Bench {
  cap: CapacityLab;
  dir: string;
  agents: SippLoad;
  watcher: AgentTurnarounds;
  scenarios: { queue: string; ivr: string };
  controller?: { process: ControllerProcess; pid: number };
  loggedIn: number;
  callerBase: number;
}

async function lagP99Ms(controller: ControllerProcess, token: string): Promise<number> {
  // prom-client resets its event-loop histogram at each scrape: this reading covers the time since the last.
  const res = await fetch(`${controller.url}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  const m = /^rexian_nodejs_eventloop_lag_p99_seconds\s+(\S+)/m.exec(text);
  // Node's histogram records each whole interval between its timer's runs, the 10 ms sampling
  // tick included: the lag is what lies beyond it.
  return m ? Math.max(0, Number(m[1]) * 1000 - EVENT_LOOP_SAMPLING_MS) : NaN;
}

async function useAgents(b: Bench, kind: StepResult['kind'], count: number): Promise<void> {
  if (kind === 'rexian') {
    for (const id of b.cap.agentIds.slice(b.loggedIn, count)) {
      const res = await b.controller!.process.api('POST', `/api/agents/${id}/login`, { ready: true });
      if (res.status >= 300) throw new Error(`login of ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    b.loggedIn = Math.max(b.loggedIn, count);
    return;
  }
  // app_queue: every agent is a member of rexian-fallback; the first `count` take calls.
  for (const [i, id] of b.cap.agentIds.entries())
    await b.watcher.action({
      action: 'QueuePause',
      queue: 'rexian-fallback',
      interface: `PJSIP/agent-${id}`,
      paused: i < count ? 'false' : 'true',
      reason: 'bench',
    });
}

async function runStep(b: Bench, kind: StepResult['kind'], target: number): Promise<StepResult> {
  const agents = Math.max(1, Math.round(target / 3));
  const queued = 2 * agents; // talking + waiting
  const inIvr = Math.max(1, target - queued);
  await useAgents(b, kind, agents);
  b.watcher.reset();
  const queueCalls = queued + Math.ceil((agents / TALK_S) * (RAMP_S + WINDOW_S));
  const ivrCalls = inIvr + Math.ceil((inIvr / TALK_S) * (RAMP_S + WINDOW_S));
  const base = b.callerBase;
  b.callerBase += queueCalls + ivrCalls + 10;
  const name = `${kind}-${target}`;
  const queue = startSippLoad({
    dir: b.dir,
    name: `${name}-queue`,
    scenario: b.scenarios.queue,
    remote: `127.0.0.1:${b.cap.lab.ports.sip}`,
    service: kind === 'rexian' ? NUMBERS.rexianQueue : NUMBERS.nativeQueue,
    localPort: b.cap.agentPort + 1,
    mediaPort: b.cap.lab.ports.sippMedia + 10,
    limit: queued,
    rate: Math.max(1, Math.ceil(queued / RAMP_S)),
    calls: queueCalls,
    injection: callerNumbers(b.dir, `${name}-queue`, base, queueCalls),
    extraArgs: ['-timeout', `${RAMP_S + WINDOW_S + 6 * TALK_S + 60}s`],
  });
  const ivr = startSippLoad({
    dir: b.dir,
    name: `${name}-ivr`,
    scenario: b.scenarios.ivr,
    remote: `127.0.0.1:${b.cap.lab.ports.sip}`,
    service: kind === 'rexian' ? NUMBERS.rexianIvr : NUMBERS.nativeIvr,
    localPort: b.cap.agentPort + 2,
    mediaPort: b.cap.lab.ports.sippMedia + 20,
    limit: inIvr,
    rate: Math.max(1, Math.ceil(inIvr / RAMP_S)),
    calls: ivrCalls,
    injection: callerNumbers(b.dir, `${name}-ivr`, base + queueCalls + 5, ivrCalls),
    extraArgs: ['-timeout', `${RAMP_S + WINDOW_S + 3 * TALK_S + 60}s`],
  });
  const asteriskPid = b.cap.lab.asterisk.pid()!;
  await sleep(RAMP_S * 1000 + 2000);
  const sum = (a: SippCounters, c: SippCounters): SippCounters => ({
    current: a.current + c.current,
    total: a.total + c.total,
    successful: a.successful + c.successful,
    failed: a.failed + c.failed,
  });
  const controllerPid = kind === 'rexian' ? b.controller!.pid : undefined;
  const startSamples: { ast: ProcSample; ctl?: ProcSample; counters: SippCounters; at: number } = {
    ast: sampleProcess(asteriskPid),
    ctl: controllerPid ? sampleProcess(controllerPid) : undefined,
    counters: sum(queue.counters(), ivr.counters()),
    at: Date.now(),
  };
  if (kind === 'rexian') await lagP99Ms(b.controller!.process, b.cap.lab.env.REXIAN_ADMIN_TOKEN!);
  const held: number[] = [];
  const talking: number[] = [];
  const windowEnd = startSamples.at + WINDOW_S * 1000;
  while (Date.now() < windowEnd) {
    await sleep(1000);
    held.push(queue.counters().current + ivr.counters().current);
    talking.push(b.agents.counters().current);
  }
  const end = {
    ast: sampleProcess(asteriskPid),
    ctl: controllerPid ? sampleProcess(controllerPid) : undefined,
    counters: sum(queue.counters(), ivr.counters()),
    at: Date.now(),
  };
  const lag = kind === 'rexian' ? await lagP99Ms(b.controller!.process, b.cap.lab.env.REXIAN_ADMIN_TOKEN!) : NaN;
  const turnarounds = b.watcher.between(startSamples.at, end.at);
  // Let the step drain: every call placed ends (the last waiting callers are still served).
  const drained = await Promise.race([
    Promise.all([queue.done, ivr.done]).then(() => true),
    sleep((4 * TALK_S + 60) * 1000).then(() => false),
  ]);
  if (!drained) {
    queue.kill();
    ivr.kill();
  }
  await sleep(1000);
  const final = sum(queue.counters(), ivr.counters());
  const controllerCpu = end.ctl && startSamples.ctl ? cpuShare(startSamples.ctl, end.ctl) : 0;
  const asteriskCpu = cpuShare(startSamples.ast, end.ast);
  const callsDone = end.counters.successful - startSamples.counters.successful;
  const cpuMs =
    end.ast.cpuMs - startSamples.ast.cpuMs + (end.ctl && startSamples.ctl ? end.ctl.cpuMs - startSamples.ctl.cpuMs : 0);
  const heldMean = held.reduce((a, c) => a + c, 0) / Math.max(1, held.length);
  const result: StepResult = {
    kind,
    target,
    heldMean: round1(heldMean),
    heldMin: Math.min(...held),
    talking: round1(talking.reduce((a, c) => a + c, 0) / Math.max(1, talking.length)),
    controllerCpu: round1(controllerCpu * 100),
    asteriskCpu: round1(asteriskCpu * 100),
    controllerRssMb: round1(end.ctl?.rssMb ?? 0),
    controllerFds: end.ctl?.fds ?? 0,
    asteriskFds: end.ast.fds,
    lagP99Ms: round1(lag),
    turnaroundP50Ms: round1(percentile(turnarounds, 50)),
    turnaroundP99Ms: round1(percentile(turnarounds, 99)),
    turnarounds: turnarounds.length,
    callsDone,
    failed: final.failed,
    placed: final.total,
    cpuMsPerCall: round1(cpuMs / Math.max(1, callsDone)),
    gave: [],
  };
  if (final.failed > Math.max(1, LIMITS.failedShare * final.total)) result.gave.push(`${final.failed} SIPp failures`);
  if (heldMean < LIMITS.heldShare * target) result.gave.push(`held ${result.heldMean} of ${target}`);
  if (result.turnaroundP99Ms > LIMITS.turnaroundP99Ms)
    result.gave.push(`freed→connected p99 ${result.turnaroundP99Ms} ms`);
  if (result.lagP99Ms > LIMITS.lagP99Ms) result.gave.push(`event-loop lag p99 ${result.lagP99Ms} ms`);
  if (controllerCpu + asteriskCpu > LIMITS.cpuCores)
    result.gave.push(`CPU ${round1((controllerCpu + asteriskCpu) * 100)}%`);
  if (!drained) result.gave.push('calls did not drain');
  if (result.failed > 0)
    process.stdout.write(
      `    SIPp errors (last lines): ${(queue.errors() + ivr.errors()).trim().split('\n').slice(-3).join(' | ')}\n`,
    );
  await sleep(2000);
  return result;
}

function printRow(r: StepResult): void {
  process.stdout.write(
    `  ${r.kind.padEnd(9)} ${String(r.target).padStart(4)}  held ${String(r.heldMean).padStart(6)} (min ${String(r.heldMin).padStart(4)}, talking ${String(r.talking).padStart(5)})` +
      `  CPU ctl ${String(r.controllerCpu).padStart(5)}% ast ${String(r.asteriskCpu).padStart(5)}%` +
      `  RSS ${String(r.controllerRssMb).padStart(5)} MB  lag p99 ${String(r.lagP99Ms).padStart(5)} ms` +
      `  freed→connected p50 ${r.turnaroundP50Ms} p99 ${r.turnaroundP99Ms} ms (${r.turnarounds})` +
      `  failed ${r.failed}/${r.placed}  ${r.cpuMsPerCall} CPU-ms/call (${r.callsDone} calls)  fds ctl ${r.controllerFds} ast ${r.asteriskFds}` +
      `${r.gave.length ? `  GAVE: ${r.gave.join('; ')}` : ''}\n`,
  );
}

// ---- main -----------------------------------------------------------------------------------

const dir = scratchDir('capacity');
const maxTarget = Math.max(...STEPS, ...(NATIVE_STEPS ?? []));
console.log(
  `capacity: steps ${STEPS.join(', ')} simultaneous calls (⅓ IVR, ⅓ waiting with music, ⅓ talking; talk ${TALK_S} s), window ${WINDOW_S} s; load average before: ${loadAverage()}`,
);
const cap = await startCapacityLab(SLOT, Math.ceil(maxTarget / 3), dir);
const watcher = new AgentTurnarounds(cap.lab);
const agents = startSippLoad({
  dir,
  name: 'agents',
  scenario: agentScenario(),
  localPort: cap.agentPort,
  mediaPort: cap.lab.ports.sippMedia,
  extraArgs: ['-d', String(TALK_S * 1000), '-rtp_echo'],
});
const bench: Bench = {
  cap,
  dir,
  agents,
  watcher,
  scenarios: citizenScenarios(dir, TALK_S * 1000),
  loggedIn: 0,
  callerBase: 13_900_000_000,
};
const results: StepResult[] = [];
try {
  await watcher.start();
  if (!skip.has('rexian')) {
    const controller = new ControllerProcess(
      { ...cap.lab.env, REXIAN_LOG_LEVEL: 'info' },
      cap.lab.ports.controller,
    ).start();
    try {
      await controller.waitReady(30_000);
      const pid = await until('controller pid', () => pidListeningOn(cap.lab.ports.controller), 10_000);
      bench.controller = { process: controller, pid };
      console.log('rexian (controller: IVR, queue, routing over ARI)');
      for (const target of STEPS) {
        const r = await runStep(bench, 'rexian', target);
        results.push(r);
        printRow(r);
        if (r.gave.length) break;
      }
    } finally {
      await controller.kill('SIGKILL');
      bench.controller = undefined;
    }
  }
  if (!skip.has('app_queue')) {
    const held = results.filter((r) => r.gave.length === 0).map((r) => r.target);
    const picked = [...new Set([held[0], held[Math.floor((held.length - 1) / 2)], held.at(-1)])];
    const steps = NATIVE_STEPS ?? (held.length ? (picked as number[]) : STEPS.slice(0, 1));
    console.log('app_queue (dialplan only: Playback, Queue(rexian-fallback), Read loop; no controller)');
    for (const target of steps) {
      const r = await runStep(bench, 'app_queue', target);
      results.push(r);
      printRow(r);
      if (r.gave.length) break;
    }
    // Evidence that app_queue recorded its talks as rexian does (one WAV per answered call).
    const monitor = join(cap.lab.asterisk.hostDir, 'spool/monitor');
    const wavs = existsSync(monitor) ? readdirSync(monitor).filter((f) => f.startsWith('capacity-')).length : 0;
    console.log(`  app_queue recordings written: ${wavs}`);
    if (wavs === 0) console.log('  WARNING: app_queue recorded no talk: its CPU per call is not like for like');
  }
} catch (err) {
  console.error(cap.lab.asterisk.tailLog(40));
  throw err;
} finally {
  agents.kill();
  await watcher.stop();
  await cap.close();
}

const ours = results.filter((r) => r.kind === 'rexian');
const native = results.filter((r) => r.kind === 'app_queue');
const heldOurs = ours.filter((r) => r.gave.length === 0);
const knee = ours.find((r) => r.gave.length > 0);
// CPU per call compared at the highest step both ran and held.
const common = heldOurs
  .map((r) => [r, native.find((n) => n.target === r.target && n.gave.length === 0)] as const)
  .filter(([, n]) => n)
  .at(-1);
console.log(
  `knee: ${knee ? `${knee.target} calls (${knee.gave.join('; ')})` : 'not reached'}; held: ${heldOurs.at(-1)?.target ?? 0} calls; load average after: ${loadAverage()}`,
);
if (common)
  console.log(
    `CPU per call at ${common[0].target} calls: rexian ${common[0].cpuMsPerCall} ms (controller + Asterisk), app_queue ${common[1]!.cpuMsPerCall} ms`,
  );
console.log(
  JSON.stringify({
    capacity_max_calls: heldOurs.at(-1)?.target ?? 0,
    capacity_knee_calls: knee?.target ?? null,
    capacity_knee_reason: knee?.gave.join('; ') ?? null,
    cpu_ms_per_call_ours: common?.[0].cpuMsPerCall ?? null,
    cpu_ms_per_call_app_queue: common?.[1]!.cpuMsPerCall ?? null,
    compared_at_calls: common?.[0].target ?? null,
    steps: results,
  }),
);
process.exit(0);
