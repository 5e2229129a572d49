// "Check before saving": a flow's YAML text, as ops would write it into ivr-flows/, loaded and
// linted the way a reload would (same limits, same linter, against the flows serving now, with
// the edited file in place of its serving version), and simulated when it passes. Nothing is
// written and nothing serves: the text lives only for the request. Also the simulation of a
// flow in service, with the same inputs, for the ops page's simulate form.
import { join } from 'node:path';

import { RexianError } from '../errors/index.js';
import type { Calendar } from './calendar.js';
import type { CheckView, SimulateRequest, SimulationView } from './flow-api-types.js';
import { issueView } from './flow-status.js';
import type { FlowRef } from './interpreter.js';
import { lintFlows } from './lint.js';
import { type FlowIssue, type LoadedFlow, parseFlow } from './loader.js';
import { CALENDAR_FILE, type FlowRegistry } from './registry.js';
import { simulate } from './simulator.js';

/** A name a file in ivr-flows/ may have: no directories, no hidden files, YAML. */
export const FLOW_FILE_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\\.ya?ml$';
const DEFAULT_CALLER = '13800000000';

export interface CheckInput {
  file: string;
  source: string;
  simulate?: SimulateRequest;
}

/** Parses a time the form sends; without an offset it is Beijing time (UTC+8 all year, no DST). */
export function simulationTime(time: string | undefined, now = new Date()): Date {
  if (time === undefined || time === '') return now;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(time) ? time : `${time}+08:00`;
  const at = new Date(zoned);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(time) || Number.isNaN(at.getTime()))
    throw new RexianError(
      'REXIAN_BAD_REQUEST',
      { field: 'body.time' },
      `body.time "${time}" is not a date and time (e.g. 2026-11-23T20:00:00+08:00)`,
    );
  return at;
}

/** Walks a flow with a simulated caller; `flows` resolves the subflows it calls. */
export async function simulateFlow(
  ref: FlowRef,
  flows: (id: string) => FlowRef | undefined,
  calendar: Calendar,
  input: SimulateRequest,
): Promise<SimulationView> {
  const at = simulationTime(input.time);
  const did = input.did || ref.flow.numbers?.[0] || '12345';
  const caller = input.caller || DEFAULT_CALLER;
  const keys = input.keys ?? '';
  const http = input.http ?? 'offline';
  const result = await simulate({
    flow: ref,
    flows,
    calendar,
    did,
    caller,
    at,
    dtmf: keys,
    http: http === 'real' ? 'real' : 'fail',
  });
  return {
    flowId: ref.id,
    flowVersion: result.flowVersion,
    did,
    caller,
    keys,
    at: at.toISOString(),
    http,
    path: result.path,
    outcome: result.outcome as SimulationView['outcome'],
    vars: result.vars,
  };
}

/** Simulates a flow in service, by id, with the subflows in service. */
export async function simulateServing(
  registry: FlowRegistry,
  flowId: string,
  input: SimulateRequest,
): Promise<SimulationView> {
  const ref = registry.current(flowId);
  if (!ref) throw new RexianError('REXIAN_NOT_FOUND', { flowId }, `no flow "${flowId}" is in service`);
  return simulateFlow(ref, (id) => registry.current(id), registry.calendar, input);
}

/**
 * Checks an edit without it serving. Issues of the edited file come first (errors and
 * warnings); then errors the edit would cause in other files (a subflow id renamed, a number
 * taken twice). The drawing is left to the caller (it needs dot; see flow-picture.ts).
 */
export async function checkFlowEdit(
  registry: FlowRegistry,
  input: CheckInput,
): Promise<Omit<CheckView, 'svg'> & { loaded?: LoadedFlow }> {
  if (!new RegExp(FLOW_FILE_NAME).test(input.file) || input.file === CALENDAR_FILE)
    throw new RexianError(
      'REXIAN_BAD_REQUEST',
      { field: 'body.file' },
      `body.file "${input.file}" is not a flow file name (like main-12345.yaml; not ${CALENDAR_FILE})`,
    );
  // The path the file would have: lint messages and duplicate checks then read as a reload's.
  const path = join(registry.flowsDir, input.file);
  const serving = registry.servingFlows();
  const replaced = serving.find((l) => l.file === path);
  const base = {
    file: input.file,
    replaces: replaced?.version ?? null,
  };

  let parsed: { loaded?: LoadedFlow; issues: FlowIssue[] };
  try {
    parsed = parseFlow(path, input.source);
  } catch (err) {
    parsed = {
      issues: [
        {
          code: 'REXIAN_FLOW_LINT_FAILED',
          message: `the loader could not read this flow (${(err as Error)?.message ?? String(err)}); it is refused`,
          file: path,
          line: 1,
          col: 1,
          severity: 'error',
        },
      ],
    };
  }
  const loaded = parsed.loaded;
  if (!loaded) {
    return { ...base, ok: false, flowId: null, version: null, issues: parsed.issues.map(issueView), simulation: null };
  }

  // The edited file takes its serving version's place; a new file goes last (as a reload
  // would, so a new file claiming a number another file answers is the one refused).
  const mix = replaced ? serving.map((l) => (l === replaced ? loaded : l)) : [...serving, loaded];
  const found = lintFlows(mix, registry.lintContext());
  const own = found.filter((i) => i.file === path);
  const others = found.filter((i) => i.file !== path && i.severity === 'error');
  const issues = [...own, ...others].map(issueView);
  const ok = issues.every((i) => i.severity !== 'error');

  let simulation: SimulationView | null = null;
  if (!own.some((i) => i.severity === 'error')) {
    const refs = new Map<string, FlowRef>(
      mix.map((l) => [l.flow.id, { id: l.flow.id, version: l.version, flow: l.flow }]),
    );
    simulation = await simulateFlow(refs.get(loaded.flow.id)!, (id) => refs.get(id), registry.calendar, {
      ...input.simulate,
      // A flow nobody has reviewed yet makes no requests from the controller.
      http: 'offline',
    });
  }
  return { ...base, ok, flowId: loaded.flow.id, version: loaded.version, issues, simulation, loaded };
}
