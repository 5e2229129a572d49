// Matches waiting calls to ready agents inside Redis, atomically: one Lua script picks the
// best waiting call across the queues being routed (priority, then arrival) and the best
// ready agent for it (highest skill level, then longest idle) and reserves both. Two
// controller processes on the same Redis therefore never offer one call to two agents, nor
// two calls to one agent.
import type { Redis } from '../store/redis.js';

/** Ready agents per skill: highest level first, then longest idle. */
export function readyScore(level: number, idleSince: number): number {
  return (100 - level) * 1e13 + idleSince;
}

export interface RouteRequest {
  queue: string;
  /** Skills whose ready agents may take this queue's calls now, best first (overflow widens it). */
  skills: string[];
}

export interface Match {
  callId: string;
  queue: string;
  agentId: string;
  /** The call's place in its queue, to put it back unchanged if the offer fails. */
  score: number;
}

// KEYS: none (key names are built from the prefix, so one script serves any queue set; all
// keys share one Redis node or one cluster hash tag, see README).
// ARGV: prefix, now, n, then n × (queue, comma-separated skills)
const MATCH = `
local prefix, now, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local heads = {}
for i = 0, n - 1 do
  local queue, skills = ARGV[4 + i * 2], ARGV[5 + i * 2]
  local head = redis.call('ZRANGE', prefix .. ':queue:' .. queue .. ':waiting', 0, 0, 'WITHSCORES')
  if head[1] then table.insert(heads, { queue = queue, skills = skills, call = head[1], score = tonumber(head[2]) }) end
end
table.sort(heads, function(a, b) return a.score < b.score end)
for _, h in ipairs(heads) do
  for skill in string.gmatch(h.skills, '[^,]+') do
    local ready = redis.call('ZRANGE', prefix .. ':ready:' .. skill, 0, 0)
    local agent = ready[1]
    if agent then
      local akey = prefix .. ':agent:' .. agent
      redis.call('ZREM', prefix .. ':queue:' .. h.queue .. ':waiting', h.call)
      for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
        redis.call('ZREM', prefix .. ':ready:' .. string.match(s, '^[^:]+'), agent)
      end
      redis.call('HSET', akey, 'state', 'reserved', 'since', now, 'call', h.call, 'reason', '')
      redis.call('HSET', prefix .. ':offer:' .. h.call, 'agent', agent, 'queue', h.queue, 'score', h.score, 'at', now)
      redis.call('XADD', prefix .. ':agent-events', 'MAXLEN', '~', 100000, '*', 'agent', agent, 'state', 'reserved', 'call', h.call, 'queue', h.queue, 'at', now)
      return { h.call, h.queue, agent, tostring(h.score) }
    end
  end
end
return false
`;

// ARGV: prefix, agentId, state, reason, now, call ('' for none)
// A ready agent is (re)entered into the ready set of each skill, keyed by its idle time.
const SET_STATE = `
local prefix, agent, state, reason, now, call = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local akey = prefix .. ':agent:' .. agent
if redis.call('EXISTS', akey) == 0 then return redis.error_reply('REXIAN_UNKNOWN_AGENT') end
local previous = redis.call('HGET', akey, 'state')
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  local skill, level = string.match(s, '^([^:]+):(%d+)$')
  if state == 'ready' then
    redis.call('ZADD', prefix .. ':ready:' .. skill, (100 - tonumber(level)) * 1e13 + tonumber(now), agent)
  else
    redis.call('ZREM', prefix .. ':ready:' .. skill, agent)
  end
end
redis.call('HSET', akey, 'state', state, 'reason', reason, 'since', now, 'call', call)
redis.call('XADD', prefix .. ':agent-events', 'MAXLEN', '~', 100000, '*', 'agent', agent, 'state', state, 'reason', reason, 'call', call, 'previous', previous or '', 'at', now)
return previous or ''
`;

// An offer that failed (no answer, rejected): the call goes back to its exact place.
// ARGV: prefix, callId
const RETURN_CALL = `
local prefix, call = ARGV[1], ARGV[2]
local okey = prefix .. ':offer:' .. call
local queue, score = redis.call('HGET', okey, 'queue'), redis.call('HGET', okey, 'score')
if not queue then return false end
redis.call('DEL', okey)
redis.call('ZADD', prefix .. ':queue:' .. queue .. ':waiting', score, call)
return queue
`;

export class Router {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    redis.defineCommand('rexianMatch', { numberOfKeys: 0, lua: MATCH });
    redis.defineCommand('rexianSetAgentState', { numberOfKeys: 0, lua: SET_STATE });
    redis.defineCommand('rexianReturnCall', { numberOfKeys: 0, lua: RETURN_CALL });
  }

  /** Reserves the best (call, agent) pair among the given queues, or undefined. */
  async match(requests: RouteRequest[], now = Date.now()): Promise<Match | undefined> {
    const args = requests.flatMap((r) => [r.queue, r.skills.join(',')]);
    const result = (await (this.redis as unknown as { rexianMatch(...a: Array<string | number>): Promise<string[] | null> })
      .rexianMatch(this.prefix, now, requests.length, ...args));
    if (!result) return undefined;
    const [callId, queue, agentId, score] = result as [string, string, string, string];
    return { callId, queue, agentId, score: Number(score) };
  }

  /** Sets an agent's state atomically with its presence in the ready sets; returns the previous state. */
  async setAgentState(agentId: string, state: string, reason = '', callId = '', now = Date.now()): Promise<string> {
    return (this.redis as unknown as { rexianSetAgentState(...a: Array<string | number>): Promise<string> })
      .rexianSetAgentState(this.prefix, agentId, state, reason, now, callId);
  }

  /** Puts a call whose offer failed back at its exact place; returns its queue. */
  async returnCall(callId: string): Promise<string | undefined> {
    const queue = await (this.redis as unknown as { rexianReturnCall(...a: string[]): Promise<string | null> }).rexianReturnCall(this.prefix, callId);
    return queue ?? undefined;
  }

  async clearOffer(callId: string): Promise<void> {
    await this.redis.del(`${this.prefix}:offer:${callId}`);
  }

  /** Registers an agent's skills (from the roster); state starts as logged-out. */
  async registerAgent(agentId: string, skills: Record<string, number>): Promise<void> {
    const key = `${this.prefix}:agent:${agentId}`;
    const encoded = Object.entries(skills).map(([s, l]) => `${s}:${l}`).join(',');
    await this.redis.hset(key, 'skills', encoded);
    await this.redis.hsetnx(key, 'state', 'logged-out');
  }

  async agent(agentId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(`${this.prefix}:agent:${agentId}`);
  }
}
