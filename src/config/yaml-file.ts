// Reads an operator-edited YAML file (queues, agents) and checks it against a JSON Schema.
// Every problem names file:line:col of the offending key, because these files are edited by
// hand, often at night, and "invalid queues" alone does not say where to look.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { RexianError, type ErrorCode } from '../errors/index.js';

export type Locate = (path: Array<string | number>) => { line: number; col: number };

/** Position of a key (or of the nearest parent that exists) in a parsed document. */
export function locator(doc: Document.Parsed, lineCounter: LineCounter): Locate {
  const find = (path: Array<string | number>): { line: number; col: number } => {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const target = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
      // Point at the key when we can: "queues.general.skills" is easier to find by its key.
      const parent = sub.length === 0 ? undefined : sub.length === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
      if (parent && isMap(parent)) {
        const pair = parent.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(sub[sub.length - 1]));
        const range = (pair?.key as { range?: [number, number] } | undefined)?.range;
        if (range) return lineCounter.linePos(range[0]);
      }
      if (parent && isSeq(parent) && target && (target as { range?: [number, number] }).range) {
        return lineCounter.linePos((target as { range: [number, number] }).range[0]);
      }
      const range = (target as { range?: [number, number] } | null | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]);
    }
    return { line: 1, col: 1 };
  };
  return (path) => {
    try {
      return find(path);
    } catch {
      return { line: 1, col: 1 };
    }
  };
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
export function readCheckedYaml<T>(file: string, schema: object, code: ErrorCode, extraChecks?: (data: T, locate: Locate) => YamlProblem[], text?: string): CheckedYaml<T> {
  let source = text;
  if (source === undefined) {
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RexianError(code, `cannot read ${file}: ${(err as Error).message}`, { file });
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const fail = (problems: YamlProblem[]): never => {
    const lines = problems.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`);
    throw new RexianError(code, lines.join('\n'), { file, problems: lines });
  };
  if (doc.errors.length > 0) {
    fail(doc.errors.map((e) => ({ message: e.message.split('\n')[0]!, ...lineCounter.linePos(e.pos[0]) })));
  }
  const locate = locator(doc, lineCounter);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
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
      return { message: `"${[...path, (e.params as { missingProperty: string }).missingProperty].join('.')}" is required`, ...locate(path) };
    case 'enum':
      return { message: `"${key}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`, ...locate(path) };
    default:
      return { message: `"${key}" ${e.message ?? 'is invalid'}`, ...locate(path) };
  }
}
