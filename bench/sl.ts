// `npm run bench:sl` (issue 17): the service-level proof in one command. It runs bench:acd
// (connect latency, service level against Erlang C and against a perfect queue replaying the
// same calls), bench:overflow (app_queue's static overflow against rexian's two rules) and
// bench:capacity (simultaneous calls, CPU per call against app_queue) one after the other, each
// in its own process as if run by hand, prints their text, checks the figures against the
// issue's goals, and ends with one JSON line merging the parts' own. Or, given
// `--from=<file>,…` (saved outputs of the parts, in any order), it reads their last JSON lines
// instead of running anything. Options:
//   --quick                 each part's short form (acd: 3 rounds, 60 calls; the others' --quick)
//   --parts=acd,overflow,capacity
//   --acd="…" --overflow="…" --capacity="…"   extra options for one part (e.g. --overflow="--seed=18")
//   --save=<dir>            keep each part's full output there (<part>.txt)
// Run it under the machine lock like its parts: `flock /tmp/rexian-it.lock npm run bench:sl`.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Figures = Record<string, number | string>;
const PARTS = ['acd', 'overflow', 'capacity'] as const;
type Part = (typeof PARTS)[number];

const args = new Map(
  process.argv.slice(2).map((a) => {
    const i = a.indexOf('=');
    return i < 0
      ? ([a.replace(/^--/, ''), 'true'] as const)
      : ([a.slice(0, i).replace(/^--/, ''), a.slice(i + 1)] as const);
  }),
);
const QUICK = args.get('quick') === 'true';
const parts = (args.get('parts') ?? PARTS.join(',')).split(',') as Part[];
const quickArgs: Record<Part, string[]> = {
  acd: ['--rounds=3', '--calls=60'],
  overflow: ['--quick'],
  capacity: ['--quick'],
};
const SAVE = args.get('save');
if (SAVE) mkdirSync(SAVE, { recursive: true });

/** The last line of a part's output that parses as a JSON object: its figures. */
function lastJson(text: string, source: string): Figures {
  for (const line of text.split('\n').reverse()) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      return JSON.parse(t) as Figures;
    } catch {
      // a line that only looks like JSON: keep looking
    }
  }
  throw new Error(`bench:sl: no JSON line in ${source}`);
}

/** Runs one part as `npm run bench:<part>` would, its output passed through and kept. */
function runPart(part: Part): Promise<string> {
  const extra = [...(QUICK ? quickArgs[part] : []), ...(args.get(part)?.split(' ').filter(Boolean) ?? [])];
  console.log(`\n=== bench:${part} ${extra.join(' ')}`.trimEnd());
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${part}.ts`), ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (SAVE) writeFileSync(join(SAVE, `${part}.txt`), out);
      if (code === 0) resolve(out);
      else reject(new Error(`bench:${part} exited with ${code}`));
    });
  });
}

const merged: Figures = {};
const from = args.get('from');
if (from) {
  for (const file of from.split(',')) Object.assign(merged, lastJson(readFileSync(file, 'utf8'), file));
} else {
  for (const part of parts) Object.assign(merged, lastJson(await runPart(part), `bench:${part}`));
}

// The issue's goals, checked on the figures (a missing figure is said, never guessed).
const num = (key: string): number | undefined =>
  typeof merged[key] === 'number' ? (merged[key] as number) : undefined;
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
console.log('\n=== issue 17: the service level against its goals');
const slM = num('sl_measured');
const slI = num('sl_ideal');
if (slM !== undefined && slI !== undefined) {
  const gap = 100 * (slI - slM);
  console.log(
    `measured SL ${pct(slM)}, perfect queue ${pct(slI)}: ${gap.toFixed(1)} points below ` +
      `(goal: within 1 point) — ${gap <= 1 ? 'met' : 'not met'}`,
  );
}
const p99 = num('excess_wait_p99_ms');
const ring = num('excess_ring_p99_ms');
if (p99 !== undefined && ring !== undefined) {
  console.log(
    `excess wait per call: mean ${num('excess_wait_mean_ms')} ms, p99 ${p99} ms; the ring's p99 ${ring} ms ` +
      `(goal: p99 ≤ 100 ms + the ring = ${Math.round(100 + ring)} ms) — ${p99 <= 100 + ring ? 'met' : 'not met'}`,
  );
  const ringIn = num('excess_ring_in_ideal_p99_ms');
  if (ringIn !== undefined)
    console.log(
      `  against a perfect queue whose calls start with their own phone's ring (the ring summed over a busy ` +
        `period, not only the call's own): p99 ${ringIn} ms (goal: ≤ 100 ms) — ${ringIn <= 100 ? 'met' : 'not met'}`,
    );
  const split = [
    ['offer (routing, logic)', 'excess_routing_p99_ms'],
    ['ring', 'excess_ring_p99_ms'],
    ['calls the perfect queue answered at once', 'excess_free_p99_ms'],
    ['calls it made wait too', 'excess_waited_p99_ms'],
  ].filter(([, key]) => num(key!) !== undefined);
  console.log(`  where it comes from (p99): ${split.map(([label, key]) => `${label} ${num(key!)} ms`).join(', ')}`);
}
const idle = num('idle_while_waiting');
if (idle !== undefined)
  console.log(
    `an agent free ≥ 300 ms while a caller waited: ${idle} times (a freed agent's next offer p50 ` +
      `${num('freed_to_offer_p50_ms')} ms, p99 ${num('freed_to_offer_p99_ms')} ms) — ${idle === 0 ? 'none' : 'a defect'}`,
  );
const aq = num('overflow_sl10_app_queue');
const after = num('overflow_sl10_after_seconds');
const predicted = num('overflow_sl10_predicted');
const ideal = num('overflow_sl10_ideal_after_seconds');
if (aq !== undefined && after !== undefined && predicted !== undefined) {
  const best = Math.max(aq, after);
  const verdict =
    predicted >= best ? 'wins or ties' : `does not win (${(100 * (best - predicted)).toFixed(1)} points behind)`;
  const floor = ideal !== undefined ? ` (a perfect queue with the static rule: ${pct(ideal)})` : '';
  console.log(
    `overflow, answered within 10 s: app_queue ${pct(aq)}, rexian after ${pct(after)}, rexian predicted ` +
      `${pct(predicted)}${floor}: (c) ${verdict}`,
  );
}
if (num('capacity_max_calls') !== undefined)
  console.log(
    `capacity: ${merged.capacity_max_calls} simultaneous calls at most (the next step gave: ` +
      `${merged.capacity_knee_reason ?? '—'}); CPU per call ` +
      `${merged.cpu_ms_per_call_ours} ms (rexian) vs ${merged.cpu_ms_per_call_app_queue} ms (app_queue alone)`,
  );
console.log(JSON.stringify(merged));
process.exit(0);
