// The traffic of `bench:overflow`, drawn once from a seeded generator so the three runs
// (app_queue, rexian afterSeconds, rexian whenPredictedBelowTarget) get the same calls at the
// same instants, with the same patience and talk times: the comparison is call for call.
// The specialists' line (一号答) alternates calm and peak phases, so they miss their target
// part of the time and not always; the general line is steady and has room to take overflow.
// Also here: the figures of one run from its per-call outcomes, and the side-by-side table.

/** mulberry32: a small seeded generator (uniform in [0, 1)), the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type LineId = 'general' | 'special';

export interface BenchCall {
  seq: number;
  line: LineId;
  /** When the citizen dials, from the start of the run. */
  atMs: number;
  /** The citizen hangs up after waiting this long unanswered. */
  patienceMs: number;
  /** How long the conversation lasts once an agent answers. */
  talkMs: number;
}

export interface TrafficShape {
  durationS: number;
  meanTalkS: number;
  meanPatienceS: number;
  specialists: number;
  generalAgents: number;
  /** Specialists' offered load per agent, calm and peak phases (e.g. 0.5 and 1.15). */
  specialRho: { calm: number; peak: number };
  /** Length of one calm or peak phase. */
  phaseS: number;
  generalRho: number;
}

/** Poisson arrivals per line (the special line's rate switching between phases), seeded. */
export function drawTraffic(shape: TrafficShape, seed: number): BenchCall[] {
  const rnd = seededRandom(seed);
  const exp = (mean: number): number => -Math.log(1 - rnd()) * mean;
  const calls: Array<Omit<BenchCall, 'seq'>> = [];
  const end = shape.durationS * 1000;
  const draw = (line: LineId, rateAt: (ms: number) => number, maxRate: number): void => {
    // Thinning (Lewis–Shedler): candidates at the peak rate, each kept with rate(t)/peak.
    for (let t = exp(1000 / maxRate); t < end; t += exp(1000 / maxRate)) {
      const keep = rnd() < rateAt(t) / maxRate;
      const patienceMs = Math.round(Math.max(3, exp(shape.meanPatienceS)) * 1000);
      const talkMs = Math.round(Math.min(6 * shape.meanTalkS, Math.max(1, exp(shape.meanTalkS))) * 1000);
      if (keep) calls.push({ line, atMs: Math.round(t), patienceMs, talkMs });
    }
  };
  const perAgent = 1 / shape.meanTalkS;
  const special = (rho: number): number => rho * shape.specialists * perAgent;
  const peakNow = (ms: number): boolean => Math.floor(ms / 1000 / shape.phaseS) % 2 === 1;
  draw(
    'special',
    (ms) => special(peakNow(ms) ? shape.specialRho.peak : shape.specialRho.calm),
    special(Math.max(shape.specialRho.peak, shape.specialRho.calm)),
  );
  const general = shape.generalRho * shape.generalAgents * perAgent;
  draw('general', () => general, general);
  return calls.sort((a, b) => a.atMs - b.atMs).map((c, seq) => ({ ...c, seq }));
}

/** What happened to one call in one run, as Asterisk reported it over AMI. */
export interface CallOutcome {
  seq: number;
  line: LineId;
  /** Answered: waited this long from the caller's channel appearing to the agent joining them. */
  waitMs?: number;
  /** Who answered. */
  agentId?: string;
  abandoned: boolean;
}

export interface RunFigures {
  offered: number;
  answered: number;
  abandoned: number;
  /** Answered within 10 s (15 s) ÷ offered (an abandon counts against the line), per line and overall. */
  sl10: number;
  sl15: number;
  specialSl10: number;
  specialSl15: number;
  generalSl10: number;
  generalSl15: number;
  /** Of the specialist line's answered calls, the share a specialist answered. */
  specialistShare: number;
  /** Mean wait of answered calls (s). */
  asaS: number;
  /** Calls the run lost track of (neither answered nor abandoned): must be 0. */
  unknown: number;
}

export function runFigures(outcomes: CallOutcome[], isSpecialist: (agentId: string) => boolean): RunFigures {
  const within = (xs: CallOutcome[], s: number): number =>
    xs.length === 0 ? NaN : xs.filter((o) => o.waitMs !== undefined && o.waitMs <= s * 1000).length / xs.length;
  const special = outcomes.filter((o) => o.line === 'special');
  const general = outcomes.filter((o) => o.line === 'general');
  const answered = outcomes.filter((o) => o.waitMs !== undefined);
  const specialAnswered = special.filter((o) => o.agentId !== undefined);
  return {
    offered: outcomes.length,
    answered: answered.length,
    abandoned: outcomes.filter((o) => o.abandoned).length,
    sl10: within(outcomes, 10),
    sl15: within(outcomes, 15),
    specialSl10: within(special, 10),
    specialSl15: within(special, 15),
    generalSl10: within(general, 10),
    generalSl15: within(general, 15),
    specialistShare:
      specialAnswered.length === 0
        ? NaN
        : specialAnswered.filter((o) => isSpecialist(o.agentId!)).length / specialAnswered.length,
    asaS: answered.reduce((n, o) => n + o.waitMs!, 0) / Math.max(1, answered.length) / 1000,
    unknown: outcomes.filter((o) => o.waitMs === undefined && !o.abandoned).length,
  };
}

const pct = (x: number): string => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);

/** The runs side by side, one column each, as plain text. */
export function figuresTable(runs: Array<{ name: string; figures: RunFigures }>): string {
  const rows: Array<[string, (f: RunFigures) => string]> = [
    ['answered within 10 s (all calls)', (f) => pct(f.sl10)],
    ['answered within 15 s (all calls)', (f) => pct(f.sl15)],
    ['  一号答 line within 10 s', (f) => pct(f.specialSl10)],
    ['  一号答 line within 15 s', (f) => pct(f.specialSl15)],
    ['  general line within 10 s', (f) => pct(f.generalSl10)],
    ['  general line within 15 s', (f) => pct(f.generalSl15)],
    ['abandoned', (f) => `${f.abandoned} of ${f.offered}`],
    ['一号答 calls answered by specialists', (f) => pct(f.specialistShare)],
    ['mean wait of answered calls', (f) => `${f.asaS.toFixed(2)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const col = Math.max(14, ...runs.map((r) => r.name.length + 2));
  const line = (label: string, cells: string[]): string =>
    label.padEnd(width) + cells.map((c) => c.padStart(col)).join('');
  return [
    line(
      '',
      runs.map((r) => r.name),
    ),
    ...rows.map(([label, f]) =>
      line(
        label,
        runs.map((r) => f(r.figures)),
      ),
    ),
  ].join('\n');
}
