// The flow language: JSON Schema (published as ivr-flows/flow.schema.json by
// `rexian flow schema`) and the matching TypeScript types.
import { FLOW_LIMITS } from './flow-limits.js';

/** A prompt: a name from prompts/catalog.yaml (or a recording of that name), or inline text. */
export type PromptRef = string | { text: string };

export interface PlayNode {
  type: 'play';
  prompt: PromptRef | PromptRef[];
  bargeIn?: boolean;
  next: string;
}
export interface InputHandling {
  prompt?: PromptRef;
  next: string;
}
export interface MenuNode {
  type: 'menu';
  prompt: PromptRef | PromptRef[];
  options: Record<string, string>;
  /** Seconds to wait for a key after the prompt ends. */
  timeout?: number;
  /** How many times the menu is offered again after no input or an invalid key. */
  retries?: number;
  noInput: InputHandling;
  invalid: InputHandling;
}
export interface CollectNode {
  type: 'collect';
  prompt: PromptRef | PromptRef[];
  var: string;
  minLength?: number;
  maxLength: number;
  terminator?: string;
  /** Regular expression the whole input must match (anchored). */
  pattern?: string;
  /** What * stands for, e.g. "X" for the check character of an ID or credit code. */
  starAs?: string;
  timeout?: number;
  retries?: number;
  next: string;
  noInput: InputHandling;
  invalid: InputHandling;
}
export interface Condition {
  /** open: within the schedule's hours on a working day; closed: otherwise. */
  hours?: { schedule: string; is: 'open' | 'closed' };
  /** A public holiday per the calendar (adjusted working weekends are not holidays). */
  holiday?: boolean;
  did?: string[];
  caller?: { prefix?: string[]; pattern?: string; anonymous?: boolean };
  var?: { name: string; equals?: string; matches?: string; set?: boolean };
}
export interface BranchNode {
  type: 'branch';
  conditions: Array<{ when: Condition; next: string }>;
  otherwise: string;
}
export interface SetNode {
  type: 'set';
  vars: Record<string, string>;
  next: string;
}
export interface HttpNode {
  type: 'http';
  url: string;
  method?: 'GET' | 'POST';
  /** Milliseconds; the call moves on to onError when the server does not answer in time. */
  timeout: number;
  body?: Record<string, string>;
  /** var name → dotted path in the JSON answer. */
  assign?: Record<string, string>;
  next: string;
  onError: string;
}
export interface QueueNode {
  type: 'queue';
  queue: string;
  skills?: string[];
  priority?: number;
  /** Seconds before onTimeout is taken. */
  maxWait?: number;
  onTimeout?: string;
  onNoAgents?: string;
}
export interface TransferNode {
  type: 'transfer';
  kind: 'internal' | 'external' | 'emergency';
  number: string;
  prompt?: PromptRef;
}
export interface VoicemailNode {
  type: 'voicemail';
  prompt: PromptRef;
  maxSeconds?: number;
  reason?: string;
  next: string;
}
export interface SurveyNode {
  type: 'survey';
  prompt: PromptRef | PromptRef[];
  /** key → stored answer, e.g. "1": satisfied. */
  answers: Record<string, string>;
  timeout?: number;
  retries?: number;
  thanks?: PromptRef;
  next: string;
}
export interface GotoNode {
  type: 'goto';
  target: string;
}
export interface SubflowNode {
  type: 'subflow';
  flow: string;
  next: string;
}
export interface ReturnNode {
  type: 'return';
}
export interface HangupNode {
  type: 'hangup';
  prompt?: PromptRef;
}

export type FlowNode =
  | PlayNode
  | MenuNode
  | CollectNode
  | BranchNode
  | SetNode
  | HttpNode
  | QueueNode
  | TransferNode
  | VoicemailNode
  | SurveyNode
  | GotoNode
  | SubflowNode
  | ReturnNode
  | HangupNode;

export interface FlowDefinition {
  id: string;
  name?: string;
  description?: string;
  /** Dialled numbers (DIDs) this flow answers. A subflow-only file lists none. */
  numbers?: string[];
  start: string;
  nodes: Record<string, FlowNode>;
}

const nodeId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' } as const;
const prompt = {
  anyOf: [
    { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string', minLength: 1 } },
    },
  ],
} as const;
const prompts = { anyOf: [prompt, { type: 'array', minItems: 1, items: prompt }] } as const;
const seconds = { type: 'number', exclusiveMinimum: 0, maximum: 600 } as const;
const retries = { type: 'integer', minimum: 0, maximum: 10 } as const;
const key = '^[0-9*#]$';
const handling = {
  type: 'object',
  additionalProperties: false,
  required: ['next'],
  properties: { prompt, next: nodeId },
} as const;

function node(type: string, required: string[], properties: Record<string, unknown>) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...required],
    properties: { type: { const: type }, ...properties },
  };
}

