// Lints flows as graphs, after the schema: what a tired editor breaks at night. Every issue
// names file:line:col and the node. Every pass is iterative and near-linear in the size of the
// flow (a recursive walk overflowed the stack on a chain of a few thousand nodes), the size
// limits are checked before any pass, and a pass that throws costs only its own file. The graph
// passes are lint-graph.ts; what is read in texts and patterns (keys, regexes, typos), lint-text.ts.
import { checkDestination, EMERGENCY_NUMBERS as EMERGENCY_LINES } from '../calls/dial-string.js';
import { FLOW_LIMITS, type FlowLimits } from './flow-limits.js';
import type { FlowNode } from './flow-schema.js';
import { finishers, instantCycles, issue, reach, subflowNesting } from './lint-graph.js';
import {
  announcedKeys,
  nestedRepetition,
  promptsOf,
  SLOW_PATTERN,
  suggest,
  suggester,
  validRegex,
} from './lint-text.js';
import { capIssues, type FlowIssue, type LoadedFlow, targetsOf } from './loader.js';

export interface LintContext {
  queues: ReadonlySet<string>;
  schedules: ReadonlySet<string>;
  /** Whether a named prompt exists (catalogue text or a recording). */
  hasPrompt(name: string): boolean;
  /** The catalogue text of a named prompt, to see which keys it announces. */
  promptText?(name: string): string | undefined;
}

/** The emergency lines a hotline hands off to: police, fire, ambulance, traffic police. */
export const EMERGENCY_NUMBERS = new Set<string>(EMERGENCY_LINES);

/** Nodes that wait for the caller (a key press) and so cannot spin. */
const WAITS_FOR_INPUT = new Set<FlowNode['type']>(['menu', 'collect', 'survey']);

export function lintFlows(flows: LoadedFlow[], context: LintContext, limits: FlowLimits = FLOW_LIMITS): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const byId = new Map(flows.map((f) => [f.flow.id, f]));
  const numbers = new Map<string, LoadedFlow>();
  for (const loaded of flows) {
    for (const found of guarded(loaded, () => lintFlow(loaded, context, byId, limits))) issues.push(found);
    for (const [i, number] of (loaded.flow.numbers ?? []).entries()) {
      const other = numbers.get(number);
      if (other) {
        issues.push(
          issue(
            loaded,
            'REXIAN_FLOW_DUPLICATE_NUMBER',
            ['numbers', i],
            `number ${number} is already answered by flow "${other.flow.id}" (${other.file})`,
          ),
        );
      } else numbers.set(number, loaded);
    }
  }
  const ids = new Map<string, LoadedFlow>();
  for (const loaded of flows) {
    const other = ids.get(loaded.flow.id);
    if (other)
      issues.push(
        issue(
          loaded,
          'REXIAN_FLOW_DUPLICATE_NUMBER',
          ['id'],
          `flow id "${loaded.flow.id}" is also used by ${other.file}`,
        ),
      );
    ids.set(loaded.flow.id, loaded);
  }
  try {
    for (const found of subflowNesting(flows, byId, limits)) issues.push(found);
  } catch (err) {
    // Which file to blame is unknown here; the per-flow passes above have run regardless.
    for (const loaded of flows) issues.push(lintFailed(loaded, err));
  }
  return capIssues(issues, limits);
}

/** Runs one flow's lint; whatever it throws (a RangeError included) becomes that file's error. */
function guarded(loaded: LoadedFlow, run: () => FlowIssue[]): FlowIssue[] {
  try {
    return run();
  } catch (err) {
    return [lintFailed(loaded, err)];
  }
}

function lintFailed(loaded: LoadedFlow, err: unknown): FlowIssue {
  return {
    code: 'REXIAN_FLOW_LINT_FAILED',
    message: `the linter could not check this flow (${(err as Error)?.message ?? String(err)}); it is refused`,
    file: loaded.file,
    line: 1,
    col: 1,
    severity: 'error',
  };
}

