// The alert rules file (sip-config/alerts.yaml, config key alerts.rules / REXIAN_ALERTS): what
// to watch on the live figures, how bad is bad, for how long, who to call. Checked like the
// other operator files: every problem names file:line:col (src/config/yaml-file.ts), a broken
// file is refused at start, and on SIGHUP the last good rules keep running (./module.ts).
// Rules are a map by id, so an id given twice is a duplicate key, found with its position.
import { type Locate, readCheckedYaml, type YamlProblem } from '../config/yaml-file.js';
import type { AlertKind, AlertMessage, AlertSeverity } from './types.js';

export interface AlertRule {
  id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  /** Seconds the condition must hold before the alert fires (0: at once). */
  forSeconds: number;
  /** Where the alert is POSTed, signed; undefined: nowhere. */
  webhook?: string;
  /** Templates; absent: the default words of the kind (./messages.ts). */
  message?: Partial<AlertMessage>;
  /** A queue's figures; absent: the whole hotline (service-level, longest-wait, waiting-no-agent-ready). */
  queue?: string;
  /** service-level: the answer threshold (one of the queue's targets, 10 or 15 s). */
  seconds?: number;
  /** service-level: the recent window; agent-not-ready: the longest not-ready; outbox-growing: how long. */
  minutes?: number;
  /** service-level: fires below this percent. */
  belowPercent?: number;
  /** service-level: calls the window needs before its percent means anything. */
  minCalls?: number;
  /** longest-wait: fires when the longest wait now is above this. */
  aboveSeconds?: number;
  /** outbox-length: fires when more records than this wait in the outbox. */
  above?: number;
  /** agent-not-ready: only these not-ready reasons count (absent: every reason). */
  reasons?: string[];
}

export interface AlertRules {
  rules: AlertRule[];
}

/** Which parameters each kind takes, and which of them it needs. */
export const KIND_PARAMS: Record<AlertKind, { required: string[]; optional: string[] }> = {
  'service-level': { required: ['seconds', 'minutes', 'belowPercent'], optional: ['queue', 'minCalls'] },
  'longest-wait': { required: ['aboveSeconds'], optional: ['queue'] },
  'waiting-no-agent-ready': { required: [], optional: ['queue'] },
  'agent-not-ready': { required: ['minutes'], optional: ['reasons'] },
  'outbox-length': { required: ['above'], optional: [] },
  'outbox-growing': { required: ['minutes'], optional: [] },
  'ari-disconnected': { required: [], optional: [] },
  'ami-disconnected': { required: [], optional: [] },
};

const COMMON = ['kind', 'severity', 'for', 'webhook', 'message'];
const webhookUrl = { type: 'string', pattern: '^(https?://.+)?$' } as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    webhook: webhookUrl,
    rules: {
      type: 'object',
      propertyNames: { pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'severity'],
        properties: {
          kind: { enum: Object.keys(KIND_PARAMS) },
          severity: { enum: ['warning', 'critical'] },
          for: { type: 'number', minimum: 0, maximum: 86_400 },
          webhook: webhookUrl,
          message: {
            type: 'object',
            additionalProperties: false,
            properties: {
              'zh-CN': { type: 'string', minLength: 1, maxLength: 500 },
              en: { type: 'string', minLength: 1, maxLength: 500 },
            },
          },
          queue: { type: 'string', pattern: '^[a-z0-9-]+$' },
          seconds: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
          minutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440 },
          belowPercent: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
          minCalls: { type: 'integer', minimum: 1, maximum: 100_000 },
          aboveSeconds: { type: 'number', minimum: 0, maximum: 86_400 },
          above: { type: 'integer', minimum: 0, maximum: 100_000_000 },
          reasons: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9-]+$' } },
        },
      },
    },
  },
} as const;

/** The longest service-level window a rule may ask for (the recent window keeps this much). */
export const MAX_WINDOW_MINUTES = 240;

interface RuleEntry extends Omit<AlertRule, 'id' | 'forSeconds'> {
  for?: number;
}
interface RulesFile {
  webhook?: string;
  rules: Record<string, RuleEntry>;
}

/** What the rules are checked against: the queues loaded now and the thresholds each targets. */
export interface RuleContext {
  queues: Map<string, { targets: Array<{ seconds: number }> }>;
}

export function parseAlertRules(file: string, context: RuleContext, text?: string): AlertRules {
  const { data } = readCheckedYaml<RulesFile>(
    file,
    schema,
    'REXIAN_ALERTS_INVALID',
    (d, locate) => check(d, locate, context),
    text,
  );
  const rules = Object.entries(data.rules ?? {}).map(([id, r]): AlertRule => {
    const { for: hold, webhook, ...rest } = r;
    const url = webhook ?? data.webhook;
    return {
      ...rest,
      id,
      forSeconds: hold ?? 0,
      ...(url ? { webhook: url } : {}),
      ...(r.kind === 'service-level' ? { minCalls: r.minCalls ?? 10 } : {}),
    };
  });
  return { rules };
}

function check(data: RulesFile, locate: Locate, context: RuleContext): YamlProblem[] {
  const problems: YamlProblem[] = [];
  const known = [...context.queues.keys()];
  for (const [id, rule] of Object.entries(data.rules ?? {})) {
    const at = ['rules', id];
    const params = KIND_PARAMS[rule.kind];
    const allowed = new Set([...COMMON, ...params.required, ...params.optional]);
    for (const key of Object.keys(rule))
      if (!allowed.has(key))
        problems.push({
          message: `rule "${id}" (${rule.kind}) does not take "${key}" (it takes: ${[...params.required, ...params.optional].join(', ') || 'nothing'})`,
          ...locate([...at, key]),
        });
    for (const key of params.required)
      if ((rule as unknown as Record<string, unknown>)[key] === undefined)
        problems.push({ message: `rule "${id}" (${rule.kind}) needs "${key}"`, ...locate(at) });
    if (rule.queue !== undefined && !context.queues.has(rule.queue))
      problems.push({
        message: `rule "${id}" watches queue "${rule.queue}", which is not defined (known: ${known.join(', ')})`,
        ...locate([...at, 'queue']),
      });
    if (rule.kind === 'service-level' && rule.seconds !== undefined) {
      if (rule.minutes !== undefined && rule.minutes > MAX_WINDOW_MINUTES)
        problems.push({
          message: `rule "${id}" looks back ${rule.minutes} minutes; at most ${MAX_WINDOW_MINUTES} are kept`,
          ...locate([...at, 'minutes']),
        });
      // Answers are counted only at the thresholds queues target (src/acd/figures.ts).
      const watched = rule.queue !== undefined ? [context.queues.get(rule.queue)] : [...context.queues.values()];
      const thresholds = new Set(watched.flatMap((q) => q?.targets.map((t) => t.seconds) ?? []));
      if ((rule.queue === undefined || context.queues.has(rule.queue)) && !thresholds.has(rule.seconds))
        problems.push({
          message: `rule "${id}" asks for service level at ${rule.seconds} s, but ${rule.queue ? `queue "${rule.queue}" does not target it` : 'no queue targets it'} (targeted: ${[...thresholds].join(', ') || 'none'} s)`,
          ...locate([...at, 'seconds']),
        });
    }
  }
  return problems;
}
