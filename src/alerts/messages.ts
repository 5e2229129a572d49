// An alert's words: the rule's own templates, or the kind's default ones, in zh-CN and en,
// filled with the figures. Placeholders in braces: {rule} {queue} {agent} {controller} {value}
// {threshold} {seconds} {minutes}; an unknown placeholder stays as it is written (a typo shows,
// it does not vanish). The pages show these words; a webhook receiver gets them too.
import type { AlertRule } from './rules.js';
import type { AlertKind, AlertMessage } from './types.js';

const DEFAULTS: Record<AlertKind, AlertMessage> = {
  'service-level': {
    'zh-CN': '{queue}近{minutes}分钟{seconds}秒服务水平 {value}%，低于 {threshold}%',
    en: '{queue}: service level at {seconds} s over the last {minutes} minutes is {value}%, below {threshold}%',
  },
  'longest-wait': {
    'zh-CN': '{queue}当前最长等待 {value} 秒，超过 {threshold} 秒',
    en: '{queue}: the longest wait now is {value} s, above {threshold} s',
  },
  'waiting-no-agent-ready': {
    'zh-CN': '{queue}有 {value} 位来电在等待，但没有坐席就绪',
    en: '{queue}: {value} callers waiting and no agent is ready',
  },
  'agent-not-ready': {
    'zh-CN': '坐席 {agent} 已示忙 {value} 分钟，超过 {threshold} 分钟',
    en: 'agent {agent} has been not ready for {value} minutes, more than {threshold}',
  },
  'outbox-length': {
    'zh-CN': '话单发件箱积压 {value} 条，超过 {threshold} 条（PostgreSQL 写入是否中断？）',
    en: 'the records outbox holds {value} records, more than {threshold} (is PostgreSQL taking them?)',
  },
  'outbox-growing': {
    'zh-CN': '话单发件箱已连续增长 {minutes} 分钟，现有 {value} 条',
    en: 'the records outbox has grown for {minutes} minutes and holds {value} records',
  },
  'ari-disconnected': {
    'zh-CN': '控制器 {controller} 与 Asterisk ARI 断开连接',
    en: 'controller {controller} is not connected to Asterisk ARI',
  },
  'ami-disconnected': {
    'zh-CN': '控制器 {controller} 与 Asterisk AMI 断开连接',
    en: 'controller {controller} is not connected to Asterisk AMI',
  },
};

/** What a message may name. */
export interface MessageFacts {
  queue?: string;
  /** The queue's name as the queues file gives it (shown instead of its id). */
  queueName?: string;
  agent?: string;
  controller?: string;
  value: number;
  threshold: number;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

export function alertMessage(rule: AlertRule, facts: MessageFacts): AlertMessage {
  const common = {
    rule: rule.id,
    agent: facts.agent ?? '',
    controller: facts.controller ?? '',
    value: String(facts.value),
    threshold: String(facts.threshold),
    seconds: String(rule.seconds ?? ''),
    minutes: String(rule.minutes ?? ''),
  };
  const words = DEFAULTS[rule.kind];
  return {
    'zh-CN': fill(rule.message?.['zh-CN'] ?? words['zh-CN'], {
      ...common,
      queue: facts.queueName ?? facts.queue ?? '全部队列',
    }),
    en: fill(rule.message?.en ?? words.en, { ...common, queue: facts.queueName ?? facts.queue ?? 'all queues' }),
  };
}
