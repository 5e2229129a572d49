// `npm run bench:overflow` (issue 17 §2): overflow driven by the live service level against
// static rules. The same seeded Poisson traffic (a general line, and a 一号答 specialists' line
// whose calm and peak phases make the specialists miss their target part of the time) and
// the same SIPp agents go through (a) app_queue with its strongest static set-up, (b) rexian
// with `afterSeconds` overflow and (c) rexian with `whenPredictedBelowTarget`, one after the
// other on the same Asterisk build, each in its own lab (slots 32, 33, 34). Printed side by
// side: answered within 10 s and 15 s, abandoned, the specialists' share of specialist calls.
// Times are real (10 s and 15 s as the national bar); talk times are short so a run fits in
// minutes. --quick runs a short traffic for development. The last line is one JSON object.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import type { AmiClient } from '../src/asterisk/ami.js';
import { type AcdLab, type LabAgent, startAcdLab } from '../test/helpers/acd-lab.js';
import { ControllerProcess } from '../test/helpers/controller.js';
import { simulateIdealQueue } from './lib/ideal-queue.js';
import { benchAmi, runTraffic } from './lib/overflow-run.js';
import {
  APP_QUEUE_DID,
  appQueueDialplan,
  type BenchAgents,
  installAppQueue,
  REXIAN_DID,
  rexianQueues,
  type RexianRule,
} from './lib/overflow-setups.js';
import {
  type BenchCall,
  type CallOutcome,
  drawTraffic,
  figuresTable,
  type RunFigures,
  runFigures,
  type TrafficShape,
} from './lib/overflow-traffic.js';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'] as const;
  }),
);
const QUICK = args.get('quick') === 'true';
const SEED = Number(args.get('seed') ?? 17);
/** The static overflow time of (a) and (b): half the 10 s target, early enough to save it. */
const AFTER_S = Number(args.get('after') ?? 5);
const only = new Set((args.get('only') ?? 'a,b,c').split(','));
/** A directory for each run's per-call outcomes and each rexian run's controller log (JSON lines). */
const OUT = args.get('out');
if (OUT) mkdirSync(OUT, { recursive: true });

const shape: TrafficShape = {
  durationS: Number(args.get('duration') ?? (QUICK ? 60 : 210)),
  meanTalkS: Number(args.get('talk') ?? 12),
  meanPatienceS: 45,
  specialists: 3,
  generalAgents: 5,
  specialRho: { calm: 0.55, peak: 1.2 },
  phaseS: QUICK ? 20 : 35,
  generalRho: 0.55,
};
const agents: BenchAgents = { specialists: ['s1', 's2', 's3'], general: ['g1', 'g2', 'g3', 'g4', 'g5'] };
const labAgents: LabAgent[] = [
  ...agents.specialists.map((id) => ({ id, skills: { special: 5 }, scenario: 'agent-answers.xml' })),
  ...agents.general.map((id) => ({ id, skills: { general: 5 }, scenario: 'agent-answers.xml' })),
];
const isSpecialist = (id: string): boolean => agents.specialists.includes(id);

async function appQueueRun(calls: BenchCall[]): Promise<CallOutcome[]> {
  const lab = await startAcdLab('bench-ovf-aq', 32, labAgents, { extraDialplan: appQueueDialplan });
  const ami = await benchAmi(lab.lab);
  try {
    await installAppQueue(lab.lab, ami, agents, AFTER_S);
    return await runTraffic(ami, run(lab, calls, APP_QUEUE_DID, '1391'));
  } catch (err) {
    console.error(lab.lab.asterisk.tailLog(40));
    throw err;
  } finally {
    await ami.stop();
    await lab.close();
  }
}

