// What the ACD's configuration files (queues, roster, service-centre windows, the virtual-number
// pool) hold as loaded, and how the last reload (SIGHUP) went: GET /api/config/status, for the
// ops page. A refused reload keeps the last good version serving (server.ts, reloadAcdConfig);
// this holder remembers the refusal with each problem's file:line:col, so ops see why their
// edit did not take without reading the controller's log.
import type { FastifyInstance } from 'fastify';

import type { AuthHook } from '../api/auth.js';

/** One configuration file of the ACD as loaded. */
export interface ConfigFileView {
  kind: 'queues' | 'roster' | 'windows' | 'virtualNumbers';
  file: string;
  /** How many entries the loaded version has (queues, agents, windows, numbers). */
  count: number;
  /** Their ids (numbers for the pool), the first MAX_IDS of them. */
  ids: string[];
}

export interface ConfigProblemView {
  file: string | null;
  line: number | null;
  col: number | null;
  message: string;
}

export interface ConfigReloadView {
  at: string;
  ok: boolean;
  /** The error code of a refused reload (REXIAN_QUEUES_INVALID, …); null when it passed. */
  code: string | null;
  problems: ConfigProblemView[];
}

export interface ConfigStatusView {
  /** When the version in service was read (at start, or by the last reload that passed). */
  loadedAt: string;
  files: ConfigFileView[];
  /** Agents added through the API, on top of the roster file. */
  apiAgents: number;
  /** The last reload since start; null when there has been none. */
  lastReload: ConfigReloadView | null;
}

/** The files' names, and what is loaded from them now (read on each request). */
export interface ConfigSources {
  files: Record<ConfigFileView['kind'], string>;
  loaded(): Record<ConfigFileView['kind'], readonly string[]> & { apiAgents: number };
}

const MAX_IDS = 50;
const KINDS: Array<ConfigFileView['kind']> = ['queues', 'roster', 'windows', 'virtualNumbers'];

export class ConfigReloadStatus {
  private loadedAt = new Date().toISOString();
  private last: ConfigReloadView | null = null;

  constructor(private readonly sources: ConfigSources) {}

  /** A reload passed: its version is the one in service. */
  reloaded(): void {
    this.loadedAt = new Date().toISOString();
    this.last = { at: this.loadedAt, ok: true, code: null, problems: [] };
  }

  /** A reload was refused (the last good version keeps serving), or failed part-way. */
  rejected(err: unknown): void {
    this.last = { at: new Date().toISOString(), ok: false, ...describeFailure(err) };
  }

  view(): ConfigStatusView {
    const loaded = this.sources.loaded();
    return {
      loadedAt: this.loadedAt,
      files: KINDS.map((kind) => ({
        kind,
        file: this.sources.files[kind],
        count: loaded[kind].length,
        ids: loaded[kind].slice(0, MAX_IDS),
      })),
      apiAgents: loaded.apiAgents,
      lastReload: this.last,
    };
  }
}

/**
 * A config error's problems (`details.problems`: `file:line:col: message` lines, as
 * readCheckedYaml throws them) as positions; any other failure as its message.
 */
export function describeFailure(err: unknown): { code: string | null; problems: ConfigProblemView[] } {
  const e = err as { code?: unknown; details?: { file?: unknown; problems?: unknown }; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : null;
  const lines = Array.isArray(e?.details?.problems) ? (e.details.problems as unknown[]).map(String) : [];
  const file = typeof e?.details?.file === 'string' ? e.details.file : null;
  if (lines.length === 0) {
    const message = typeof e?.message === 'string' ? e.message : String(err);
    return { code, problems: [{ file, line: null, col: null, message: message.replace(/^REXIAN_[A-Z_]+: /, '') }] };
  }
  return {
    code,
    problems: lines.map((line) => {
      const m = /^(.*?):(\d+):(\d+): ([\s\S]*)$/.exec(line);
      return m
        ? { file: m[1]!, line: Number(m[2]), col: Number(m[3]), message: m[4]! }
        : { file, line: null, col: null, message: line };
    }),
  };
}

const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** Registers GET /api/config/status and returns the holder reloadAcdConfig reports to. */
export function registerConfigStatusRoute(
  app: FastifyInstance,
  auth: AuthHook,
  sources: ConfigSources,
): ConfigReloadStatus {
  const status = new ConfigReloadStatus(sources);
  app.get(
    '/api/config/status',
    {
      onRequest: auth,
      schema: {
        tags: ['config'],
        summary: 'Queues, roster, windows and the virtual-number pool as loaded, and the last reload’s errors',
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'object',
            properties: {
              loadedAt: { type: 'string' },
              apiAgents: { type: 'integer' },
              files: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { type: 'string' },
                    file: { type: 'string' },
                    count: { type: 'integer' },
                    ids: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
              lastReload: {
                anyOf: [
                  { type: 'null' },
                  {
                    type: 'object',
                    properties: {
                      at: { type: 'string' },
                      ok: { type: 'boolean' },
                      code: nullableString,
                      problems: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            file: nullableString,
                            line: nullableInt,
                            col: nullableInt,
                            message: { type: 'string' },
                          },
                        },
                      },
                    },
                  },
                ],
              },
            },
          },
        },
      },
    },
    async () => status.view(),
  );
  return status;
}
