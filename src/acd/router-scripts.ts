// The router's Lua scripts (src/acd/router.ts runs them). Each declares every key it touches:
// it checks each key with want() before touching it and, missing one, answers need() having
// written nothing (src/store/declared-keys.ts), so the caller calls again with the keys added.
// Key names (prefix = redis.prefix):
//   <p>:queue:<q>:waiting   waiting calls of a queue (waiting.ts), score priority then arrival
//   <p>:queue:<q>:since     the same calls by arrival alone
//   <p>:qcall:<call>        a waiting call's entry; `owner` is the controller holding its channel
//   <p>:ready:<skill>       ready agents with the skill, score level then idle time
//   <p>:logged-in:<skill>   logged-in agents with the skill
//   <p>:agent:<id>          an agent: skills "s:l,…", state, since, call, reason, wrapUntil
//   <p>:offer:<call>        a reservation not yet offered or ended: agent, queue, score, at
//   <p>:controller:<id>     present while that controller lives
//   <p>:wrap-up             agents in wrap-up by its end
//   <p>:agent-events        the kept log of agent changes (every controller tails it)
import { DECLARED_KEYS_LUA } from '../store/declared-keys.js';

// ARGV: prefix, now, me, n, then n × (queue, comma-separated skills)
// Picks the best waiting call across the queues (priority, then arrival) and the best ready
// agent for it (highest skill level, then longest idle), reserves both and logs it.
// A waiting call belongs to the controller whose ARI app holds its channel ("owner"). When the
// best pair's call is another live controller's, we defer to it rather than serve a worse call:
// global order holds across controllers. A call of a dead owner is skipped. An owner of ''
// (a callback whose citizen hung up) may be served by anyone.
// Answers { 'match', call, queue, agent, score, hints… }, { 'defer', owner, hints… } or
// { 'none', hints… }; the hints are keys the next match will likely need (the next waiting
// calls' entries and offers, the agents at the head of the ready sets), the caller's cache.
export const MATCH = `${DECLARED_KEYS_LUA}
local prefix, now, me, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local events = prefix .. ':agent-events'
-- Per request three arguments: the queue, its skills, and its callers predicted late.
-- Skills: "general,backup@1796167641000,expert@": backup only for the callers who arrived by
-- then, expert only for the late ones (an overflow rule's cutoff, a predictive rule;
-- "@1796167641000+" is either). A waiting score is (9 - priority) * 1e13 + arrival.
local function skillsFor(spec, arrival, call, late)
  local out = {}
  for entry in string.gmatch(spec, '[^,]+') do
    local skill, rule = string.match(entry, '^([^@]+)(.*)$')
    local by, listed = string.match(rule, '^@(%d*)(%+?)$')
    if rule == '' or (by ~= '' and arrival <= tonumber(by)) or ((listed == '+' or by == '') and late[call]) then
      out[#out + 1] = skill
    end
  end
  return table.concat(out, ',')
end
local function namesOf(spec) return (string.gsub(spec, '@[^,]*', '')) end
local heads = {}
for i = 0, n - 1 do
  local queue, skills = ARGV[5 + i * 3], ARGV[6 + i * 3]
  local late = {}
  for c in string.gmatch(ARGV[7 + i * 3], '[^,]+') do late[c] = true end
  local wkey = prefix .. ':queue:' .. queue .. ':waiting'
  if not want(wkey) then return need() end
  local head = redis.call('ZRANGE', wkey, 0, 4, 'WITHSCORES')
  for j = 1, #head, 2 do
    local score = tonumber(head[j + 1])
    local mine = skillsFor(skills, score % 1e13, head[j], late)
    table.insert(heads, { queue = queue, skills = mine, call = head[j], score = score })
    late[head[j]] = nil
  end
  -- Late callers further back in line than the first five are candidates too.
  for c in pairs(late) do
    local score = redis.call('ZSCORE', wkey, c)
    if score then
      score = tonumber(score)
      table.insert(heads, { queue = queue, skills = skillsFor(skills, score % 1e13, c, { [c] = true }), call = c, score = score })
    end
  end
end
table.sort(heads, function(a, b) return a.score < b.score end)
-- Keys the next match will likely need: the next waiting calls' entries and offers, and the
-- agents at the head of the ready sets of their skills. wide: many more, for a match that
-- must try again while others (another controller) take the heads meanwhile.
local function hints(taken, wide)
  local h, skillSeen, calls, agents = {}, {}, 0, 0
  local function agentsFor(skills)
    for skill in string.gmatch(skills, '[^,]+') do
      local rkey = prefix .. ':ready:' .. skill
      if not skillSeen[skill] and declared[rkey] then
        skillSeen[skill] = true
        for _, a in ipairs(redis.call('ZRANGE', rkey, 0, agents)) do h[#h + 1] = prefix .. ':agent:' .. a end
      end
    end
  end
  if wide then
    agents = 11
    for i = 0, n - 1 do
      for _, c in ipairs(redis.call('ZRANGE', prefix .. ':queue:' .. ARGV[5 + i * 3] .. ':waiting', 0, 11)) do
        h[#h + 1] = prefix .. ':qcall:' .. c
        h[#h + 1] = prefix .. ':offer:' .. c
      end
      agentsFor(namesOf(ARGV[6 + i * 3]))
    end
    return h
  end
  for _, x in ipairs(heads) do
    if x.call ~= taken and calls < 3 then
      calls = calls + 1
      h[#h + 1] = prefix .. ':qcall:' .. x.call
      h[#h + 1] = prefix .. ':offer:' .. x.call
      agentsFor(x.skills)
    end
  end
  return h
end
local function needMore()
  local r = need()
  for _, k in ipairs(hints(nil, true)) do if not declared[k] and not noted[k] then r[#r + 1] = k end end
  return r
end
local blocked = {}
for _, h in ipairs(heads) do
  local same = h.queue .. '|' .. h.skills
  if not blocked[same] then
    local skipped = false
    local qkey, okey = prefix .. ':qcall:' .. h.call, prefix .. ':offer:' .. h.call
    for skill in string.gmatch(h.skills, '[^,]+') do
      local rkey = prefix .. ':ready:' .. skill
      if not want(rkey) then return needMore() end
      local agent = redis.call('ZRANGE', rkey, 0, 0)[1]
      if agent then
        local ok = want(prefix .. ':agent:' .. agent)
        ok = want(qkey) and ok
        ok = want(okey) and ok
        if not ok then return needMore() end
        if redis.call('EXISTS', prefix .. ':agent:' .. agent) == 0 then
          -- A ready entry whose agent hash is gone (Redis lost part of its data): reserving it
          -- would make a hash with no skills, an agent never routed to again. Drop the entry.
          redis.call('ZREM', rkey, agent)
          agent = nil
        end
      end
      if agent then
        local owner = redis.call('HGET', qkey, 'owner') or ''
        if owner ~= '' and owner ~= me then
          local ckey = prefix .. ':controller:' .. owner
          if not want(ckey) then return needMore() end
          if redis.call('EXISTS', ckey) == 1 then return { 'defer', owner, unpack(hints(nil)) } end
          skipped = true
          break -- its controller is gone: skip this call, try the next one
        end
        local akey = prefix .. ':agent:' .. agent
        local wkey = prefix .. ':queue:' .. h.queue .. ':waiting'
        local skills = redis.call('HGET', akey, 'skills') or ''
        local ok = want(events)
        for s in string.gmatch(skills, '[^,]+') do
          ok = want(prefix .. ':ready:' .. string.match(s, '^[^:]+')) and ok
        end
        if not ok then return needMore() end
        redis.call('ZREM', wkey, h.call)
        for s in string.gmatch(skills, '[^,]+') do
          redis.call('ZREM', prefix .. ':ready:' .. string.match(s, '^[^:]+'), agent)
        end
        redis.call('HSET', akey, 'state', 'reserved', 'since', now, 'call', h.call, 'reason', '')
        redis.call('HSET', okey, 'agent', agent, 'queue', h.queue, 'score', h.score, 'at', now)
        redis.call('XADD', events, 'MAXLEN', '~', 100000, '*', 'agent', agent, 'state', 'reserved', 'call', h.call, 'queue', h.queue, 'previous', 'ready', 'at', now)
        return { 'match', h.call, h.queue, agent, tostring(h.score), unpack(hints(h.call)) }
      end
    end
    -- Later calls of the same queue with the same skills: if this one found nobody, so do they.
    if not skipped then blocked[same] = true end
  end
end
return { 'none', unpack(hints(nil)) }
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
export const SET_STATE = `${DECLARED_KEYS_LUA}
local prefix, agent, state, reason, now, call, expected, wrapUntil, expectedCall = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local akey = prefix .. ':agent:' .. agent
if not want(akey) then return need() end
if redis.call('EXISTS', akey) == 0 then return { 0, '' } end
local previous = redis.call('HGET', akey, 'state') or 'logged-out'
if expectedCall ~= '' and (redis.call('HGET', akey, 'call') or '') ~= expectedCall then return { 0, previous } end
if expected ~= '' then
  local ok = false
  for e in string.gmatch(expected, '[^,]+') do if e == previous then ok = true end end
  if not ok then return { 0, previous } end
