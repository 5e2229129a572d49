// Draws a flow as a Graphviz digraph, for people who would rather look than read.
import type { FlowDefinition, FlowNode, PromptRef } from './flow-schema.js';
import { targetsOf } from './loader.js';

const SHAPES: Record<FlowNode['type'], string> = {
  play: 'note',
  menu: 'box3d',
  collect: 'box3d',
  survey: 'box3d',
  branch: 'diamond',
  set: 'box',
  http: 'cds',
  queue: 'doubleoctagon',
  transfer: 'doubleoctagon',
  voicemail: 'tab',
  goto: 'circle',
  subflow: 'component',
  return: 'circle',
  hangup: 'Msquare',
};

export function flowToDot(flow: FlowDefinition): string {
  const lines = [
    `digraph "${esc(flow.id)}" {`,
    '  rankdir=LR; node [fontname="WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif", fontsize=10]; edge [fontsize=9];',
    `  label="${esc(flow.name ?? flow.id)}"; labelloc=t; fontname="WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif";`,
    `  "__start" [shape=point]; "__start" -> "${esc(flow.start)}";`,
  ];
  for (const [id, node] of Object.entries(flow.nodes)) {
    lines.push(`  "${esc(id)}" [shape=${SHAPES[node.type]}, label="${esc(`${id}\n${describe(node)}`)}"];`);
    for (const { target, path } of targetsOf(node)) {
      lines.push(`  "${esc(id)}" -> "${esc(target)}" [label="${esc(edgeLabel(node, path))}"];`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}

function describe(node: FlowNode): string {
  switch (node.type) {
    case 'queue':
      return `queue ${node.queue}`;
    case 'transfer':
      return `${node.kind} ${node.number}`;
    case 'play':
    case 'menu':
    case 'collect':
    case 'survey':
      return `${node.type}: ${promptLabel(node.prompt)}`;
    case 'subflow':
      return `subflow ${node.flow}`;
    case 'http':
      return `http ${node.method ?? 'GET'}`;
    default:
      return node.type;
  }
}

function promptLabel(p: PromptRef | PromptRef[]): string {
  const first = Array.isArray(p) ? p[0]! : p;
  const text = typeof first === 'string' ? first : first.text;
  return text.length > 18 ? `${text.slice(0, 18)}…` : text;
}

function edgeLabel(node: FlowNode, path: Array<string | number>): string {
  if (path[0] === 'options') return `key ${String(path[1])}`;
  if (path[0] === 'conditions' && node.type === 'branch') {
    const when = node.conditions[path[1] as number]!.when;
    return Object.entries(when)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
  }
  if (path[0] === 'next') return '';
  return path.join('.');
}

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
