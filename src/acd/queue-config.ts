// The queues file (sip-config/queues.yaml): answer targets, ring and wrap-up times, limits,
// announcements, callback offers and the overflow rules of every queue. Defaults apply to
// every queue unless the queue says otherwise.
import { readCheckedYaml, type YamlProblem } from '../config/yaml-file.js';

export interface ServiceLevelTarget {
  /** Answered within this many seconds … */
  seconds: number;
  /** … for at least this share of calls (percent). */
  percent: number;
}

export interface OverflowRule {
  /** Applies once the caller has waited this long (set it before the target threshold). */
  afterSeconds?: number;
  /**
   * Applies to a caller as soon as the queue's own agents are predicted to reach them after its
   * first target (from their place in line, the agents logged in and the handle time; see
   * overflow-prediction.ts), and not before.
   */
  whenPredictedBelowTarget?: boolean;
  /** Widen to agents holding these skills (at any level), after the queue's own. */
  addSkills?: string[];
  /** Move the caller to this queue, keeping their arrival time (their place by age). */
  toQueue?: string;
}

export interface QueueSettings {
  targets: ServiceLevelTarget[];
  ringSeconds: number;
  wrapUpSeconds: number;
  shortAbandonSeconds: number;
  maxWaitSeconds: number;
  maxLength: number;
  announce: { firstAfterSeconds: number; everySeconds: number; position: boolean; estimatedWait: boolean };
  /** Offer a callback that keeps the caller's place once the estimated wait passes this; 0 = never. */
  callbackAfterEstimatedWaitSeconds: number;
  musicClass: string;
  /** The flow the citizen hears when the agent hangs up first (the satisfaction survey); '' hangs up. */
  afterCallFlow: string;
  /** Record every conversation with an agent for quality inspection. */
  record: boolean;
  /** What the agent's screen and phone show of the caller's number (privacy requests always mask). */
  callerNumber: 'full' | 'masked';
}

export interface QueueDefinition extends QueueSettings {
  id: string;
  name: string;
  /** A call's priority is the higher of its flow's and its queue's (0–9, 9 first). */
  priority: number;
  /** Agents with these skills serve the queue, best first. */
  skills: string[];
  overflow: OverflowRule[];
}

export interface QueueConfig {
  queues: Map<string, QueueDefinition>;
}

const seconds = { type: 'number', minimum: 0, maximum: 86_400 } as const;
const settingsProperties = {
  targets: {
    type: 'array',
    minItems: 1,
    maxItems: 4,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['seconds', 'percent'],
      properties: {
        seconds: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
        percent: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
      },
    },
  },
  ringSeconds: { type: 'number', minimum: 3, maximum: 120 },
  wrapUpSeconds: seconds,
  shortAbandonSeconds: { type: 'number', minimum: 0, maximum: 60 },
  maxWaitSeconds: { type: 'number', minimum: 1, maximum: 86_400 },
  maxLength: { type: 'integer', minimum: 1, maximum: 100_000 },
  announce: {
    type: 'object',
    additionalProperties: false,
    properties: {
      firstAfterSeconds: seconds,
      everySeconds: { type: 'number', minimum: 0, maximum: 3600 },
      position: { type: 'boolean' },
      estimatedWait: { type: 'boolean' },
    },
  },
  callbackAfterEstimatedWaitSeconds: seconds,
  musicClass: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
  afterCallFlow: { type: 'string', pattern: '^([a-z0-9-]+)?$' },
  record: { type: 'boolean' },
  callerNumber: { enum: ['full', 'masked'] },
} as const;

const skillList = { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' }, minItems: 1 } as const;

export const queuesFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['queues'],
  properties: {
    defaults: { type: 'object', additionalProperties: false, properties: settingsProperties },
    queues: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z0-9-]+$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          ...settingsProperties,
          name: { type: 'string', minLength: 1 },
          priority: { type: 'integer', minimum: 0, maximum: 9 },
          skills: skillList,
          overflow: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: {
                afterSeconds: seconds,
                whenPredictedBelowTarget: { type: 'boolean' },
                addSkills: skillList,
                toQueue: { type: 'string', pattern: '^[a-z0-9-]+$' },
              },
            },
          },
        },
      },
    },
  },
} as const;

export const builtInSettings: QueueSettings = {
  targets: [
    { seconds: 10, percent: 90 },
    { seconds: 15, percent: 95 },
  ],
  ringSeconds: 15,
  wrapUpSeconds: 15,
  shortAbandonSeconds: 5,
  maxWaitSeconds: 900,
  maxLength: 500,
  announce: { firstAfterSeconds: 30, everySeconds: 45, position: true, estimatedWait: true },
  callbackAfterEstimatedWaitSeconds: 120,
  musicClass: 'default',
  afterCallFlow: 'survey',
  record: true,
  callerNumber: 'full',
};

interface QueuesFile {
  defaults?: Partial<QueueSettings>;
  queues: Record<string, Partial<QueueDefinition> & { name: string; overflow?: OverflowRule[] }>;
}

export function parseQueueConfig(file: string, text?: string): QueueConfig {
  const { data } = readCheckedYaml<QueuesFile>(file, queuesFileSchema, 'REXIAN_QUEUES_INVALID', checkRules, text);
  const defaults = {
    ...builtInSettings,
    ...data.defaults,
    announce: { ...builtInSettings.announce, ...data.defaults?.announce },
  };
  const queues = new Map<string, QueueDefinition>();
  for (const [id, q] of Object.entries(data.queues)) {
    queues.set(id, {
      ...defaults,
      ...q,
      announce: { ...defaults.announce, ...q.announce },
      id,
      priority: q.priority ?? 0,
      skills: q.skills ?? [id],
      overflow: q.overflow ?? [],
    } as QueueDefinition);
  }
  return { queues };
}

function checkRules(
  data: QueuesFile,
  locate: (p: Array<string | number>) => { line: number; col: number },
): YamlProblem[] {
  const problems: YamlProblem[] = [];
  const ids = Object.keys(data.queues);
  for (const [id, q] of Object.entries(data.queues)) {
    (q.overflow ?? []).forEach((rule, i) => {
      const at = ['queues', id, 'overflow', i];
      if (rule.afterSeconds === undefined && !rule.whenPredictedBelowTarget) {
        problems.push({
          message: `queue "${id}" overflow rule ${i + 1} never applies: give afterSeconds or whenPredictedBelowTarget`,
          ...locate(at),
        });
      }
      if (!rule.addSkills && !rule.toQueue) {
        problems.push({
          message: `queue "${id}" overflow rule ${i + 1} does nothing: give addSkills or toQueue`,
          ...locate(at),
        });
      }
      if (rule.toQueue !== undefined && !ids.includes(rule.toQueue)) {
        problems.push({
          message: `queue "${id}" overflows to queue "${rule.toQueue}", which is not defined (known: ${ids.join(', ')})`,
          ...locate([...at, 'toQueue']),
        });
      }
      if (rule.toQueue === id)
        problems.push({ message: `queue "${id}" overflows to itself`, ...locate([...at, 'toQueue']) });
      const first = (q.targets ?? data.defaults?.targets ?? builtInSettings.targets)[0]!;
      if (rule.afterSeconds !== undefined && rule.afterSeconds >= first.seconds) {
        problems.push({
          message: `queue "${id}" overflow rule ${i + 1} waits ${rule.afterSeconds} s, not before the ${first.seconds} s target: overflow must act before the target is missed`,
          ...locate([...at, 'afterSeconds']),
        });
      }
    });
  }
  return problems;
}
