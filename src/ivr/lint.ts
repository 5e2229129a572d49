// Lints flows as graphs, after the schema: what a tired editor breaks at night. Every issue
// names file:line:col and the node.
import { checkDestination, EMERGENCY_NUMBERS as EMERGENCY_LINES } from '../calls/dial-string.js';
import type { ErrorCode } from '../errors/index.js';
import type { FlowDefinition, FlowNode, PromptRef } from './flow-schema.js';
import { targetsOf, type FlowIssue, type LoadedFlow } from './loader.js';

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

export function lintFlows(flows: LoadedFlow[], context: LintContext): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const byId = new Map(flows.map((f) => [f.flow.id, f]));
  const numbers = new Map<string, LoadedFlow>();
  for (const loaded of flows) {
    issues.push(...lintFlow(loaded, context, byId));
    for (const [i, number] of (loaded.flow.numbers ?? []).entries()) {
      const other = numbers.get(number);
      if (other) {
        issues.push(issue(loaded, 'REXIAN_FLOW_DUPLICATE_NUMBER', ['numbers', i], `number ${number} is already answered by flow "${other.flow.id}" (${other.file})`));
      } else numbers.set(number, loaded);
    }
  }
  const ids = new Map<string, LoadedFlow>();
  for (const loaded of flows) {
    const other = ids.get(loaded.flow.id);
    if (other) issues.push(issue(loaded, 'REXIAN_FLOW_DUPLICATE_NUMBER', ['id'], `flow id "${loaded.flow.id}" is also used by ${other.file}`));
    ids.set(loaded.flow.id, loaded);
  }
  return issues;
}

function lintFlow(loaded: LoadedFlow, context: LintContext, flows: Map<string, LoadedFlow>): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const { flow } = loaded;
  const nodes = flow.nodes;

  if (!nodes[flow.start]) issues.push(issue(loaded, 'REXIAN_FLOW_DANGLING_TARGET', ['start'], `start points to "${flow.start}" which does not exist`));

  for (const [id, node] of Object.entries(nodes)) {
    for (const { target, path } of targetsOf(node)) {
      if (!nodes[target]) {
        issues.push(issue(loaded, 'REXIAN_FLOW_DANGLING_TARGET', ['nodes', id, ...path], `node "${id}" ${describePath(path)} points to "${target}" which does not exist${suggest(target, Object.keys(nodes))}`, id));
      }
    }
    for (const { prompt, path } of promptsOf(node)) {
      if (typeof prompt === 'string' && !context.hasPrompt(prompt)) {
        issues.push(issue(loaded, 'REXIAN_FLOW_MISSING_PROMPT', ['nodes', id, ...path], `node "${id}" uses prompt "${prompt}", which is neither in prompts/catalog.yaml nor recorded in prompts/recorded/`, id));
      }
    }
    issues.push(...lintNode(loaded, id, node, context, flows));
  }

  const reachable = reach(flow);
  for (const id of Object.keys(nodes)) {
    if (!reachable.has(id)) issues.push(issue(loaded, 'REXIAN_FLOW_UNREACHABLE_NODE', ['nodes', id], `node "${id}" cannot be reached from start "${flow.start}"`, id));
  }

  // A node from which no terminal node can be reached traps the caller forever.
  const canFinish = finishers(flow);
  for (const id of reachable) {
    const node = nodes[id];
    if (!node || canFinish.has(id)) continue;
    if (node.type === 'menu') {
      issues.push(issue(loaded, 'REXIAN_FLOW_MENU_NO_WAY_OUT', ['nodes', id], `menu "${id}" has no way out: no option, no-input or invalid path ever reaches a queue, transfer or hangup`, id));
    } else if (!WAITS_FOR_INPUT.has(node.type)) {
      issues.push(issue(loaded, 'REXIAN_FLOW_SILENT_LOOP', ['nodes', id], `node "${id}" loops without input and never reaches a queue, transfer or hangup`, id));
    }
  }
  issues.push(...instantCycles(loaded));
  return issues;
}

