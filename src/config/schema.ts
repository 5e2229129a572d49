import type { TokenConfig } from '../api/auth.js';

// JSON Schema of the controller's configuration. Unknown keys are errors: a typo in a
// config file must fail loudly at start, not silently fall back to a default.

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const host = { type: 'string', minLength: 1 } as const;
const secret = { type: 'string', minLength: 8 } as const;
const featureCode = { type: 'string', pattern: '^\\*[0-9]{1,4}$' } as const;

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
    // The SIP edge (src/edge/, `rexian edge up`): Kamailio in front of the Asterisk nodes. When set,
    // agents register at the edge and each node rings them through it; carriers reach the edge.
    edge: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: {
        host,
        port,
        nodes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'host', 'port'],
            properties: { name: { type: 'string', pattern: '^[a-z0-9-]+$' }, host, port },
          },
        },
        carriers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 2 } },
        realm: { type: 'string', pattern: '^[0-9A-Za-z.-]+$' },
        // TCP port of the edge's WebSocket listener for browsers' phones (acd.webrtcUrl = ws(s)://edge:wsPort).
        wsPort: port,
        // TCP port of the seat listener the controllers update the edge's password table on, and the
        // addresses they call from (src/edge/seat-client.ts).
        rpcPort: port,
        controllers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 2 } },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'prefix'],
      properties: {
        url: { type: 'string', pattern: '^rediss?://' },
        prefix: { type: 'string', pattern: '^[A-Za-z0-9:_-]+$' },
        // Under Sentinel: the sentinels to ask and the master group's name (the url then gives
        // only the password and db). waitReplicas: replicas that must hold a call record before
        // it counts as kept (WAIT), within waitTimeoutMs.
        sentinels: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['host', 'port'],
            properties: { host, port },
          },
        },
        masterName: { type: 'string', minLength: 1 },
        waitReplicas: { type: 'integer', minimum: 0, maximum: 16 },
        waitTimeoutMs: { type: 'integer', minimum: 1, maximum: 60000 },
        // Under Sentinel: how long a command waits for a master during a failover before failing.
        failoverWaitMs: { type: 'integer', minimum: 0, maximum: 120000 },
      },
      dependencies: { sentinels: ['masterName'], masterName: ['sentinels'] },
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
    // Feature codes of agents' desk phones (src/desk-phone/): each a * and 1–4 digits; the digits
    // after notReady name a reason (reasonDigits: digits → roster reason code; default: the
    // roster's reasons numbered 1, 2, 3 … in its order).
    deskPhone: {
      type: 'object',
      additionalProperties: false,
      required: ['codes'],
      properties: {
        codes: {
          type: 'object',
          additionalProperties: false,
          required: ['signIn', 'signOut', 'ready', 'notReady', 'endWrapUp'],
          properties: {
            signIn: featureCode,
            signOut: featureCode,
            ready: featureCode,
            notReady: featureCode,
            endWrapUp: featureCode,
          },
        },
        reasonDigits: {
          type: 'object',
          propertyNames: { pattern: '^[0-9]{1,2}$' },
          additionalProperties: { type: 'string', pattern: '^[a-z0-9-]+$' },
        },
      },
    },
    // Service-level alerts (src/alerts/): the rules file, and the secret webhooks are signed with.
    alerts: {
      type: 'object',
      additionalProperties: false,
      required: ['rules'],
      properties: { rules: { type: 'string', minLength: 1 }, webhookSecret: { type: 'string', minLength: 16 } },
    },
    // Controllers in pairs (src/ha/ari-lease.ts): the ARI lease of each Asterisk node, in ms.
    ha: {
      type: 'object',
      additionalProperties: false,
      properties: {
        leaseTtlMs: { type: 'integer', minimum: 500, maximum: 60_000 },
        renewEveryMs: { type: 'integer', minimum: 100, maximum: 30_000 },
        retryEveryMs: { type: 'integer', minimum: 50, maximum: 30_000 },
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
  /**
   * The SIP edge: where Kamailio listens, the Asterisk nodes behind it (default: this controller's
   * sip host and port), the carriers' source addresses (default 127.0.0.1), the agents' digest realm.
   */
  edge?: {
    host: string;
    port: number;
    nodes?: Array<{ name: string; host: string; port: number }>;
    carriers?: string[];
    realm?: string;
    /** The WebSocket port browsers' phones register on; none: no WebSocket listener. */
    wsPort?: number;
    /**
     * The seat listener (default 8061): the controllers add seats made while the edge runs (an agent
     * added through the API, a supervisor's seat), from `controllers` (default 127.0.0.1) only.
     */
    rpcPort?: number;
    controllers?: string[];
  };
  redis: {
    url: string;
    prefix: string;
    sentinels?: Array<{ host: string; port: number }>;
    masterName?: string;
    waitReplicas?: number;
    waitTimeoutMs?: number;
    failoverWaitMs?: number;
  };
  postgres: { url: string };
  prompts: { dir: string; asteriskDir: string; recordedDir: string; catalog: string };
  flows: { dir: string; queues: string };
  /**
   * agents: the roster file. windows: the service-centre windows. agentSipSecret: the master secret
   * agents' SIP passwords derive from.
   */
  /** webrtcUrl: the WebSocket browsers' phones reach Asterisk at (wss:// in production); default ari.url's /ws. */
  acd: { agents: string; windows: string; virtualNumbers?: string; agentSipSecret?: string; webrtcUrl?: string };
  /** Desk phones' feature codes (README "Desk phones"); reasonDigits absent: the roster's reasons numbered 1, 2 … */
  deskPhone: {
    codes: { signIn: string; signOut: string; ready: string; notReady: string; endWrapUp: string };
    reasonDigits?: Record<string, string>;
  };
  /** Quality-inspection recordings are removed retentionDays after they were made (checked every sweepSeconds). */
  recording: { retentionDays: number; sweepSeconds: number };
  /** Alert rules file (README "Service-level alerts") and the webhooks' HMAC-SHA256 secret. */
  alerts: { rules: string; webhookSecret?: string };
  /** The ARI lease of controller pairs (README "Controllers in pairs"); absent: 3000 / 1000 / 250 ms. */
  ha?: { leaseTtlMs?: number; renewEveryMs?: number; retryEveryMs?: number };
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
