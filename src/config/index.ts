// Loads the controller's configuration: defaults, then a YAML/JSON file (REXIAN_CONFIG),
// then environment variables. Every error names the key and where it came from.
import { readFileSync } from 'node:fs';

import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, LineCounter, type Node as YamlNode, parseDocument } from 'yaml';

import { RexianError } from '../errors/index.js';
import { type Config, configSchema } from './schema.js';

export type { Config } from './schema.js';

export const defaults = {
  http: { host: '127.0.0.1', port: 3000 },
  ari: { url: 'http://127.0.0.1:8088', username: 'rexian', app: 'rexian' },
  ami: { host: '127.0.0.1', port: 5038, username: 'rexian' },
  sip: { host: '127.0.0.1', port: 5060 },
  redis: { url: 'redis://127.0.0.1:6379', prefix: 'rexian' },
  postgres: { url: 'postgres://postgres@127.0.0.1:5432/rexian' },
  prompts: {
    dir: '/var/lib/rexian/prompts',
    asteriskDir: '/var/lib/rexian/prompts',
    recordedDir: 'prompts/recorded',
    catalog: 'prompts/catalog.yaml',
  },
  flows: { dir: 'ivr-flows', queues: 'sip-config/queues.yaml' },
  acd: {
    agents: 'sip-config/agents.yaml',
    windows: 'sip-config/windows.yaml',
    virtualNumbers: 'sip-config/virtual-numbers.yaml',
  },
  // *21 sign in (not ready), *22<n> not ready with reason n, *23 ready, *24 end wrap-up, *29 sign out.
  deskPhone: { codes: { signIn: '*21', signOut: '*29', ready: '*23', notReady: '*22', endWrapUp: '*24' } },
  alerts: { rules: 'sip-config/alerts.yaml' },
  recording: { retentionDays: 180, sweepSeconds: 3600 },
  dialer: {
    enabled: true,
    mode: 'citizen-first',
    queue: 'general',
    hours: 'office',
    pacePerMinute: 6,
    flow: 'outbound-callback',
    callerId: '12345',
    ringSeconds: 30,
    retry: { busy: { max: 3, afterSeconds: 600 }, noAnswer: { max: 3, afterSeconds: 1800 } },
  },
  // A shift is up to 12 h: idle sessions end after it, any session 16 h after sign-in.
  auth: {
    sessions: {
      idleSeconds: 43_200,
      maxSeconds: 57_600,
      lockout: { failures: 5, windowSeconds: 300, lockSeconds: 300 },
    },
  },
  log: { level: 'info' },
};

/** Environment variables and the config key each one sets. */
export const envKeys: Record<string, string> = {
  REXIAN_HTTP_HOST: 'http.host',
  REXIAN_HTTP_PORT: 'http.port',
  REXIAN_HTTP_ADVERTISE_URL: 'http.advertiseUrl',
  REXIAN_ARI_URL: 'ari.url',
  REXIAN_ARI_USERNAME: 'ari.username',
  REXIAN_ARI_PASSWORD: 'ari.password',
  REXIAN_ARI_APP: 'ari.app',
  REXIAN_AMI_HOST: 'ami.host',
  REXIAN_AMI_PORT: 'ami.port',
  REXIAN_AMI_USERNAME: 'ami.username',
  REXIAN_AMI_PASSWORD: 'ami.password',
  REXIAN_SIP_HOST: 'sip.host',
  REXIAN_SIP_PORT: 'sip.port',
  REDIS_URL: 'redis.url',
  REXIAN_REDIS_PREFIX: 'redis.prefix',
  REXIAN_REDIS_SENTINELS: 'redis.sentinels',
  REXIAN_REDIS_MASTER_NAME: 'redis.masterName',
  REXIAN_REDIS_WAIT_REPLICAS: 'redis.waitReplicas',
  REXIAN_REDIS_WAIT_TIMEOUT_MS: 'redis.waitTimeoutMs',
  REXIAN_REDIS_FAILOVER_WAIT_MS: 'redis.failoverWaitMs',
  REXIAN_HA_LEASE_TTL_MS: 'ha.leaseTtlMs',
  REXIAN_HA_RENEW_EVERY_MS: 'ha.renewEveryMs',
  REXIAN_HA_RETRY_EVERY_MS: 'ha.retryEveryMs',
  DATABASE_URL: 'postgres.url',
  REXIAN_PROMPTS_DIR: 'prompts.dir',
  REXIAN_PROMPTS_ASTERISK_DIR: 'prompts.asteriskDir',
  REXIAN_PROMPTS_RECORDED_DIR: 'prompts.recordedDir',
  REXIAN_PROMPTS_CATALOG: 'prompts.catalog',
  REXIAN_FLOWS_DIR: 'flows.dir',
  REXIAN_QUEUES_FILE: 'flows.queues',
  REXIAN_AGENTS_FILE: 'acd.agents',
  REXIAN_WINDOWS_FILE: 'acd.windows',
  REXIAN_VIRTUAL_NUMBERS_FILE: 'acd.virtualNumbers',
  REXIAN_AGENT_SIP_SECRET: 'acd.agentSipSecret',
  REXIAN_WEBRTC_URL: 'acd.webrtcUrl',
  REXIAN_ALERTS: 'alerts.rules',
  REXIAN_ALERTS_WEBHOOK_SECRET: 'alerts.webhookSecret',
  REXIAN_RECORDING_RETENTION_DAYS: 'recording.retentionDays',
  REXIAN_RECORDING_SWEEP_SECONDS: 'recording.sweepSeconds',
  REXIAN_DIALER_ENABLED: 'dialer.enabled',
  REXIAN_ADMIN_TOKEN: 'auth.adminToken',
  REXIAN_SESSION_IDLE_SECONDS: 'auth.sessions.idleSeconds',
  REXIAN_SESSION_MAX_SECONDS: 'auth.sessions.maxSeconds',
  REXIAN_LOG_LEVEL: 'log.level',
};

