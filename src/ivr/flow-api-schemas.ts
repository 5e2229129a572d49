// JSON schemas of the flow API (routes.ts): bodies as strict as every other route's
// (additionalProperties: false), and replies that list each field, since fastify's serializer
// sends only what the schema names. The shapes themselves are typed in flow-api-types.ts.
import { FLOW_FILE_NAME } from './flow-check.js';

const nullableString = { type: ['string', 'null'] } as const;

export const issueSchema = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    file: { type: 'string' },
    line: { type: 'integer' },
    col: { type: 'integer' },
    node: nullableString,
    severity: { type: 'string' },
  },
} as const;

export const flowListSchema = {
  type: 'object',
  properties: {
    checkedAt: nullableString,
    calendarError: nullableString,
    flows: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          file: { type: 'string' },
          flowId: nullableString,
          name: nullableString,
          version: nullableString,
          numbers: { type: 'array', items: { type: 'string' } },
          loadedAt: nullableString,
          state: { type: 'string', enum: ['serving', 'last-good', 'rejected'] },
          diskVersion: nullableString,
          history: {
            type: 'array',
            items: { type: 'object', properties: { version: { type: 'string' }, loadedAt: { type: 'string' } } },
          },
          errors: { type: 'array', items: { type: 'string' } },
          issues: { type: 'array', items: issueSchema },
        },
      },
    },
  },
} as const;

export const simulateBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    did: { type: 'string', pattern: '^([0-9]{3,20})?$' },
    keys: { type: 'string', pattern: '^[0-9*#]{0,40}$' },
    time: { type: 'string', maxLength: 40 },
    caller: { type: 'string', pattern: '^(\\+?[0-9]{0,20}|anonymous)$' },
    http: { type: 'string', enum: ['offline', 'real'] },
  },
} as const;

export const simulationSchema = {
  type: 'object',
  properties: {
    flowId: { type: 'string' },
    flowVersion: { type: 'string' },
    did: { type: 'string' },
    caller: { type: 'string' },
    keys: { type: 'string' },
    at: { type: 'string' },
    http: { type: 'string' },
    path: { type: 'array', items: { type: 'string' } },
    outcome: { type: 'object', additionalProperties: true },
    vars: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const checkBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file', 'source'],
  properties: {
    file: { type: 'string', pattern: FLOW_FILE_NAME },
    // No maxLength: the loader's own limit answers with REXIAN_FLOW_TOO_LARGE at 1:1, as for a file.
    source: { type: 'string' },
    simulate: simulateBodySchema,
  },
} as const;

export const checkReplySchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    file: { type: 'string' },
    flowId: nullableString,
    version: nullableString,
    replaces: nullableString,
    issues: { type: 'array', items: issueSchema },
    simulation: { anyOf: [simulationSchema, { type: 'null' }] },
    svg: nullableString,
  },
} as const;