end
local skills = redis.call('HGET', akey, 'skills') or ''
local wkey, events = prefix .. ':wrap-up', prefix .. ':agent-events'
local ok = want(wkey)
ok = want(events) and ok
for s in string.gmatch(skills, '[^,]+') do
  local skill = string.match(s, '^([^:]+)')
  ok = want(prefix .. ':ready:' .. skill) and ok
  ok = want(prefix .. ':logged-in:' .. skill) and ok
end
if not ok then return need() end
for s in string.gmatch(skills, '[^,]+') do
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
local previousCall = redis.call('HGET', akey, 'call') or ''
redis.call('HSET', akey, 'state', state, 'reason', reason, 'since', now, 'call', call, 'wrapUntil', wrapUntil)
if wrapUntil ~= '' then
  redis.call('ZADD', wkey, tonumber(wrapUntil), agent)
else
  redis.call('ZREM', wkey, agent)
end
-- The kept log, which every controller's agent-state feed tails: the change, the call it took
-- the agent off (a released reservation, the end of a wrap-up) and when a wrap-up ends by itself.
local entry = { 'agent', agent, 'state', state, 'reason', reason, 'call', call, 'previous', previous, 'at', now }
if previousCall ~= '' and previousCall ~= call then
  table.insert(entry, 'previousCall'); table.insert(entry, previousCall)