const booleanKeys = new Set(['dialer.enabled']);
const numericKeys = new Set([
  'http.port',
  'ami.port',
  'sip.port',
  'redis.waitReplicas',
  'redis.waitTimeoutMs',
  'redis.failoverWaitMs',
  'ha.leaseTtlMs',
  'ha.renewEveryMs',
  'ha.retryEveryMs',
  'recording.retentionDays',
  'recording.sweepSeconds',
  'auth.sessions.idleSeconds',
  'auth.sessions.maxSeconds',
]);

type Origin =
  { kind: 'default' } | { kind: 'file'; file: string; line: number; col: number } | { kind: 'env'; name: string };

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  file?: string;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const merged: Record<string, unknown> = structuredClone(defaults);
  const origins = new Map<string, Origin>();

  const file = options.file ?? env.REXIAN_CONFIG;
  if (file) mergeFile(file, merged, origins);

  for (const [name, key] of Object.entries(envKeys)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value =
      numericKeys.has(key) && /^-?\d+(\.\d+)?$/.test(raw)
        ? Number(raw)
        : booleanKeys.has(key) && /^(true|false)$/.test(raw)
          ? raw === 'true'
          : key === 'redis.sentinels'
            ? parseHostPorts(raw)
            : raw;
    setPath(merged, key.split('.'), value);
    origins.set(key, { kind: 'env', name });
  }

  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(configSchema);
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => describe(e, origins));
    throw new RexianError('REXIAN_CONFIG_INVALID', { problems }, `invalid configuration: ${problems.join('; ')}`);
  }
  return merged as unknown as Config;
}

/** "host:port,host:port" (REXIAN_REDIS_SENTINELS) as a list; anything else stays as written, for the schema to name. */
export function parseHostPorts(raw: string): Array<{ host: string; port: number }> | string {
  const parts = raw.split(',').map((p) => /^\s*([^\s:]+):(\d+)\s*$/.exec(p));
  if (parts.some((m) => m === null)) return raw;
  return parts.map((m) => ({ host: m![1]!, port: Number(m![2]) }));
}

function mergeFile(file: string, target: Record<string, unknown>, origins: Map<string, Origin>): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RexianError('REXIAN_CONFIG_UNREADABLE', { file }, (err as Error).message);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new RexianError(
      'REXIAN_CONFIG_INVALID',
      { file, ...pos },
      `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`,
    );
  }
  if (doc.contents === null) return;
  if (!isMap(doc.contents)) {
    throw new RexianError(
      'REXIAN_CONFIG_INVALID',
      { file },
      `${file}:1:1: the config file must be a mapping of sections (http, ari, ami, …)`,
    );
  }
  walk(doc.contents, []);

  function walk(node: YamlNode, path: string[]): void {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as YamlNode;
        const here = [...path, key];
        const pos = keyNode.range ? lineCounter.linePos(keyNode.range[0]) : { line: 0, col: 0 };
        origins.set(here.join('.'), { kind: 'file', file, line: pos.line, col: pos.col });
        if (pair.value && isMap(pair.value)) walk(pair.value as YamlNode, here);
        else
          setPath(
            target,
            here,
            isScalar(pair.value)
              ? pair.value.value
              : ((pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null),
          );
      }
    }
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cursor = target;
  for (const key of path.slice(0, -1)) {
    const next = cursor[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[path[path.length - 1]!] = value;
}

function describe(e: ErrorObject, origins: Map<string, Origin>): string {
  const base = e.instancePath.split('/').filter(Boolean);
  let key = base.join('.');
  let what: string;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      key = [...base, extra].join('.');
      what = `unknown key "${key}"`;
      break;
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      key = [...base, missing].join('.');
      const envName = Object.entries(envKeys).find(([, k]) => k === key)?.[0];
      what = `"${key}" is required${envName ? ` (set ${envName} or ${key} in the config file)` : ''}`;
      break;
    }
    default:
      what = `"${key}" ${e.message ?? 'is invalid'}`;
  }
  return `${what}${where(key, origins)}`;
}

function where(key: string, origins: Map<string, Origin>): string {
  const origin = origins.get(key);
  if (!origin || origin.kind === 'default') return '';
  if (origin.kind === 'env') return ` (from environment variable ${origin.name})`;
  return ` (${origin.file}:${origin.line}:${origin.col})`;
}
