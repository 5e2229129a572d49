import type { TokenConfig } from '../api/auth.js';

// JSON Schema of the controller's configuration. Unknown keys are errors: a typo in a
// config file must fail loudly at start, not silently fall back to a default.

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const host = { type: 'string', minLength: 1 } as const;
const secret = { type: 'string', minLength: 8 } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'http',
    'ari',
    'ami',
    'redis',
    'postgres',
    'prompts',
    'flows',
    'acd',
    'recording',
    'dialer',
    'auth',
    'log',
  ],
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: {
        host,
        port,
        allowedOrigins: { type: 'array', items: { type: 'string', pattern: '^https?://' } },
        advertiseUrl: { type: 'string', pattern: '^https?://' },
      },
    },
    ari: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'username', 'password', 'app'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        username: { type: 'string', minLength: 1 },
        password: secret,
        app: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
      },
    },
    ami: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'username', 'password'],
      properties: { host, port, username: { type: 'string', minLength: 1 }, password: secret },
    },
    sip: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: { host, port },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'prefix'],
      properties: {
        url: { type: 'string', pattern: '^rediss?://' },
        prefix: { type: 'string', pattern: '^[A-Za-z0-9:_-]+$' },
      },
    },
    postgres: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', pattern: '^postgres(ql)?://' } },
    },
    prompts: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'asteriskDir', 'recordedDir', 'catalog'],
      properties: {
        dir: { type: 'string', minLength: 1 },
        asteriskDir: { type: 'string', pattern: '^/' },
        recordedDir: { type: 'string', minLength: 1 },
        catalog: { type: 'string', minLength: 1 },
      },
    },
    flows: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'queues'],
      properties: { dir: { type: 'string', minLength: 1 }, queues: { type: 'string', minLength: 1 } },
    },
    acd: {
      type: 'object',
      additionalProperties: false,
      required: ['agents', 'windows'],
      properties: {
        agents: { type: 'string', minLength: 1 },
        windows: { type: 'string', minLength: 1 },
        virtualNumbers: { type: 'string', minLength: 1 },
        agentSipSecret: secret,
        webrtcUrl: { type: 'string', pattern: '^wss?://' },
      },
    },
    recording: {
      type: 'object',
      additionalProperties: false,
      required: ['retentionDays', 'sweepSeconds'],
      properties: {
        retentionDays: { type: 'number', exclusiveMinimum: 0, maximum: 36_500 },
        sweepSeconds: { type: 'number', minimum: 1, maximum: 86_400 },
      },
    },
    dialer: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'mode', 'queue', 'hours', 'pacePerMinute', 'flow', 'callerId', 'ringSeconds', 'retry'],
      properties: {
        enabled: { type: 'boolean' },
        mode: { enum: ['citizen-first', 'agent-first'] },
        queue: { type: 'string', pattern: '^[a-z0-9-]+$' },
        hours: { type: 'string', pattern: '^[a-z0-9-]+$' },
        pacePerMinute: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
        flow: { type: 'string', pattern: '^[a-z0-9-]+$' },
        callerId: { type: 'string', pattern: '^[0-9]{3,20}$' },
        ringSeconds: { type: 'integer', minimum: 5, maximum: 120 },
        retry: {
          type: 'object',
          additionalProperties: false,
          required: ['busy', 'noAnswer'],
          properties: {
            busy: {
              type: 'object',
              additionalProperties: false,
              required: ['max', 'afterSeconds'],
              properties: {
                max: { type: 'integer', minimum: 0, maximum: 20 },
                afterSeconds: { type: 'number', minimum: 1 },
              },
            },
            noAnswer: {
              type: 'object',
              additionalProperties: false,
              required: ['max', 'afterSeconds'],
              properties: {
                max: { type: 'integer', minimum: 0, maximum: 20 },
                afterSeconds: { type: 'number', minimum: 1 },
              },
            },
          },
        },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // People's sign-in sessions (src/people/): idle timeout renewed on use, bounded by maxSeconds
        // from sign-in; `failures` wrong passwords within windowSeconds lock a name and address out.
        sessions: {
          type: 'object',
          additionalProperties: false,
          required: ['idleSeconds', 'maxSeconds', 'lockout'],
          properties: {
            idleSeconds: { type: 'integer', minimum: 1, maximum: 7 * 86_400 },
            maxSeconds: { type: 'integer', minimum: 1, maximum: 30 * 86_400 },
            lockout: {
              type: 'object',
              additionalProperties: false,
              required: ['failures', 'windowSeconds', 'lockSeconds'],
              properties: {
                failures: { type: 'integer', minimum: 1, maximum: 1000 },
                windowSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
                lockSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
              },
            },
          },
        },
        adminToken: { type: 'string', minLength: 16 },
        tokens: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'role'],
            oneOf: [{ required: ['token'] }, { required: ['tokenSha256'] }],
            properties: {
              name: { type: 'string', minLength: 1 },
              role: { enum: ['agent', 'supervisor', 'ops', 'admin'] },
              token: { type: 'string', minLength: 16 },
              tokenSha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
              agent: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$' },
              teams: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' } },
              revealNumbers: { type: 'boolean' },
            },
          },
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } },
    },
  },
} as const;

export interface SessionConfig {
  idleSeconds: number;
  maxSeconds: number;
  lockout: { failures: number; windowSeconds: number; lockSeconds: number };
}

export interface Config {
  /** advertiseUrl: where other controllers reach this one (default http://host:port). */
  http: { host: string; port: number; allowedOrigins?: string[]; advertiseUrl?: string };
  ari: { url: string; username: string; password: string; app: string };
  ami: { host: string; port: number; username: string; password: string };
  sip: { host: string; port: number };
  redis: { url: string; prefix: string };
  postgres: { url: string };
  prompts: { dir: string; asteriskDir: string; recordedDir: string; catalog: string };
  flows: { dir: string; queues: string };
  /**
   * agents: the roster file. windows: the service-centre windows. agentSipSecret: the master secret
   * agents' SIP passwords derive from.
   */
  /** webrtcUrl: the WebSocket browsers' phones reach Asterisk at (wss:// in production); default ari.url's /ws. */
  acd: { agents: string; windows: string; virtualNumbers?: string; agentSipSecret?: string; webrtcUrl?: string };
  /** Quality-inspection recordings are removed retentionDays after they were made (checked every sweepSeconds). */
  recording: { retentionDays: number; sweepSeconds: number };
  /**
   * Outbound callbacks (回访): placed within the calendar schedule `hours`, at most
   * pacePerMinute, presenting callerId. citizen-first: an answered citizen goes through `flow`
   * (to a queue). agent-first: the first free agent of `queue` is rung, then the citizen.
   */
  dialer: {
    enabled: boolean;
    mode: 'citizen-first' | 'agent-first';
    queue: string;
    hours: string;
    pacePerMinute: number;
    flow: string;
    callerId: string;
    ringSeconds: number;
    retry: { busy: { max: number; afterSeconds: number }; noAnswer: { max: number; afterSeconds: number } };
  };
  /** sessions: people's sign-in (src/people/); tokens: machines and, before sign-in existed, people. */
  auth: { adminToken?: string; tokens?: TokenConfig[]; sessions: SessionConfig };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}
