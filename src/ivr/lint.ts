// Lints flows as graphs, after the schema: what a tired editor breaks at night. Every issue
// names file:line:col and the node. Every pass is iterative and near-linear in the size of the
// flow (a recursive walk overflowed the stack on a chain of a few thousand nodes), the size
// limits are checked before any pass, and a pass that throws costs only its own file.
import { checkDestination, EMERGENCY_NUMBERS as EMERGENCY_LINES } from '../calls/dial-string.js';
import type { ErrorCode } from '../errors/index.js';
import { FLOW_LIMITS, type FlowLimits } from './flow-limits.js';
import type { FlowDefinition, FlowNode, PromptRef } from './flow-schema.js';
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

/** Nodes that end the IVR part of a call, or leave the flow for another one. */
const TERMINAL = new Set<FlowNode['type']>(['queue', 'transfer', 'hangup', 'return']);
/** Nodes that wait for the caller (a key press) and so cannot spin. */
const WAITS_FOR_INPUT = new Set<FlowNode['type']>(['menu', 'collect', 'survey']);
/** Nodes that take no time at all: a cycle of only these spins the CPU. */
const INSTANT = new Set<FlowNode['type']>(['set', 'branch', 'goto']);

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

function issue(
  loaded: LoadedFlow,
  code: ErrorCode,
  path: Array<string | number>,
  message: string,
  node?: string,
): FlowIssue {
  return { code, message, file: loaded.file, ...loaded.locate(path), node, severity: 'error' };
}

function describePath(path: Array<string | number>): string {
  if (path[0] === 'options') return `option ${String(path[1])}`;
  return path.join('.');
}

function reach(flow: FlowDefinition): Set<string> {
  const seen = new Set<string>();
  const todo = [flow.start];
  while (todo.length > 0) {
    const id = todo.pop()!;
    const node = flow.nodes[id];
    if (seen.has(id) || !node) continue;
    seen.add(id);
    for (const { target } of targetsOf(node)) todo.push(target);
  }
  return seen;
}

/** Nodes from which some terminal node can be reached (reverse reachability). */
function finishers(flow: FlowDefinition): Set<string> {
  const incoming = new Map<string, string[]>();
  const done = new Set<string>();
  for (const [id, node] of Object.entries(flow.nodes)) {
    if (TERMINAL.has(node.type)) done.add(id);
    for (const { target } of targetsOf(node)) {
      const list = incoming.get(target);
      if (list) list.push(id);
      else incoming.set(target, [id]);
    }
  }
  const todo = [...done];
  while (todo.length > 0) {
    for (const from of incoming.get(todo.pop()!) ?? []) {
      if (!done.has(from)) {
        done.add(from);
        todo.push(from);
      }
    }
  }
  return done;
}

/**
 * Cycles made only of nodes that take no time (set, branch, goto): they would spin. A depth-first
 * search with its own stack (a recursive one overflowed on long chains); the path being explored
 * is indexed, so closing a cycle costs its length, and reporting stops at the issue cap.
 */
function instantCycles(loaded: LoadedFlow, limits: FlowLimits): FlowIssue[] {
  const { nodes } = loaded.flow;
  const issues: FlowIssue[] = [];
  const done = new Set<string>();
  const onPath = new Map<string, number>(); // node → its index in path
  const path: string[] = [];
  const reported = new Set<string>();
  const instant = (id: string): boolean => {
    const node = nodes[id];
    return node !== undefined && INSTANT.has(node.type);
  };
  interface Frame {
    id: string;
    targets: string[];
    next: number;
  }
  for (const root of Object.keys(nodes)) {
    if (done.has(root) || !instant(root)) continue;
    const stack: Frame[] = [{ id: root, targets: targetsOf(nodes[root]!).map((t) => t.target), next: 0 }];
    onPath.set(root, 0);
    path.push(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.targets.length) {
        stack.pop();
        path.pop();
        onPath.delete(frame.id);
        done.add(frame.id);
        continue;
      }
      const target = frame.targets[frame.next++]!;
      if (!instant(target) || done.has(target)) continue;
      const at = onPath.get(target);
      if (at !== undefined) {
        const edge = `${frame.id}\u0000${target}`;
        if (!reported.has(edge) && issues.length <= limits.maxIssuesPerFile) {
          reported.add(edge);
          const cycle = path.slice(at).map((c) => `"${c}"`);
          const shown =
            cycle.length > 12
              ? [...cycle.slice(0, 10), `… (${cycle.length - 11} more)`, cycle[cycle.length - 1]!]
              : cycle;
          issues.push(
            issue(
              loaded,
              'REXIAN_FLOW_SILENT_LOOP',
              ['nodes', target],
              `nodes ${shown.join(' → ')} → "${target}" form a loop with no prompt and no input: it would spin forever`,
              target,
            ),
          );
        }
        continue;
      }
      onPath.set(target, path.length);
      path.push(target);
      stack.push({ id: target, targets: targetsOf(nodes[target]!).map((t) => t.target), next: 0 });
    }
  }
  return issues;
}

