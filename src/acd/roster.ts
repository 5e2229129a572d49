// The agent roster (sip-config/agents.yaml): who may log in, their skills and levels, their
// device (SIP phone or headset, or a browser over WebRTC), and the not-ready reason codes.
// The same file renders the agents' PJSIP endpoints, so the phone system and the ACD agree.
import { createHmac } from 'node:crypto';

import type { AgentEndpoint } from '../asterisk/instance.js';
import { readCheckedYaml, type YamlProblem } from '../config/yaml-file.js';

export interface AgentDefinition {
  id: string;
  name: string;
  /** Skill → level (1–99); the higher level is offered calls first. */
  skills: Record<string, number>;
  /** sip: softphones and headsets over UDP or TCP. webrtc: a browser over WSS (DTLS-SRTP, ICE). */
  device: 'sip' | 'webrtc';
  /** Ask the phone to answer by itself (Call-Info answer-after=0). */
  autoAnswer: boolean;
  team?: string;
}

export interface Roster {
  agents: Map<string, AgentDefinition>;
  /** Reason code → label shown to people (小休, 培训 …). */
  notReadyReasons: Record<string, string>;
  /** What a ring-no-answer or a rejected offer does to the agent. */
  ringNoAnswer: { state: 'not-ready' | 'ready'; reason: string };
}

export const rosterSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['agents'],
  properties: {
    notReadyReasons: {
      type: 'object',
      propertyNames: { pattern: '^[a-z0-9-]+$' },
      additionalProperties: { type: 'string', minLength: 1 },
    },
    ringNoAnswer: {
      type: 'object',
      additionalProperties: false,
      properties: { state: { enum: ['not-ready', 'ready'] }, reason: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    },
    agents: {
      type: 'object',
      propertyNames: { pattern: '^[0-9A-Za-z_-]{1,32}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'skills'],
        properties: {
          name: { type: 'string', minLength: 1 },
          skills: {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: '^[a-z0-9-]+$' },
            additionalProperties: { type: 'integer', minimum: 1, maximum: 99 },
          },
          device: { enum: ['sip', 'webrtc'] },
          autoAnswer: { type: 'boolean' },
          team: { type: 'string', pattern: '^[a-z0-9-]+$' },
        },
      },
    },
  },
} as const;

const defaultReasons: Record<string, string> = {
  break: '小休',
  training: '培训',
  meeting: '会议',
  meal: '用餐',
  'no-answer': '未接听',
};

interface RosterFile {
  notReadyReasons?: Record<string, string>;
  ringNoAnswer?: { state?: 'not-ready' | 'ready'; reason?: string };
  agents: Record<string, Omit<AgentDefinition, 'id' | 'device' | 'autoAnswer'> & Partial<AgentDefinition>>;
}

export function parseRoster(file: string, text?: string): Roster {
  const check = (
    data: RosterFile,
    locate: (p: Array<string | number>) => { line: number; col: number },
  ): YamlProblem[] => {
    const reasons = data.notReadyReasons ?? defaultReasons;
    const reason = data.ringNoAnswer?.reason ?? 'no-answer';
    if ((data.ringNoAnswer?.state ?? 'not-ready') === 'not-ready' && !(reason in reasons)) {
      return [
        {
          message: `ringNoAnswer.reason "${reason}" is not one of notReadyReasons (${Object.keys(reasons).join(', ')})`,
          ...locate(['ringNoAnswer']),
        },
      ];
    }
    return [];
  };
  const { data } = readCheckedYaml<RosterFile>(file, rosterSchema, 'REXIAN_AGENTS_INVALID', check, text);
  const agents = new Map<string, AgentDefinition>();
  for (const [id, a] of Object.entries(data.agents)) {
    agents.set(id, {
      id,
      name: a.name,
      skills: a.skills,
      device: a.device ?? 'sip',
      autoAnswer: a.autoAnswer ?? false,
      ...(a.team ? { team: a.team } : {}),
    });
  }
  return {
    agents,
    notReadyReasons: data.notReadyReasons ?? defaultReasons,
    ringNoAnswer: { state: data.ringNoAnswer?.state ?? 'not-ready', reason: data.ringNoAnswer?.reason ?? 'no-answer' },
  };
}

/**
 * An agent's SIP password, derived from one master secret so that no password sits in the
 * roster file (which is committed) and rotating the master rotates them all.
 */
export function agentSipPassword(masterSecret: string, agentId: string): string {
  return createHmac('sha256', masterSecret).update(`agent:${agentId}`).digest('base64url').slice(0, 24);
}

/** PJSIP endpoints for the roster. `contacts` pins lab agents that do not register. */
export function rosterEndpoints(
  roster: Roster,
  masterSecret: string,
  contacts: Record<string, string> = {},
): AgentEndpoint[] {
  return [...roster.agents.values()].map((a) => ({
    id: a.id,
    secret: agentSipPassword(masterSecret, a.id),
    webrtc: a.device === 'webrtc',
    ...(contacts[a.id] ? { contact: contacts[a.id] } : {}),
  }));
}

/** The roster file's agents plus those added through the API (the file wins a clash). */
export function mergeRoster(file: Roster, added: Iterable<AgentDefinition>): Roster {
  const agents = new Map(file.agents);
  for (const a of added) if (!agents.has(a.id)) agents.set(a.id, a);
  return { ...file, agents };
}

/** JSON Schema of one agent in the API (the roster file's entry, plus nothing). */
export const agentBodySchema = rosterSchema.properties.agents.additionalProperties;
