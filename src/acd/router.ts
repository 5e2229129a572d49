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

export type MatchResult = Match | { deferTo: string } | undefined;

export interface Match {
  callId: string;
  queue: string;
  agentId: string;
  /** The call's place in its queue, to put it back unchanged if the offer fails. */
  score: number;
}

// KEYS: none (key names are built from the prefix, so one script serves any queue set; all
// keys share one Redis node or one cluster hash tag, see README).
// ARGV: prefix, now, me, n, then n × (queue, comma-separated skills)
// A waiting call belongs to the controller whose ARI app holds its channel ("owner"). When the
// best pair's call is another live controller's, we defer to it rather than serve a worse call:
// global order holds across controllers. A call of a dead owner is skipped. An owner of ''
// (a callback whose citizen hung up) may be served by anyone.
const MATCH = `
local prefix, now, me, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local heads = {}
for i = 0, n - 1 do
  local queue, skills = ARGV[5 + i * 2], ARGV[6 + i * 2]
  local head = redis.call('ZRANGE', prefix .. ':queue:' .. queue .. ':waiting', 0, 4, 'WITHSCORES')
  for j = 1, #head, 2 do
    table.insert(heads, { queue = queue, skills = skills, call = head[j], score = tonumber(head[j + 1]) })
  end
end
table.sort(heads, function(a, b) return a.score < b.score end)
local blocked = {}
for _, h in ipairs(heads) do
  if not blocked[h.queue] then
    local skipped = false
    for skill in string.gmatch(h.skills, '[^,]+') do
      local ready = redis.call('ZRANGE', prefix .. ':ready:' .. skill, 0, 0)
      local agent = ready[1]
      if agent and redis.call('EXISTS', prefix .. ':agent:' .. agent) == 0 then
        -- A ready entry whose agent hash is gone (Redis lost part of its data): reserving it
        -- would make a hash with no skills, an agent never routed to again. Drop the entry.
        redis.call('ZREM', prefix .. ':ready:' .. skill, agent)
        agent = nil
      end
      if agent then
        local owner = redis.call('HGET', prefix .. ':qcall:' .. h.call, 'owner') or ''
        if owner ~= '' and owner ~= me then
          if redis.call('EXISTS', prefix .. ':controller:' .. owner) == 1 then return { 'defer', owner } end
          skipped = true
          break -- its controller is gone: skip this call, try the next one
        end
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
    -- Later calls of the same queue want the same skills: if the head found nobody, so do they.
    if not skipped then blocked[h.queue] = true end
  end
end
return false
`;

// ARGV: prefix, agentId, state, reason, now, call ('' for none), expected ('' = any; else
// comma-separated states the agent must be in), wrapUntil ('' for none), expectedCall ('' = any;
// else the call the agent must be on: releasing one call's reservation never frees the agent
// from a later one)
// A ready agent is (re)entered into the ready set of each skill, keyed by its idle time.
// Returns { 1, previous } when changed, { 0, current } when the agent was not in an expected state,
// { 0, '' } when Redis holds no such agent. That is not an error: after Redis lost its data an
// agent's hash is gone, and the end of that agent's call (wrap-up) must still go on; the key is
// not created here, since a hash without skills would be an agent that can never be routed to.
const SET_STATE = `
local prefix, agent, state, reason, now, call, expected, wrapUntil, expectedCall = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local akey = prefix .. ':agent:' .. agent
if redis.call('EXISTS', akey) == 0 then return { 0, '' } end
local previous = redis.call('HGET', akey, 'state') or 'logged-out'
if expectedCall ~= '' and (redis.call('HGET', akey, 'call') or '') ~= expectedCall then return { 0, previous } end
if expected ~= '' then
  local ok = false
  for e in string.gmatch(expected, '[^,]+') do if e == previous then ok = true end end
  if not ok then return { 0, previous } end
end
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  local skill, level = string.match(s, '^([^:]+):(%d+)$')
  if state == 'ready' then
    redis.call('ZADD', prefix .. ':ready:' .. skill, (100 - tonumber(level)) * 1e13 + tonumber(now), agent)
  else
    redis.call('ZREM', prefix .. ':ready:' .. skill, agent)
  end
  if state == 'logged-out' then
    redis.call('SREM', prefix .. ':logged-in:' .. skill, agent)
  else
    redis.call('SADD', prefix .. ':logged-in:' .. skill, agent)
  end
end
redis.call('HSET', akey, 'state', state, 'reason', reason, 'since', now, 'call', call, 'wrapUntil', wrapUntil)
if wrapUntil ~= '' then
  redis.call('ZADD', prefix .. ':wrap-up', tonumber(wrapUntil), agent)
else
  redis.call('ZREM', prefix .. ':wrap-up', agent)
end
redis.call('XADD', prefix .. ':agent-events', 'MAXLEN', '~', 100000, '*', 'agent', agent, 'state', state, 'reason', reason, 'call', call, 'previous', previous, 'at', now)
return { 1, previous }
`;