function lintFlow(
  loaded: LoadedFlow,
  context: LintContext,
  flows: Map<string, LoadedFlow>,
  limits: FlowLimits,
): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const { flow } = loaded;
  const nodes = flow.nodes;
  const ids = Object.keys(nodes);

  // Checked again here for flows that did not come through the loader: no pass runs past it.
  if (ids.length > limits.maxNodes) {
    return [
      issue(
        loaded,
        'REXIAN_FLOW_TOO_LARGE',
        ['nodes'],
        `the flow has ${ids.length} nodes; a flow may have at most ${limits.maxNodes} (split it into subflows)`,
      ),
    ];
  }

  if (!nodes[flow.start])
    issues.push(
      issue(loaded, 'REXIAN_FLOW_DANGLING_TARGET', ['start'], `start points to "${flow.start}" which does not exist`),
    );

  const suggest = suggester(ids);
  for (const [id, node] of Object.entries(nodes)) {
    for (const { target, path } of targetsOf(node)) {
      if (!nodes[target]) {
        issues.push(
          issue(
            loaded,
            'REXIAN_FLOW_DANGLING_TARGET',
            ['nodes', id, ...path],
            `node "${id}" ${describePath(path)} points to "${target}" which does not exist${suggest(target)}`,
            id,
          ),
        );
      }
    }
    for (const { prompt, path } of promptsOf(node)) {
      if (typeof prompt === 'string' && !context.hasPrompt(prompt)) {
        issues.push(
          issue(
            loaded,
            'REXIAN_FLOW_MISSING_PROMPT',
            ['nodes', id, ...path],
            `node "${id}" uses prompt "${prompt}", which is neither in prompts/catalog.yaml nor recorded in prompts/recorded/`,
            id,
          ),
        );
      }
    }
    for (const found of lintNode(loaded, id, node, context, flows)) issues.push(found);
  }

  const reachable = reach(flow);
  for (const id of ids) {
    if (!reachable.has(id))
      issues.push(
        issue(
          loaded,
          'REXIAN_FLOW_UNREACHABLE_NODE',
          ['nodes', id],
          `node "${id}" cannot be reached from start "${flow.start}"`,
          id,
        ),
      );
  }

  // A node from which no terminal node can be reached traps the caller forever.
  const canFinish = finishers(flow);
  for (const id of reachable) {
    const node = nodes[id];
    if (!node || canFinish.has(id)) continue;
    if (node.type === 'menu') {
      issues.push(
        issue(
          loaded,
          'REXIAN_FLOW_MENU_NO_WAY_OUT',
          ['nodes', id],
          `menu "${id}" has no way out: no option, no-input or invalid path ever reaches a queue, transfer or hangup`,
          id,
        ),
      );
    } else if (!WAITS_FOR_INPUT.has(node.type)) {
      issues.push(
        issue(
          loaded,
          'REXIAN_FLOW_SILENT_LOOP',
          ['nodes', id],
          `node "${id}" loops without input and never reaches a queue, transfer or hangup`,
          id,
        ),
      );
    }
  }
  for (const found of instantCycles(loaded, limits)) issues.push(found);
  return issues;
}