function lintNode(loaded: LoadedFlow, id: string, node: FlowNode, context: LintContext, flows: Map<string, LoadedFlow>): FlowIssue[] {
  const out: FlowIssue[] = [];
  const at = (path: Array<string | number>): Array<string | number> => ['nodes', id, ...path];
  switch (node.type) {
    case 'menu': {
      // A key the prompt tells citizens to press ("请按3") must lead somewhere.
      const texts = (Array.isArray(node.prompt) ? node.prompt : [node.prompt])
        .map((p) => (typeof p === 'string' ? { text: context.promptText?.(p) ?? '' } : p));
      for (const key of announcedKeys(texts)) {
        if (!(key in node.options)) {
          out.push(issue(loaded, 'REXIAN_FLOW_MENU_UNMAPPED_KEY', at(['options']), `menu "${id}" tells callers to press ${key} but options has no "${key}"`, id));
        }
      }
      break;
    }
    case 'collect': {
      if (node.minLength !== undefined && node.minLength > node.maxLength) {
        out.push(issue(loaded, 'REXIAN_FLOW_SCHEMA', at(['minLength']), `collect "${id}": minLength ${node.minLength} is more than maxLength ${node.maxLength}`, id));
      }
      if (node.pattern !== undefined && !validRegex(node.pattern)) {
        out.push(issue(loaded, 'REXIAN_FLOW_BAD_PATTERN', at(['pattern']), `collect "${id}": pattern /${node.pattern}/ is not a valid regular expression`, id));
      }
      break;
    }
    case 'branch':
      node.conditions.forEach((c, i) => {
        if (c.when.hours && !context.schedules.has(c.when.hours.schedule)) {
          out.push(issue(loaded, 'REXIAN_FLOW_UNKNOWN_SCHEDULE', at(['conditions', i, 'when', 'hours', 'schedule']), `branch "${id}" uses schedule "${c.when.hours.schedule}", which is not in the calendar (${[...context.schedules].join(', ')})`, id));
        }
        const patterns: Array<[string | undefined, Array<string | number>]> = [
          [c.when.caller?.pattern, ['conditions', i, 'when', 'caller', 'pattern']],
          [c.when.var?.matches, ['conditions', i, 'when', 'var', 'matches']],
        ];
        for (const [pattern, path] of patterns) {
          if (pattern !== undefined && !validRegex(pattern)) out.push(issue(loaded, 'REXIAN_FLOW_BAD_PATTERN', at(path), `branch "${id}": /${pattern}/ is not a valid regular expression`, id));
        }
      });
      break;
    case 'queue':
      if (!context.queues.has(node.queue)) {
        out.push(issue(loaded, 'REXIAN_FLOW_UNKNOWN_QUEUE', at(['queue']), `node "${id}" sends callers to queue "${node.queue}", which is not defined (known: ${[...context.queues].join(', ')})${suggest(node.queue, [...context.queues])}`, id));
      }
      break;
    case 'transfer':
      if (node.kind === 'emergency' && !EMERGENCY_NUMBERS.has(node.number)) {
        out.push(issue(loaded, 'REXIAN_FLOW_EMERGENCY_NUMBER', at(['number']), `node "${id}": emergency transfers go to 110, 119, 120 or 122 only (got ${node.number})`, id));
      }
      if (node.kind !== 'emergency' && EMERGENCY_NUMBERS.has(node.number)) {
        out.push(issue(loaded, 'REXIAN_FLOW_EMERGENCY_NUMBER', at(['kind']), `node "${id}" transfers to ${node.number}: use kind: emergency so it bypasses hours and queue limits`, id));
      } else if (node.kind !== 'emergency') {
        // The same rules as the API: no toll fraud through a flow file either.
        try {
          checkDestination(node.kind, node.number, `node "${id}" number`);
        } catch (err) {
          out.push(issue(loaded, 'REXIAN_FLOW_BAD_NUMBER', at(['number']), (err as Error).message.replace(/^REXIAN_BAD_DIAL_STRING: /, ''), id));
        }
      }
      break;
    case 'subflow':
      if (!flows.has(node.flow)) out.push(issue(loaded, 'REXIAN_FLOW_UNKNOWN_FLOW', at(['flow']), `node "${id}" calls flow "${node.flow}", which is not loaded`, id));
      break;
    default:
  }
  return out;
}

function issue(loaded: LoadedFlow, code: ErrorCode, path: Array<string | number>, message: string, node?: string): FlowIssue {
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
    for (const { target } of targetsOf(node)) incoming.set(target, [...(incoming.get(target) ?? []), id]);
  }
  const todo = [...done];
  while (todo.length > 0) {
    for (const from of incoming.get(todo.pop()!) ?? []) {
      if (!done.has(from)) { done.add(from); todo.push(from); }
    }
  }
  return done;
}

/** Cycles made only of nodes that take no time (set, branch, goto): they would spin. */
function instantCycles(loaded: LoadedFlow): FlowIssue[] {
  const { nodes } = loaded.flow;
  const issues: FlowIssue[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, stack: string[]): void => {
    const node = nodes[id];
    if (!node || !INSTANT.has(node.type)) return;
    if (state.get(id) === 'visiting') {
      const cycle = stack.slice(stack.indexOf(id));
      const key = [...cycle].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        issues.push(issue(loaded, 'REXIAN_FLOW_SILENT_LOOP', ['nodes', id], `nodes ${cycle.map((c) => `"${c}"`).join(' → ')} → "${id}" form a loop with no prompt and no input: it would spin forever`, id));
      }
      return;
    }
    if (state.get(id) === 'done') return;
    state.set(id, 'visiting');
    for (const { target } of targetsOf(node)) visit(target, [...stack, id]);
    state.set(id, 'done');
  };
  for (const id of Object.keys(nodes)) visit(id, []);
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

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function suggest(name: string, candidates: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