// An offer that failed (no answer, rejected): the call goes back to its exact place. With
// ifQueued, only a call whose queue entry is still there: one that left meanwhile (hung up
// between the match and the offer; waiting.leave drops the entry) must not come back as a ghost.
// ARGV: prefix, callId, ifQueued ('1' or '')
const RETURN_CALL = `
local prefix, call, ifQueued = ARGV[1], ARGV[2], ARGV[3]
local okey = prefix .. ':offer:' .. call
local queue, score = redis.call('HGET', okey, 'queue'), redis.call('HGET', okey, 'score')
if not queue then return false end
redis.call('DEL', okey)
if ifQueued == '1' and redis.call('EXISTS', prefix .. ':qcall:' .. call) == 0 then return false end
redis.call('ZADD', prefix .. ':queue:' .. queue .. ':waiting', score, call)
return queue
`;

// Overflow to another queue: the call keeps its score (priority and arrival), so it takes
// its place by age among the other queue's callers. Only a call still waiting moves.
// ARGV: prefix, callId, from, to
const MOVE_CALL = `
local prefix, call, from, to = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local score = redis.call('ZSCORE', prefix .. ':queue:' .. from .. ':waiting', call)
if not score then return 0 end
redis.call('ZREM', prefix .. ':queue:' .. from .. ':waiting', call)
redis.call('ZADD', prefix .. ':queue:' .. to .. ':waiting', score, call)
local since = redis.call('ZSCORE', prefix .. ':queue:' .. from .. ':since', call)
redis.call('ZREM', prefix .. ':queue:' .. from .. ':since', call)
if since then redis.call('ZADD', prefix .. ':queue:' .. to .. ':since', since, call) end
redis.call('HSET', prefix .. ':qcall:' .. call, 'queue', to)
return 1
`;