async function rexianRun(calls: BenchCall[], rule: RexianRule, name: string, slot: number): Promise<CallOutcome[]> {
  const lab = await startAcdLab(name, slot, labAgents, { queues: rexianQueues(rule) });
  const controller = new ControllerProcess(
    { ...lab.lab.env, REXIAN_LOG_LEVEL: 'info' },
    lab.lab.ports.controller,
  ).start();
  let ami: AmiClient | undefined;
  try {
    await controller.waitReady();
    for (const a of labAgents) await controller.api('POST', `/api/agents/${a.id}/login`, { ready: true });
    ami = await benchAmi(lab.lab);
    return await runTraffic(ami, run(lab, calls, REXIAN_DID, slot === 33 ? '1392' : '1393'));
  } catch (err) {
    console.error(lab.lab.asterisk.tailLog(40));
    throw err;
  } finally {
    if (OUT) writeFileSync(join(OUT, `${name}.log`), controller.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await ami?.stop();
    await controller.kill('SIGKILL');
    await lab.close();
  }
}

function run(lab: AcdLab, calls: BenchCall[], did: { special: string; general: string }, prefix: string) {
  return {
    lab: lab.lab,
    calls,
    did,
    callerPrefix: `${prefix}000`,
    progress: (line: string) => process.stdout.write(`    ${line}\n`),
  };
}

const calls = drawTraffic(shape, SEED);
const special = calls.filter((c) => c.line === 'special').length;
console.log(
  `overflow: ${calls.length} calls over ${shape.durationS} s (seed ${SEED}): ${special} to the 一号答 line ` +
    `(${agents.specialists.length} specialists, load ${shape.specialRho.calm} calm / ${shape.specialRho.peak} peak per ` +
    `agent in ${shape.phaseS} s phases), ${calls.length - special} to the general line (${agents.general.length} agents, ` +
    `load ${shape.generalRho}); mean talk ${shape.meanTalkS} s, mean patience ${shape.meanPatienceS} s; static overflow ` +
    `after ${AFTER_S} s`,
);
console.log(
  `machine load before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (1, 5, 15 min; 2 cores)`,
);
const runs: Array<{ key: string; name: string; figures: RunFigures }> = [];
const kept = (key: string, outcomes: CallOutcome[]): CallOutcome[] => {
  if (OUT) writeFileSync(join(OUT, `${key}.json`), JSON.stringify({ seed: SEED, calls, outcomes }));
  return outcomes;
};
const t0 = Date.now();
if (only.has('a')) {
  console.log('(a) app_queue, specialists at penalty 0, general agents at penalty 1 let in by penaltychange');
  runs.push({
    key: 'app_queue',
    name: 'app_queue',
    figures: runFigures(kept('app_queue', await appQueueRun(calls)), isSpecialist),
  });
}
if (only.has('b')) {
  console.log(`(b) rexian, overflow afterSeconds: ${AFTER_S}`);
  const outcomes = kept('after_seconds', await rexianRun(calls, { afterSeconds: AFTER_S }, 'bench-ovf-after', 33));
  runs.push({ key: 'after_seconds', name: `rexian after ${AFTER_S}s`, figures: runFigures(outcomes, isSpecialist) });
}
if (only.has('c')) {
  console.log('(c) rexian, overflow whenPredictedBelowTarget');
  const outcomes = kept('predicted', await rexianRun(calls, { whenPredictedBelowTarget: true }, 'bench-ovf-pred', 34));
  runs.push({ key: 'predicted', name: 'rexian predicted', figures: runFigures(outcomes, isSpecialist) });
}
console.log(`\n${figuresTable(runs)}\n`);
// The floor of (b): the same calls through a perfect queue (zero set-up, rexian's order: the
// oldest caller across both lines first) with the same static rule. What (b) loses against it
// is our own delay; what it shares with it is the rule's (and the traffic's).
const ideal = simulateIdealQueue(
  calls.map((c) => ({
    id: String(c.seq),
    queue: c.line,
    arrivalMs: c.atMs,
    talkMs: c.talkMs,
    patienceMs: c.patienceMs,
  })),
  [
    ...agents.specialists.map((id) => ({ id, skills: { special: 5 } })),
    ...agents.general.map((id) => ({ id, skills: { general: 5 } })),
  ],
  {
    general: { skills: ['general'] },
    special: { skills: ['special'], overflow: [{ afterMs: AFTER_S * 1000, skills: ['general'] }] },
  },
);
const pct1 = (x: number): string => `${(100 * x).toFixed(1)}%`;
const idealFigures = runFigures(
  ideal.map((o, i) => ({
    seq: calls[i]!.seq,
    line: calls[i]!.line,
    abandoned: !o.answered,
    ...(o.answered ? { waitMs: o.waitMs, agentId: o.agentId! } : {}),
  })),
  isSpecialist,
);
console.log(
  `perfect queue, same calls, static overflow after ${AFTER_S} s: within 10 s ${pct1(idealFigures.sl10)}, ` +
    `15 s ${pct1(idealFigures.sl15)} (general line ${pct1(idealFigures.generalSl10)} within 10 s), ` +
    `${idealFigures.abandoned} abandoned`,
);
console.log(
  `machine load after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; the comparison took ${Math.round((Date.now() - t0) / 1000)} s`,
);
const lost = runs.filter((r) => r.figures.unknown > 0);
if (lost.length > 0)
  console.log(`warning: calls neither answered nor abandoned in ${lost.map((r) => r.name).join(', ')}`);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const result: Record<string, number> = {
  overflow_calls: calls.length,
  overflow_seed: SEED,
  overflow_sl10_ideal_after_seconds: r3(idealFigures.sl10),
};
for (const r of runs) {
  result[`overflow_sl10_${r.key}`] = r3(r.figures.sl10);
  result[`overflow_sl15_${r.key}`] = r3(r.figures.sl15);
  result[`overflow_special_sl10_${r.key}`] = r3(r.figures.specialSl10);
  result[`overflow_abandoned_${r.key}`] = r.figures.abandoned;
  result[`overflow_specialist_share_${r.key}`] = r3(r.figures.specialistShare);
}
console.log(JSON.stringify(result));
process.exit(0);