end
if wrapUntil ~= '' then table.insert(entry, 'wrapUntil'); table.insert(entry, wrapUntil) end
redis.call('XADD', events, 'MAXLEN', '~', 100000, '*', unpack(entry))
return { 1, previous }
`;

// An offer that failed (no answer, rejected): the call goes back to its exact place. With
// ifQueued, only a call whose queue entry is still there: one that left meanwhile (hung up
// between the match and the offer; waiting.leave drops the entry) must not come back as a ghost.
// ARGV: prefix, callId, ifQueued ('1' or ''). The queue's waiting key is known from the offer.
export const RETURN_CALL = `${DECLARED_KEYS_LUA}
local prefix, call, ifQueued = ARGV[1], ARGV[2], ARGV[3]
local okey, qkey = prefix .. ':offer:' .. call, prefix .. ':qcall:' .. call
local ok = want(okey)
ok = want(qkey) and ok
if not ok then return need() end
local queue, score = redis.call('HGET', okey, 'queue'), redis.call('HGET', okey, 'score')
if not queue then return false end
local wkey = prefix .. ':queue:' .. queue .. ':waiting'
if not want(wkey) then return need() end
redis.call('DEL', okey)
if ifQueued == '1' and redis.call('EXISTS', qkey) == 0 then return false end
redis.call('ZADD', wkey, score, call)
return queue
`;

// Overflow to another queue: the call keeps its score (priority and arrival), so it takes
// its place by age among the other queue's callers. Only a call still waiting moves.
// KEYS: from waiting, to waiting, from since, to since, the call's entry. ARGV: callId, to.
export const MOVE_CALL = `
local call, to = ARGV[1], ARGV[2]
local score = redis.call('ZSCORE', KEYS[1], call)
if not score then return 0 end
redis.call('ZREM', KEYS[1], call)
redis.call('ZADD', KEYS[2], score, call)
local since = redis.call('ZSCORE', KEYS[3], call)
redis.call('ZREM', KEYS[3], call)
if since then redis.call('ZADD', KEYS[4], since, call) end
redis.call('HSET', KEYS[5], 'queue', to)
return 1
`;