export class Router {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('rexianMatch', { numberOfKeys: 0, lua: MATCH });
    redis.defineCommand('rexianSetAgentState', { numberOfKeys: 0, lua: SET_STATE });
    redis.defineCommand('rexianReturnCall', { numberOfKeys: 0, lua: RETURN_CALL });
    redis.defineCommand('rexianMoveCall', { numberOfKeys: 0, lua: MOVE_CALL });
  }

  private get lua(): Record<string, (...args: Array<string | number>) => Promise<unknown>> {
    return this.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
  }

  /**
   * Reserves the best (call, agent) pair among the given queues. `me` is this controller: a
   * best pair whose call another live controller owns comes back as { deferTo }.
   */
  async match(requests: RouteRequest[], now = Date.now(), me = ''): Promise<MatchResult> {
    const args = requests.flatMap((r) => [r.queue, r.skills.join(',')]);
    const result = (await this.lua.rexianMatch!(this.prefix, now, me, requests.length, ...args)) as string[] | null;
    if (!result) return undefined;
    if (result[0] === 'defer') return { deferTo: result[1]! };
    const [callId, queue, agentId, score] = result as [string, string, string, string];
    return { callId, queue, agentId, score: Number(score) };
  }

  /**
   * Sets an agent's state atomically with its presence in the ready sets. With `expect`, only
   * from those states (a compare-and-set: two controllers cannot both move the same agent).
   * An agent Redis does not know (its state was lost) is left alone: `missing`, not a throw.
   */
  async setAgentState(
    agentId: string,
    state: string,
    reason = '',
    callId = '',
    now = Date.now(),
    options: { expect?: string[]; wrapUntil?: number; expectCall?: string } = {},
  ): Promise<{ changed: boolean; previous: string; missing?: true }> {
    const [changed, previous] = (await this.lua.rexianSetAgentState!(
      this.prefix,
      agentId,
      state,
      reason,
      now,
      callId,
      (options.expect ?? []).join(','),
      options.wrapUntil ?? '',
      options.expectCall ?? '',
    )) as [number, string];
    if (previous === '') return { changed: false, previous: 'logged-out', missing: true };
    return { changed: changed === 1, previous };
  }

  /** Moves a still-waiting call to another queue with its place by age; false if it was not waiting. */
  async moveCall(callId: string, from: string, to: string): Promise<boolean> {
    return (await this.lua.rexianMoveCall!(this.prefix, callId, from, to)) === 1;
  }

  /** The agent reserved for a call by a match not yet offered or ended, if any. */
  async offerOf(callId: string): Promise<string | undefined> {
    return (await this.redis.hget(`${this.prefix}:offer:${callId}`, 'agent')) ?? undefined;
  }

  /** Agents reserved now, with the call each is reserved for and since when (ms). */
  async reservations(): Promise<Array<{ agentId: string; callId: string; since: number }>> {
    const agents = await this.redis.smembers(`${this.prefix}:agents`);
    if (agents.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const a of agents) pipe.hmget(`${this.prefix}:agent:${a}`, 'state', 'call', 'since');
    const replies = (await pipe.exec()) ?? [];
    return agents.flatMap((agentId, i) => {
      const [state, callId, since] = (replies[i]?.[1] ?? []) as Array<string | null>;
      return state === 'reserved' && callId ? [{ agentId, callId, since: Number(since ?? 0) }] : [];
    });
  }

  /**
   * Puts a call whose offer failed back at its exact place; returns its queue. With ifQueued,
   * only if its queue entry is still there (a caller who left is not put back).
   */
  async returnCall(callId: string, options: { ifQueued?: boolean } = {}): Promise<string | undefined> {
    const queue = (await this.lua.rexianReturnCall!(this.prefix, callId, options.ifQueued ? '1' : '')) as string | null;
    return queue ?? undefined;
  }

  async clearOffer(callId: string): Promise<void> {
    await this.redis.del(`${this.prefix}:offer:${callId}`);
  }

  /** Registers an agent's skills (from the roster); state starts as logged-out. */
  async registerAgent(agentId: string, skills: Record<string, number>): Promise<void> {
    const key = `${this.prefix}:agent:${agentId}`;
    const encoded = Object.entries(skills)
      .map(([s, l]) => `${s}:${l}`)
      .join(',');
    await this.redis.hset(key, 'skills', encoded);
    await this.redis.hsetnx(key, 'state', 'logged-out');
    await this.redis.sadd(`${this.prefix}:agents`, agentId);
  }

  /** Agents whose wrap-up has run out by `now`. */
  async wrapUpsDue(now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(`${this.prefix}:wrap-up`, '-inf', now);
  }

  async loggedIn(skill: string): Promise<number> {
    return this.redis.scard(`${this.prefix}:logged-in:${skill}`);
  }

  async agent(agentId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(`${this.prefix}:agent:${agentId}`);
  }
}
