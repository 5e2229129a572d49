// Reads a flow file: YAML with positions, the schema checked node by node (so an error names
// the node and the exact key), and a version id that is the hash of the text. The size limits
// (flow-limits.ts) are checked first, each before the step it protects: the byte size before
// reading and parsing, nesting and aliases before building the data, the node count before the
// schema and the lint. A file past a limit costs milliseconds and one clear error.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type Document, isMap, LineCounter, parseDocument } from 'yaml';

import { checkYamlShape, isStackOverflow, locator } from '../config/yaml-file.js';
import type { ErrorCode } from '../errors/index.js';
import { FLOW_LIMITS, type FlowLimits, formatBytes } from './flow-limits.js';
import { type FlowDefinition, type FlowNode, flowSchema, nodeSchemas } from './flow-schema.js';

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
const validateNode = new Map<string, ValidateFunction>(
  Object.entries(nodeSchemas).map(([type, schema]) => [type, ajv.compile(schema as object)]),
);

export function flowVersion(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 12);
}

/**
 * Reads a flow file, refusing (without reading it whole) one larger than the limit or one that
 * is not a regular file (a FIFO or /dev/zero under a .yaml name would never end).
 */
export function readFlowSource(file: string, limits: FlowLimits = FLOW_LIMITS): { source?: string; issue?: FlowIssue } {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { issue: fileIssue(file, 'REXIAN_FLOW_SYNTAX', 'not a regular file') };
    if (stat.size > limits.maxFileBytes) return { issue: tooBig(file, stat.size, limits) };
    // Read at most one byte past the limit: the file may grow between the stat and the read.
    const buffer = Buffer.alloc(Math.min(stat.size, limits.maxFileBytes) + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > limits.maxFileBytes) return { issue: tooBig(file, length, limits) };
    return { source: buffer.subarray(0, length).toString('utf8') };
  } catch (err) {
    return { issue: fileIssue(file, 'REXIAN_FLOW_SYNTAX', `cannot read the file: ${(err as Error).message}`) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileIssue(file: string, code: ErrorCode, message: string, line = 1, col = 1): FlowIssue {
  return { code, message, file, line, col, severity: 'error' };
}

function tooBig(file: string, bytes: number, limits: FlowLimits): FlowIssue {
  return fileIssue(
    file,
    'REXIAN_FLOW_TOO_LARGE',
    `the file is ${formatBytes(bytes)}; a flow file may be at most ${formatBytes(limits.maxFileBytes)} (split it into subflows)`,
  );
}

export function parseFlow(
  file: string,
  source: string,
  limits: FlowLimits = FLOW_LIMITS,
): { loaded?: LoadedFlow; issues: FlowIssue[] } {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxFileBytes) return { issues: [tooBig(file, bytes, limits)] };
  // Flow-style brackets nested hundreds deep run yaml's recursive composer out of stack, which
  // it survives, slowly (hundreds of ms of a blocked event loop): refuse them before parsing.
  const tooDeep = flowBracketsTooDeep(source, PARSER_SAFE_DEPTH);
  if (tooDeep) return { issues: [tooDeepToRead(file, limits, tooDeep.line, tooDeep.col)] };
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found by checkYamlShape in one pass (yaml's uniqueKeys is quadratic).
    doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    return { issues: [fileIssue(file, 'REXIAN_FLOW_SYNTAX', (err as Error).message.split('\n')[0]!)] };
  }
  const issues: FlowIssue[] = [];
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    // yaml's composer recurses: nesting a few hundred levels deep runs it out of stack.
    if (isStackOverflow(e.message)) return { issues: [tooDeepToRead(file, limits, pos.line, pos.col)] };
    issues.push({ code: 'REXIAN_FLOW_SYNTAX', message: e.message.split('\n')[0]!, file, ...pos, severity: 'error' });
  }
  if (issues.length > 0) return { issues: capIssues(issues, limits) };

  for (const p of checkYamlShape(doc, lineCounter, limits)) {
    if (p.kind === 'duplicate-key') issues.push(fileIssue(file, 'REXIAN_FLOW_SYNTAX', p.message, p.line, p.col));
    else if (p.kind === 'too-deep')
      issues.push(
        fileIssue(
          file,
          'REXIAN_FLOW_TOO_LARGE',
          `${p.message}; a flow file may nest at most ${limits.maxDepth}`,
          p.line,
          p.col,
        ),
      );
    else if (p.kind === 'circular-alias') issues.push(fileIssue(file, 'REXIAN_FLOW_SYNTAX', p.message, p.line, p.col));
    else
      issues.push(
        fileIssue(
          file,
          'REXIAN_FLOW_TOO_LARGE',
          `${p.message}; aliases may not make a flow larger than ${limits.maxValues.toLocaleString('en')} values or use more than ${limits.maxAliases}`,
          p.line,
          p.col,
        ),
      );
  }
  if (issues.length > 0) return { issues: capIssues(issues, limits) };

  const locate = locator(doc, lineCounter);
  const nodesNode = doc.get('nodes', true);
  if (isMap(nodesNode) && nodesNode.items.length > limits.maxNodes) {
    const at = locate(['nodes']);
    const message = `the flow has ${nodesNode.items.length} nodes; a flow may have at most ${limits.maxNodes} (split it into subflows)`;
    return { issues: [fileIssue(file, 'REXIAN_FLOW_TOO_LARGE', message, at.line, at.col)] };
  }

  let data: unknown;
  try {
    // checkYamlShape has bounded what aliases expand to; yaml's own cap stays as a second guard.
    data = doc.toJS({ maxAliasCount: limits.maxAliases });
  } catch (err) {
    return { issues: [fileIssue(file, 'REXIAN_FLOW_SYNTAX', (err as Error).message.split('\n')[0]!)] };
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
        for (const e of prune(validate.errors ?? []))
          issues.push({ ...schemaIssue(e, ['nodes', id], file, locate), node: id });
      }
    }
  }
  if (issues.length > 0) return { issues: capIssues(dedupe(issues), limits) };
  const flow = data as FlowDefinition;
  return { loaded: { file, flow, version: flowVersion(source), source, locate }, issues: [] };
}

