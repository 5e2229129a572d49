// Reads an operator-edited YAML file (queues, agents) and checks it against a JSON Schema.
// Every problem names file:line:col of the offending key, because these files are edited by
// hand, often at night, and "invalid queues" alone does not say where to look.
import { readFileSync } from 'node:fs';

import { Ajv, type ErrorObject } from 'ajv';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseDocument,
  type YAMLMap,
} from 'yaml';

import { type ErrorCode, RexianError } from '../errors/index.js';

export type Locate = (path: Array<string | number>) => { line: number; col: number };

/** Each map's pairs by key, built once per map: a linear search per lookup made locating every
 * issue of a large file quadratic. */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      const name = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      if (!index.has(name)) index.set(name, pair);
    }
    pairIndex.set(map, index);
  }
  return index.get(key);
}

type Ranged = { range?: [number, number, number?] } | null | undefined;

/** Position of a key (or of the nearest parent that exists) in a parsed document. */
export function locator(doc: Document.Parsed, lineCounter: LineCounter): Locate {
  const find = (path: Array<string | number>): { line: number; col: number } => {
    // Walks down the path once; each step that exists gives a better position. Point at the key
    // when we can: "queues.general.skills" is easier to find by its key than by its value.
    let node: unknown = doc.contents;
    let best = (node as Ranged)?.range?.[0];
    for (const segment of path) {
      if (isMap(node)) {
        const pair = pairOf(node, String(segment));
        if (!pair) break;
        const at = (pair.key as Ranged)?.range?.[0] ?? (pair.value as Ranged)?.range?.[0];
        if (at !== undefined) best = at;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (!/^\d+$/.test(String(segment)) || !item) break;
        const at = (item as Ranged)?.range?.[0];
        if (at !== undefined) best = at;
        node = item;
      } else break;
    }
    return best === undefined ? { line: 1, col: 1 } : lineCounter.linePos(best);
  };
  return (path) => {
    try {
      return find(path);
    } catch {
      return { line: 1, col: 1 };
    }
  };
}

/** What a hand-edited YAML file may hold before it is refused unread (see checkYamlShape). */
export interface YamlShapeLimits {
  /** Levels of nesting of maps and lists. */
  maxDepth: number;
  /** Values (keys, scalars, maps, lists) once aliases are expanded. */
  maxValues: number;
  /** *alias references. */
  maxAliases: number;
}

/** Generous for operator files (queues, agents, windows): only pathological files reach them. */
export const CONFIG_YAML_LIMITS: YamlShapeLimits = { maxDepth: 64, maxValues: 1_000_000, maxAliases: 1000 };

export interface YamlShapeProblem {
  kind: 'duplicate-key' | 'too-deep' | 'too-many-values' | 'too-many-aliases' | 'circular-alias';
  message: string;
  line: number;
  col: number;
}

/** The message yaml gives when its recursive composer runs out of stack on deep nesting. */
export function isStackOverflow(message: string): boolean {
  return /Maximum call stack size exceeded|too much recursion/i.test(message);
}

/**
 * Checks a parsed document before it is turned into data: keys given twice in a map, nesting
 * deeper than allowed, and the size the data would have once aliases are expanded (so an alias
 * bomb is refused before it is built in memory). One iterative pass, linear in the document:
 * yaml's own `uniqueKeys` compares each key with every earlier one, and its toJS() recurses.
 */
