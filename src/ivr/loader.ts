// Reads a flow file: YAML with positions, the schema checked node by node (so an error names
// the node and the exact key), and a version id that is the hash of the text.
import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { locator } from '../config/yaml-file.js';
import type { ErrorCode } from '../errors/index.js';
import { flowSchema, nodeSchemas, type FlowDefinition, type FlowNode } from './flow-schema.js';

export interface FlowIssue {
  code: ErrorCode;
  message: string;
  file: string;
  line: number;
  col: number;
  node?: string;
  severity: 'error' | 'warning';
}

export interface LoadedFlow {
  file: string;
  flow: FlowDefinition;
  /** Hash of the file's text: a call records the version it ran. */
  version: string;
  source: string;
  /** Position of a key (or the nearest existing parent) in the file. */
  locate(path: Array<string | number>): { line: number; col: number };
}

export function formatIssue(issue: FlowIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.severity === 'warning' ? 'warning ' : ''}${issue.code}: ${issue.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateTop = ajv.compile(flowSchema);
const validateNode = new Map<string, ValidateFunction>(Object.entries(nodeSchemas).map(([type, schema]) => [type, ajv.compile(schema as object)]));

export function flowVersion(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 12);
}

export function parseFlow(file: string, source: string): { loaded?: LoadedFlow; issues: FlowIssue[] } {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    return { issues: [{ code: 'REXIAN_FLOW_SYNTAX', message: (err as Error).message, file, line: 1, col: 1, severity: 'error' }] };
  }
  const issues: FlowIssue[] = [];
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    issues.push({ code: 'REXIAN_FLOW_SYNTAX', message: e.message.split('\n')[0]!, file, ...pos, severity: 'error' });
  }
  if (issues.length > 0) return { issues };

  const locate = locator(doc, lineCounter);

  let data: unknown;
  try {
    // Throws on an alias to a missing anchor, or on an alias bomb (yaml caps expansions).
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { issues: [{ code: 'REXIAN_FLOW_SYNTAX', message: (err as Error).message.split('\n')[0]!, file, line: 1, col: 1, severity: 'error' }] };
  }
  if (!validateTop(data)) {
    for (const e of prune(validateTop.errors ?? [])) issues.push(schemaIssue(e, [], file, locate));
    // Node-level checks still run when the nodes map itself is sound.
  }
  const nodes = (data as { nodes?: Record<string, unknown> } | null)?.nodes;
  if (nodes && typeof nodes === 'object' && !Array.isArray(nodes)) {
    for (const [id, node] of Object.entries(nodes)) {
      const type = (node as { type?: unknown } | null)?.type;
      const validate = typeof type === 'string' ? validateNode.get(type) : undefined;
      if (!validate) continue; // the top-level check already named the bad or missing type
      if (!validate(node)) {
        for (const e of prune(validate.errors ?? [])) issues.push({ ...schemaIssue(e, ['nodes', id], file, locate), node: id });
      }
    }
  }
  if (issues.length > 0) return { issues: dedupe(issues) };
  const flow = data as FlowDefinition;
  return { loaded: { file, flow, version: flowVersion(source), source, locate }, issues: [] };
}

function schemaIssue(e: ErrorObject, base: string[], file: string, locate: LoadedFlow['locate']): FlowIssue {
  const rel = e.instancePath.split('/').filter(Boolean).map(decodeURIComponent);
  const path = [...base, ...rel];
  const nodeName = path[0] === 'nodes' ? path[1] : undefined;
  const where = nodeName ? `node "${nodeName}"` : 'flow';
  const keyPath = (nodeName ? path.slice(2) : path).join('.');
  let message: string;
  let at = path;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      message = `${where}: unknown key "${[keyPath, extra].filter(Boolean).join('.')}"`;
      at = [...path, extra];
      break;
    }
    case 'required':
      message = `${where}: "${[keyPath, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.')}" is required`;
      break;
    case 'enum':
      message = `${where}: "${keyPath || 'value'}" must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).join(', ')}`;
      break;
    case 'const':
      message = `${where}: "${keyPath}" must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
      break;
    case 'propertyNames':
      message = `${where}: "${keyPath}" has a key that is not allowed (${e.message ?? ''})`;
      break;
    case 'anyOf':
      message = `${where}: "${keyPath}" must be a prompt name (letters, digits, - and _) or { text: "…" }`;
      break;
    default:
      message = `${where}: "${keyPath || 'value'}" ${e.message ?? 'is invalid'}`;
  }
  return { code: 'REXIAN_FLOW_SCHEMA', message, file, ...locate(at), severity: 'error' };
}

/** Where an anyOf failed, its branches' own complaints only confuse: keep the summary. */
function prune(errors: ErrorObject[]): ErrorObject[] {
  const summaries = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  return errors.filter((e) => e.keyword === 'anyOf' || !summaries.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`)));
}

function dedupe(issues: FlowIssue[]): FlowIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.line}:${i.col}:${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Every node a node can go to, with the key path that names it (for messages). */
export function targetsOf(node: FlowNode): Array<{ target: string; path: Array<string | number> }> {
  const out: Array<{ target: string; path: Array<string | number> }> = [];
  const add = (target: string | undefined, ...path: Array<string | number>): void => { if (target !== undefined) out.push({ target, path }); };
  switch (node.type) {
    case 'play': case 'set': case 'http': case 'voicemail': case 'survey': case 'subflow': case 'collect':
      add(node.next, 'next');
      break;
  }
  switch (node.type) {
    case 'menu':
      for (const [key, target] of Object.entries(node.options)) add(target, 'options', key);
      add(node.noInput.next, 'noInput', 'next');
      add(node.invalid.next, 'invalid', 'next');
      break;
    case 'collect':
      add(node.noInput.next, 'noInput', 'next');
      add(node.invalid.next, 'invalid', 'next');
      break;
    case 'branch':
      node.conditions.forEach((c, i) => add(c.next, 'conditions', i, 'next'));
      add(node.otherwise, 'otherwise');
      break;
    case 'http':
      add(node.onError, 'onError');
      break;
    case 'queue':
      add(node.onTimeout, 'onTimeout');
      add(node.onNoAgents, 'onNoAgents');
      break;
    case 'goto':
      add(node.target, 'target');
      break;
    default:
  }
  return out;
}