const condition = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    hours: {
      type: 'object',
      additionalProperties: false,
      required: ['schedule', 'is'],
      properties: { schedule: { type: 'string' }, is: { enum: ['open', 'closed'] } },
    },
    holiday: { type: 'boolean' },
    did: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[0-9]+$' } },
    caller: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        prefix: { type: 'array', items: { type: 'string', pattern: '^[0-9+]+$' } },
        pattern: { type: 'string' },
        anonymous: { type: 'boolean' },
      },
    },
    var: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string' },
        equals: { type: 'string' },
        matches: { type: 'string' },
        set: { type: 'boolean' },
      },
    },
  },
} as const;

export const nodeSchemas: Record<FlowNode['type'], unknown> = {
  play: node('play', ['prompt', 'next'], { prompt: prompts, bargeIn: { type: 'boolean' }, next: nodeId }),
  menu: node('menu', ['prompt', 'options', 'noInput', 'invalid'], {
    prompt: prompts,
    options: { type: 'object', minProperties: 1, propertyNames: { pattern: key }, additionalProperties: nodeId },
    timeout: seconds,
    retries,
    noInput: handling,
    invalid: handling,
  }),
  collect: node('collect', ['prompt', 'var', 'maxLength', 'next', 'noInput', 'invalid'], {
    prompt: prompts,
    var: { type: 'string', pattern: '^[a-z][a-zA-Z0-9_]*$' },
    minLength: { type: 'integer', minimum: 1, maximum: 64 },
    maxLength: { type: 'integer', minimum: 1, maximum: 64 },
    terminator: { type: 'string', pattern: '^[*#]$' },
    pattern: { type: 'string', minLength: 1 },
    starAs: { type: 'string', pattern: '^[A-Z]$' },
    timeout: seconds,
    retries,
    next: nodeId,
    noInput: handling,
    invalid: handling,
  }),
  branch: node('branch', ['conditions', 'otherwise'], {
    conditions: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['when', 'next'],
        properties: { when: condition, next: nodeId },
      },
    },
    otherwise: nodeId,
  }),
  set: node('set', ['vars', 'next'], {
    vars: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z][a-zA-Z0-9_]*$' },
      additionalProperties: { type: 'string' },
    },
    next: nodeId,
  }),
  http: node('http', ['url', 'timeout', 'next', 'onError'], {
    url: { type: 'string', pattern: '^https?://' },
    method: { enum: ['GET', 'POST'] },
    timeout: { type: 'integer', minimum: 100, maximum: 10_000 },
    body: { type: 'object', additionalProperties: { type: 'string' } },
    assign: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-zA-Z0-9_]*$' },
      additionalProperties: { type: 'string' },
    },
    next: nodeId,
    onError: nodeId,
  }),
  queue: node('queue', ['queue'], {
    queue: { type: 'string', pattern: '^[a-z0-9-]+$' },
    skills: { type: 'array', items: { type: 'string' } },
    priority: { type: 'integer', minimum: 0, maximum: 9 },
    maxWait: { type: 'integer', minimum: 5, maximum: 3600 },
    onTimeout: nodeId,
    onNoAgents: nodeId,
  }),
  transfer: node('transfer', ['kind', 'number'], {
    kind: { enum: ['internal', 'external', 'emergency'] },
    number: { type: 'string', pattern: '^[0-9]{3,20}$' },
    prompt,
  }),
  voicemail: node('voicemail', ['prompt', 'next'], {
    prompt,
    maxSeconds: { type: 'integer', minimum: 5, maximum: 300 },
    reason: { type: 'string' },
    next: nodeId,
  }),
  survey: node('survey', ['prompt', 'answers', 'next'], {
    prompt: prompts,
    answers: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: key },
      additionalProperties: { type: 'string' },
    },
    timeout: seconds,
    retries,
    thanks: prompt,
    next: nodeId,
  }),
  goto: node('goto', ['target'], { target: nodeId }),
  subflow: node('subflow', ['flow', 'next'], { flow: { type: 'string' }, next: nodeId }),
  return: node('return', [], {}),
  hangup: node('hangup', [], { prompt }),
};

export const flowSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://rexian.dev/schemas/flow.json',
  title: 'rexian IVR flow',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'start', 'nodes'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    name: { type: 'string' },
    description: { type: 'string' },
    numbers: { type: 'array', items: { type: 'string', pattern: '^[0-9]{3,20}$' } },
    start: nodeId,
    nodes: {
      type: 'object',
      minProperties: 1,
      // The loader refuses a larger flow before this schema runs (flow-limits.ts); stated here
      // too so that an editor's YAML plugin warns while the file is being written.
      maxProperties: FLOW_LIMITS.maxNodes,
      propertyNames: nodeId,
      additionalProperties: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: Object.keys(nodeSchemas) } },
      },
    },
  },
} as const;