/**
 * Keeps the first issues of each file and says how many more there are: a file with 50,000
 * dangling targets needs fixing, not 50,000 lines in the log and in GET /api/flows.
 */
export function capIssues(issues: FlowIssue[], limits: FlowLimits = FLOW_LIMITS): FlowIssue[] {
  const kept: FlowIssue[] = [];
  const count = new Map<string, number>();
  const firstDropped = new Map<string, FlowIssue>();
  for (const issue of issues) {
    const n = (count.get(issue.file) ?? 0) + 1;
    count.set(issue.file, n);
    if (n <= limits.maxIssuesPerFile) kept.push(issue);
    else if (!firstDropped.has(issue.file)) firstDropped.set(issue.file, issue);
  }
  for (const [file, issue] of firstDropped) {
    const more = count.get(file)! - limits.maxIssuesPerFile;
    kept.push({
      ...issue,
      node: undefined,
      message: `… and ${more} more issue${more === 1 ? '' : 's'} in this file, not shown`,
    });
  }
  return kept;
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
      message = `${where}: "${keyPath || 'value'}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
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
  return errors.filter(
    (e) => e.keyword === 'anyOf' || !summaries.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`)),
  );
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
  const add = (target: string | undefined, ...path: Array<string | number>): void => {
    if (target !== undefined) out.push({ target, path });
  };
  switch (node.type) {
    case 'play':
    case 'set':
    case 'http':
    case 'voicemail':
    case 'survey':
    case 'subflow':
    case 'collect':
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

function tooDeepToRead(file: string, limits: FlowLimits, line: number, col: number): FlowIssue {
  const message = `nested too deeply to read; a flow file may nest at most ${limits.maxDepth} levels`;
  return fileIssue(file, 'REXIAN_FLOW_TOO_LARGE', message, line, col);
}

/**
 * Nesting of [ ] and { } the parser is sure to survive quickly: far above any flow's (the limit
 * the shape check applies after parsing is limits.maxDepth), far below where yaml's recursion
 * runs out of stack.
 */
const PARSER_SAFE_DEPTH = 256;

/**
 * Where flow-style brackets first nest deeper than `limit`, outside quoted strings and comments;
 * undefined when they never do. One pass over the text, no parsing.
 */
export function flowBracketsTooDeep(source: string, limit: number): { line: number; col: number } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
    } else if (c === '#' && (i === 0 || source[i - 1] === ' ' || source[i - 1] === '\t' || source[i - 1] === '\n')) {
      const end = source.indexOf('\n', i);
      if (end < 0) break;
      i = end - 1; // the newline is counted on the next turn
    } else if (c === '"' || c === "'") {
      // A quoted scalar: "…" with backslash escapes, '…' with '' for a quote. Its newlines count.
      for (i++; i < source.length; i++) {
        const q = source[i]!;
        if (q === '\n') {
          line++;
          lineStart = i + 1;
        } else if (c === '"' && q === '\\') i++;
        else if (q === c) {
          if (c === "'" && source[i + 1] === "'") i++;
          else break;
        }
      }
    } else if (c === '[' || c === '{') {
      if (++depth > limit) return { line, col: i - lineStart + 1 };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}
