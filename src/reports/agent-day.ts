// The agent's own day and the queues they serve, for the agent desk (routes: ./agent-day-routes.ts;
// the pages import the types from here):
//   agentDay     today's calls of the agent from the call records (PostgreSQL): calls taken,
//                average talk, the survey's satisfaction, each call
//   agentQueues  the queues whose skills the agent has: waiting now, longest wait
// "Today" is the controller's local day, Asia/Shanghai, as every report and live figure counts
// it (ivr/calendar.ts localTime, reports/report.ts shanghaiMidnight).
// A call counts for the agent when they talked in it (the record's `agents`, transferred-in
// calls included); the survey answer counts for the call's last agent, whom the citizen heard
// last before the survey. The caller is the record's own: a masked call's record holds only
// the masked form, so the agent's day can never show more than the record keeps.
import type pg from 'pg';

import type { QueueFigures } from '../acd/figures.js';
import { RexianError } from '../errors/index.js';
import { shanghaiMidnight } from './report.js';

/** How a call ended for the agent, in the order it is decided. */
export type DayCallOutcome =
  | 'emergency' // handed to 110/119/120/122
  | 'window' // brought a service-centre window in (一号答)
  | 'transferred' // passed on to a queue, agent or number: someone else had the citizen last
  | 'agent-hung-up'
  | 'citizen-hung-up'
  | 'ended'; // anything else (the system, another party)

export interface DayCall {
  callId: string;
  startedAt: string;
  line: string;
  queue: string | null;
  caller: string;
  callerMasked: boolean;
  outcome: DayCallOutcome;
  /** The agent's own talk: the call's talk when they were its only agent, else their leg's connected time. */
  talkSeconds: number | null;
  /** satisfied, basically-satisfied, dissatisfied, when the citizen answered the survey after this agent. */
  survey: string | null;
}

export interface AgentDay {
  agentId: string;
  date: string;
  timezone: 'Asia/Shanghai';
  callsTaken: number;
  averageTalkSeconds: number | null;
  satisfaction: {
    answers: number;
    satisfied: number;
    basicallySatisfied: number;
    dissatisfied: number;
    /** (satisfied + basically satisfied) ÷ answers, the reports' formula; null without answers. */
    rate: number | null;
  };
  /** Newest first (at most 500: more than any shift). */
  calls: DayCall[];
}

export interface QueueWaiting {
  id: string;
  name: string;
  waiting: number;
  longestWaitSeconds: number;
}

const MAX_CALLS = 500;

interface Row {
  call_id: string;
  started_at: Date;
  line: string;
  queue: string | null;
  origin_queue: string | null;
  caller: string;
  caller_masked: boolean;
  agents: string[];
  talk_ms: number | null;
  transfers: number;
  window_id: string | null;
  emergency: string | null;
  survey: string | null;
  hangup_side: string | null;
  legs: Array<{ role: string; party: string; answeredAt: string | null; endedAt: string }>;
}

function outcome(r: Row, agentId: string): DayCallOutcome {
  if (r.emergency) return 'emergency';
  if (r.window_id) return 'window';
  if (r.agents.at(-1) !== agentId) return 'transferred';
  if (r.hangup_side === 'agent') return 'agent-hung-up';
  if (r.hangup_side === 'citizen') return 'citizen-hung-up';
  return r.transfers > 0 ? 'transferred' : 'ended';
}

function talkMs(r: Row, agentId: string): number | null {
  if (r.agents.length === 1 && r.agents[0] === agentId) return r.talk_ms;
  // A transferred call's talk is summed over its agents: take this agent's legs instead.
  let ms = 0;
  let any = false;
  for (const leg of r.legs) {
    if ((leg.role !== 'agent' && leg.role !== 'consult') || leg.party !== agentId || !leg.answeredAt) continue;
    ms += Math.max(0, Date.parse(leg.endedAt) - Date.parse(leg.answeredAt));
    any = true;
  }
  return any ? ms : r.talk_ms;
}

const tenths = (ms: number): number => Math.round(ms / 100) / 10;

/** The agent's calls of one local day (YYYY-MM-DD), summed. */
export async function agentDay(pool: pg.Pool, agentId: string, date: string): Promise<AgentDay> {
  const start = shanghaiMidnight(date);
  const end = new Date(start.getTime() + 86_400_000);
  const res = await pool
    .query<Row>(
      `SELECT call_id, started_at, line, queue, origin_queue, caller, caller_masked, agents, talk_ms, transfers,
              window_id, emergency, survey, hangup_side, legs
         FROM call_records
        WHERE started_at >= $2 AND started_at < $3 AND answered AND (agent_id = $1 OR $1 = ANY (agents))
        ORDER BY started_at DESC
        LIMIT ${MAX_CALLS}`,
      [agentId, start, end],
    )
    .catch((err: Error) => {
      throw new RexianError('REXIAN_DATABASE_UNAVAILABLE', {}, `cannot read the call records: ${err.message}`);
    });
  const calls: DayCall[] = [];
  const survey = { answers: 0, satisfied: 0, basicallySatisfied: 0, dissatisfied: 0 };
  let talkSum = 0;
  let talked = 0;
  for (const r of res.rows) {
    const last = r.agents.at(-1) === agentId;
    const answer = last ? r.survey : null;
    const ms = talkMs(r, agentId);
    if (ms !== null) {
      talkSum += ms;
      talked++;
    }
    if (answer) {
      survey.answers++;
      if (answer === 'satisfied') survey.satisfied++;
      else if (answer === 'basically-satisfied') survey.basicallySatisfied++;
      else if (answer === 'dissatisfied') survey.dissatisfied++;
    }
    calls.push({
      callId: r.call_id,
      startedAt: r.started_at.toISOString(),
      line: r.line,
      queue: r.origin_queue ?? r.queue,
      caller: r.caller,
      callerMasked: r.caller_masked,
      outcome: outcome(r, agentId),
      talkSeconds: ms === null ? null : tenths(ms),
      survey: answer,
    });
  }
  const good = survey.satisfied + survey.basicallySatisfied;
  return {
    agentId,
    date,
    timezone: 'Asia/Shanghai',
    callsTaken: calls.length,
    averageTalkSeconds: talked ? tenths(talkSum / talked) : null,
    satisfaction: {
      ...survey,
      rate: survey.answers ? Math.round((good / survey.answers) * 10_000) / 10_000 : null,
    },
    calls,
  };
}

/** The waiting figures of the queues an agent serves (any of the queue's skills), from the ACD's figures. */
export function agentQueues(
  skills: Record<string, number>,
  figures: QueueFigures[],
  queueSkills: (queueId: string) => string[],
): QueueWaiting[] {
  return figures
    .filter((f) => queueSkills(f.queue).some((s) => s in skills))
    .map((f) => ({ id: f.queue, name: f.name, waiting: f.waitingNow, longestWaitSeconds: f.longestWaitNowSeconds }));
}
