// The pool of virtual numbers (sip-config/virtual-numbers.yaml): DIDs the carrier delivers to
// the hotline, lent to bindings. Listed one by one or as ranges of consecutive numbers.
import { readCheckedYaml, type YamlProblem } from '../config/yaml-file.js';

export interface VirtualPool {
  numbers: string[];
  ttlHours: number;
  maxCallsPerBinding: number;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['numbers'],
  properties: {
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ttlHours: { type: 'number', exclusiveMinimum: 0, maximum: 8760 },
        maxCallsPerBinding: { type: 'integer', minimum: 1, maximum: 100_000 },
      },
    },
    numbers: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { type: 'string', pattern: '^[0-9]{5,20}$' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'count'],
            properties: {
              from: { type: 'string', pattern: '^[0-9]{5,20}$' },
              count: { type: 'integer', minimum: 1, maximum: 100_000 },
            },
          },
        ],
      },
    },
  },
} as const;

interface PoolFile {
  defaults?: { ttlHours?: number; maxCallsPerBinding?: number };
  numbers: Array<string | { from: string; count: number }>;
}

export function parsePool(file: string, text?: string): VirtualPool {
  const expand = (data: PoolFile): string[] =>
    data.numbers.flatMap((n) => {
      if (typeof n === 'string') return [n];
      const width = n.from.length;
      return Array.from({ length: n.count }, (_, i) => (BigInt(n.from) + BigInt(i)).toString().padStart(width, '0'));
    });
  const check = (
    data: PoolFile,
    locate: (p: Array<string | number>) => { line: number; col: number },
  ): YamlProblem[] => {
    const seen = new Map<string, number>();
    const problems: YamlProblem[] = [];
    data.numbers.forEach((entry, i) => {
      for (const n of expand({ numbers: [entry] })) {
        if (seen.has(n))
          problems.push({
            message: `virtual number ${n} is listed twice (entries ${seen.get(n)! + 1} and ${i + 1})`,
            ...locate(['numbers', i]),
          });
        else seen.set(n, i);
      }
    });
    return problems;
  };
  const { data } = readCheckedYaml<PoolFile>(file, schema, 'REXIAN_VIRTUAL_NUMBERS_INVALID', check, text);
  return {
    numbers: expand(data),
    ttlHours: data.defaults?.ttlHours ?? 72,
    maxCallsPerBinding: data.defaults?.maxCallsPerBinding ?? 50,
  };
}