export function checkYamlShape(
  doc: Document.Parsed,
  lineCounter: LineCounter,
  limits: YamlShapeLimits,
): YamlShapeProblem[] {
  const problems: YamlShapeProblem[] = [];
  const at = (node: unknown): { line: number; col: number } => {
    const start = (node as Ranged)?.range?.[0];
    return start === undefined ? { line: 1, col: 1 } : lineCounter.linePos(start);
  };
  const anchors = new Map<string, unknown>(); // anchor name → the node it names (the latest one)
  const sizes = new Map<unknown, number>(); // finished node → its size with aliases expanded
  let values = 0;
  let aliases = 0;
  interface Frame {
    node: unknown;
    depth: number;
    children: unknown[];
    next: number;
    size: number;
  }
  const stack: Frame[] = [];
  const STOP = -1;

  /** Counts a leaf and returns its size, opens a collection (returns undefined), or STOP. */
  const visit = (node: unknown, depth: number): number | undefined => {
    if (node === null || node === undefined) return 0;
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor && !isAlias(node)) anchors.set(anchor, node);
    if (isAlias(node)) {
      if (++aliases > limits.maxAliases) {
        problems.push({
          kind: 'too-many-aliases',
          message: `more than ${limits.maxAliases} aliases (*name) in one file`,
          ...at(node),
        });
        return STOP;
      }
      const target = anchors.get(node.source);
      if (target === undefined) return 1; // yaml reports the unresolved alias itself
      const size = sizes.get(target);
      if (size === undefined) {
        problems.push({
          kind: 'circular-alias',
          message: `alias *${node.source} is inside the value it names`,
          ...at(node),
        });
        return STOP;
      }
      values += size;
      if (values > limits.maxValues) {
        problems.push({
          kind: 'too-many-values',
          message: `alias *${node.source} expands the file past ${limits.maxValues.toLocaleString('en')} values (aliases repeat what they name)`,
          ...at(node),
        });
        return STOP;
      }
      return size;
    }
    values += 1;
    if (values > limits.maxValues) {
      problems.push({
        kind: 'too-many-values',
        message: `the file holds more than ${limits.maxValues.toLocaleString('en')} values`,
        ...at(node),
      });
      return STOP;
    }
    if (isMap(node) || isSeq(node)) {
      if (depth > limits.maxDepth) {
        problems.push({ kind: 'too-deep', message: `nested more than ${limits.maxDepth} levels deep`, ...at(node) });
        return STOP;
      }
      let children: unknown[];
      if (isMap(node)) {
        children = [];
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (isScalar(pair.key)) {
            const name = String(pair.key.value);
            if (seen.has(name))
              problems.push({
                kind: 'duplicate-key',
                message: `key "${name}" appears more than once in the same map`,
                ...at(pair.key),
              });
            seen.add(name);
          }
          children.push(pair.key, pair.value);
        }
      } else children = node.items;
      stack.push({ node, depth, children, next: 0, size: 1 });
      return undefined;
    }
    return 1;
  };

  const first = visit(doc.contents, 1);
  if (first === STOP || first !== undefined) return problems;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.children.length) {
      const size = visit(frame.children[frame.next++], frame.depth + 1);
      if (size === STOP) return problems;
      if (size !== undefined) frame.size += size;
      continue;
    }
    stack.pop();
    sizes.set(frame.node, frame.size);
    if (stack.length > 0) stack[stack.length - 1]!.size += frame.size;
  }
  return problems;
}

export interface YamlProblem {
  message: string;
  line: number;
  col: number;
}

export interface CheckedYaml<T> {
  data: T;
  locate: Locate;
}

const ajv = new Ajv({ allErrors: true, strict: false });

/**
 * Parses and validates; throws one RexianError (with `code`) listing every problem as
 * `file:line:col: message`. `extraChecks` adds the rules a schema cannot express.
 */
export function readCheckedYaml<T>(
  file: string,
  schema: object,
  code: ErrorCode,
  extraChecks?: (data: T, locate: Locate) => YamlProblem[],
  text?: string,
): CheckedYaml<T> {
  let source = text;
  if (source === undefined) {
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RexianError(code, { file }, `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const lineCounter = new LineCounter();
  const fail = (problems: YamlProblem[]): never => {
    const lines = problems.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`);
    throw new RexianError(code, { file, problems: lines }, lines.join('\n'));
  };
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found by checkYamlShape in one pass (yaml's uniqueKeys is quadratic).
    doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    return fail([{ message: (err as Error).message.split('\n')[0]!, line: 1, col: 1 }]);
  }
  if (doc.errors.length > 0) {
    fail(
      doc.errors.map((e) => ({
        message: isStackOverflow(e.message)
          ? `nested too deeply to read (more than ${CONFIG_YAML_LIMITS.maxDepth} levels)`
          : e.message.split('\n')[0]!,
        ...lineCounter.linePos(e.pos[0]),
      })),
    );
  }
  const shape = checkYamlShape(doc, lineCounter, CONFIG_YAML_LIMITS);
  if (shape.length > 0) fail(shape);
  const locate = locator(doc, lineCounter);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: CONFIG_YAML_LIMITS.maxAliases });
  } catch (err) {
    fail([{ message: (err as Error).message.split('\n')[0]!, line: 1, col: 1 }]);
  }
  const validate = ajv.compile(schema);
  if (!validate(data)) fail((validate.errors ?? []).map((e) => describeSchemaError(e, locate)));
  const extra = extraChecks?.(data as T, locate) ?? [];
  if (extra.length > 0) fail(extra);
  return { data: data as T, locate };
}

function describeSchemaError(e: ErrorObject, locate: Locate): YamlProblem {
  const path = e.instancePath.split('/').filter(Boolean).map(decodeURIComponent);
  const key = path.join('.') || 'file';
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { message: `unknown key "${[...path, extra].join('.')}"`, ...locate([...path, extra]) };
    }
    case 'required':
      return {
        message: `"${[...path, (e.params as { missingProperty: string }).missingProperty].join('.')}" is required`,
        ...locate(path),
      };
    case 'enum':
      return {
        message: `"${key}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
        ...locate(path),
      };
    default:
      return { message: `"${key}" ${e.message ?? 'is invalid'}`, ...locate(path) };
  }
}