/**
 * Subflows that call each other in a loop (every round nests the call one level deeper, for
 * ever), and chains of subflows nested deeper than the limit. Both refused, on the subflow node.
 */
function subflowNesting(flows: LoadedFlow[], byId: Map<string, LoadedFlow>, limits: FlowLimits): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const calls = new Map<string, Array<{ callee: string; node: string }>>();
  for (const loaded of flows) {
    const list: Array<{ callee: string; node: string }> = [];
    for (const [id, node] of Object.entries(loaded.flow.nodes)) {
      if (node.type === 'subflow' && byId.has(node.flow)) list.push({ callee: node.flow, node: id });
    }
    calls.set(loaded.flow.id, list);
  }
  // depth: how many subflow calls can be nested below a flow; deepest: the call that gets there.
  const depth = new Map<string, number>();
  const deepest = new Map<string, { callee: string; node: string }>();
  const onPath = new Map<string, number>();
  const reported = new Set<string>();
  interface Frame {
    id: string;
    next: number;
  }
  for (const loaded of flows) {
    const root = loaded.flow.id;
    if (depth.has(root)) continue;
    const stack: Frame[] = [{ id: root, next: 0 }];
    onPath.set(root, 0);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const edges = calls.get(frame.id) ?? [];
      if (frame.next >= edges.length) {
        let best = 0;
        for (const edge of edges) {
          const below = onPath.has(edge.callee) ? 0 : 1 + (depth.get(edge.callee) ?? 0);
          if (below > best) {
            best = below;
            deepest.set(frame.id, edge);
          }
        }
        depth.set(frame.id, best);
        onPath.delete(frame.id);
        stack.pop();
        continue;
      }
      const edge = edges[frame.next++]!;
      if (depth.has(edge.callee)) continue;
      const at = onPath.get(edge.callee);
      if (at !== undefined) {
        // A loop: every flow on it is refused at the node that calls the next one.
        const cycle = [...stack.slice(at).map((f) => f.id), edge.callee];
        for (let i = 0; i < cycle.length - 1; i++) {
          const caller = cycle[i]!;
          const frameOf = stack[at + i]!;
          const via = (calls.get(caller) ?? [])[frameOf.next - 1]!;
          if (reported.has(`${caller}\u0000${via.node}`)) continue;
          reported.add(`${caller}\u0000${via.node}`);
          const round = [...cycle.slice(i, -1), ...cycle.slice(0, i), caller];
          issues.push(
            issue(
              byId.get(caller)!,
              'REXIAN_FLOW_TOO_LARGE',
              ['nodes', via.node, 'flow'],
              `flow "${caller}" calls itself through subflows (${round.join(' → ')}): each round would nest the call one level deeper, without end`,
              via.node,
            ),
          );
        }
        continue;
      }
      onPath.set(edge.callee, stack.length);
      stack.push({ id: edge.callee, next: 0 });
    }
  }
  for (const loaded of flows) {
    const id = loaded.flow.id;
    const levels = depth.get(id) ?? 0;
    const first = deepest.get(id);
    if (levels <= limits.maxSubflowDepth || !first || byId.get(id) !== loaded) continue;
    const chain = [id];
    for (let cur = deepest.get(id); cur && chain.length <= levels && chain.length < 6; cur = deepest.get(cur.callee))
      chain.push(cur.callee);
    const shown = chain.length < levels + 1 ? `${chain.join(' → ')} → …` : chain.join(' → ');
    issues.push(
      issue(
        loaded,
        'REXIAN_FLOW_TOO_LARGE',
        ['nodes', first.node, 'flow'],
        `subflows nest ${levels} levels deep from node "${first.node}" (${shown}); a call may nest at most ${limits.maxSubflowDepth}`,
        first.node,
      ),
    );
  }
  return issues;
}