function lintNode(
  loaded: LoadedFlow,
  id: string,
  node: FlowNode,
  context: LintContext,
  flows: Map<string, LoadedFlow>,
): FlowIssue[] {
  const out: FlowIssue[] = [];
  const at = (path: Array<string | number>): Array<string | number> => ['nodes', id, ...path];
  switch (node.type) {
    case 'menu': {
      // A key the prompt tells citizens to press ("请按3") must lead somewhere.
      const texts = (Array.isArray(node.prompt) ? node.prompt : [node.prompt]).map((p) =>
        typeof p === 'string' ? { text: context.promptText?.(p) ?? '' } : p,
      );
      for (const key of announcedKeys(texts)) {
        if (!(key in node.options)) {
          out.push(
            issue(
              loaded,
              'REXIAN_FLOW_MENU_UNMAPPED_KEY',
              at(['options']),
              `menu "${id}" tells callers to press ${key} but options has no "${key}"`,
              id,
            ),
          );
        }
      }
      break;
    }
    case 'collect': {
      if (node.minLength !== undefined && node.minLength > node.maxLength) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_SCHEMA',
            at(['minLength']),
            `collect "${id}": minLength ${node.minLength} is more than maxLength ${node.maxLength}`,
            id,
          ),
        );
      }
      if (node.pattern !== undefined && !validRegex(node.pattern)) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_BAD_PATTERN',
            at(['pattern']),
            `collect "${id}": pattern /${node.pattern}/ is not a valid regular expression`,
            id,
          ),
        );
      } else if (node.pattern !== undefined && nestedRepetition(node.pattern)) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_BAD_PATTERN',
            at(['pattern']),
            `collect "${id}": pattern /${node.pattern}/ ${SLOW_PATTERN}`,
            id,
          ),
        );
      }
      break;
    }
    case 'branch':
      node.conditions.forEach((c, i) => {
        if (c.when.hours && !context.schedules.has(c.when.hours.schedule)) {
          out.push(
            issue(
              loaded,
              'REXIAN_FLOW_UNKNOWN_SCHEDULE',
              at(['conditions', i, 'when', 'hours', 'schedule']),
              `branch "${id}" uses schedule "${c.when.hours.schedule}", which is not in the calendar (${[...context.schedules].join(', ')})`,
              id,
            ),
          );
        }
        const patterns: Array<[string | undefined, Array<string | number>]> = [
          [c.when.caller?.pattern, ['conditions', i, 'when', 'caller', 'pattern']],
          [c.when.var?.matches, ['conditions', i, 'when', 'var', 'matches']],
        ];
        for (const [pattern, path] of patterns) {
          if (pattern !== undefined && !validRegex(pattern))
            out.push(
              issue(
                loaded,
                'REXIAN_FLOW_BAD_PATTERN',
                at(path),
                `branch "${id}": /${pattern}/ is not a valid regular expression`,
                id,
              ),
            );
          else if (pattern !== undefined && nestedRepetition(pattern))
            out.push(
              issue(loaded, 'REXIAN_FLOW_BAD_PATTERN', at(path), `branch "${id}": /${pattern}/ ${SLOW_PATTERN}`, id),
            );
        }
      });
      break;
    case 'queue':
      if (!context.queues.has(node.queue)) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_UNKNOWN_QUEUE',
            at(['queue']),
            `node "${id}" sends callers to queue "${node.queue}", which is not defined (known: ${[...context.queues].join(', ')})${suggest(node.queue, [...context.queues])}`,
            id,
          ),
        );
      }
      break;
    case 'transfer':
      if (node.kind === 'emergency' && !EMERGENCY_NUMBERS.has(node.number)) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_EMERGENCY_NUMBER',
            at(['number']),
            `node "${id}": emergency transfers go to 110, 119, 120 or 122 only (got ${node.number})`,
            id,
          ),
        );
      }
      if (node.kind !== 'emergency' && EMERGENCY_NUMBERS.has(node.number)) {
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_EMERGENCY_NUMBER',
            at(['kind']),
            `node "${id}" transfers to ${node.number}: use kind: emergency so it bypasses hours and queue limits`,
            id,
          ),
        );
      } else if (node.kind !== 'emergency') {
        // The same rules as the API: no toll fraud through a flow file either.
        try {
          checkDestination(node.kind, node.number, `node "${id}" number`);
        } catch (err) {
          out.push(
            issue(
              loaded,
              'REXIAN_FLOW_BAD_NUMBER',
              at(['number']),
              (err as Error).message.replace(/^REXIAN_BAD_DIAL_STRING: /, ''),
              id,
            ),
          );
        }
      }
      break;
    case 'subflow':
      if (!flows.has(node.flow))
        out.push(
          issue(
            loaded,
            'REXIAN_FLOW_UNKNOWN_FLOW',
            at(['flow']),
            `node "${id}" calls flow "${node.flow}", which is not loaded`,
            id,
          ),
        );
      break;
    default:
  }
  return out;
}

function describePath(path: Array<string | number>): string {
  if (path[0] === 'options') return `option ${String(path[1])}`;
  return path.join('.');
}
