// The graph passes of the flow linter (lint.ts): what a node reaches, which nodes can finish,
// loops of instant nodes, subflows calling each other. Each is iterative with its own stack (a
// recursive walk overflowed on a chain of a few thousand nodes) and near-linear in the flow.
import type { ErrorCode } from '../errors/index.js';
import type { FlowLimits } from './flow-limits.js';
import type { FlowDefinition, FlowNode } from './flow-schema.js';
import { type FlowIssue, type LoadedFlow, targetsOf } from './loader.js';

/** Nodes that end the IVR part of a call, or leave the flow for another one. */
const TERMINAL = new Set<FlowNode['type']>(['queue', 'transfer', 'hangup', 'return']);
/** Nodes that take no time at all: a cycle of only these spins the CPU. */
const INSTANT = new Set<FlowNode['type']>(['set', 'branch', 'goto']);

/** An error at a path of a flow file, located (file:line:col) by the loader. */
export function issue(
  loaded: LoadedFlow,
  code: ErrorCode,
  path: Array<string | number>,
  message: string,
  node?: string,
): FlowIssue {
  return { code, message, file: loaded.file, ...loaded.locate(path), node, severity: 'error' };
}

/** Every node reachable from the start. */
export function reach(flow: FlowDefinition): Set<string> {
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
export function finishers(flow: FlowDefinition): Set<string> {
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
export function instantCycles(loaded: LoadedFlow, limits: FlowLimits): FlowIssue[] {
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
export function subflowNesting(flows: LoadedFlow[], byId: Map<string, LoadedFlow>, limits: FlowLimits): FlowIssue[] {
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