function promptsOf(node: FlowNode): Array<{ prompt: PromptRef; path: Array<string | number> }> {
  const out: Array<{ prompt: PromptRef; path: Array<string | number> }> = [];
  const add = (p: PromptRef | PromptRef[] | undefined, ...path: Array<string | number>): void => {
    if (p === undefined) return;
    if (Array.isArray(p)) p.forEach((one, i) => out.push({ prompt: one, path: [...path, i] }));
    else out.push({ prompt: p, path });
  };
  if ('prompt' in node) add(node.prompt, 'prompt');
  if (node.type === 'menu' || node.type === 'collect') {
    add(node.noInput.prompt, 'noInput', 'prompt');
    add(node.invalid.prompt, 'invalid', 'prompt');
  }
  if (node.type === 'survey') add(node.thanks, 'thanks');
  return out;
}

/** Keys a Chinese or English prompt text tells the caller to press: "请按1", "按 0", "press 2". */
export function announcedKeys(prompt: PromptRef | PromptRef[]): string[] {
  const texts = (Array.isArray(prompt) ? prompt : [prompt]).flatMap((p) => (typeof p === 'string' ? [] : [p.text]));
  const keys = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?:按|press\s*)\s*([0-9*#])/gi)) keys.add(m[1]!);
    for (const m of text.matchAll(/按\s*(星号|井号)/g)) keys.add(m[1] === '星号' ? '*' : '#');
  }
  return [...keys];
}

const SLOW_PATTERN =
  'repeats a group that itself repeats, like (\\d+)+: on a long caller number or a lookup answer its matching can take exponential time and stall every call; write it without the nested repetition';

/**
 * Whether a pattern repeats a group that holds a repetition ("(a+)+", "(\\d*x?)*", "(?:a{2,})+"),
 * the shape behind catastrophic backtracking: JavaScript has no match timeout, and one slow match
 * blocks the event loop that carries every call. A heuristic, on the side of refusing: rewriting
 * such a pattern without the nesting is always possible for what a flow matches (digits, prefixes).
 */
export function nestedRepetition(pattern: string): boolean {
  const groups: boolean[] = []; // for each open group: does it hold a repetition so far?
  let lastGroupRepeats = false; // the group that just closed held a repetition
  let afterGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const repeat =
      c === '*' ||
      c === '+' ||
      (c === '{' && /^\{\d*,?\d*\}/.test(pattern.slice(i)) && !/^\{(\d+)\}|^\{[01]?,1\}/.test(pattern.slice(i)));
    if (repeat) {
      if (afterGroup && lastGroupRepeats) return true;
      if (groups.length > 0) groups[groups.length - 1] = true;
      afterGroup = false;
      if (c === '{') i = pattern.indexOf('}', i);
      continue;
    }
    afterGroup = false;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A character class is one atom: skip to its end (a ] first in the class is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (c === '(') groups.push(false);
    else if (c === ')') {
      lastGroupRepeats = groups.pop() ?? false;
      if (lastGroupRepeats && groups.length > 0) groups[groups.length - 1] = true;
      afterGroup = true;
    }
  }
  return false;
}

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** How many "did you mean" searches one flow may make: each one compares against every name. */
const MAX_SUGGESTIONS = 20;

/**
 * "did you mean" over a set of names. Bounded on both sides: names whose length differs by the
 * distance or more are skipped, the distance stops as soon as it cannot win, and a flow full of
 * dangling targets gets suggestions for its first few only (it needs more than a typo fixed).
 */
function suggester(candidates: string[]): (name: string) => string {
  let left = MAX_SUGGESTIONS;
  return (name) => {
    if (left <= 0) return '';
    left -= 1;
    return suggest(name, candidates);
  };
}

function suggest(name: string, candidates: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const d = distance(name, c, bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

/** Levenshtein distance, or `limit` as soon as the answer is known to be at least that. */
function distance(a: string, b: string, limit = Infinity): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    let rowMin = row[0];
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
      if (row[j]! < rowMin) rowMin = row[j]!;
    }
    if (rowMin >= limit) return limit;
  }
  return row[b.length]!;
}
