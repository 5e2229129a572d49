// Matches waiting calls to ready agents inside Redis, atomically: one Lua script picks the
// best waiting call across the queues being routed (priority, then arrival) and the best
// ready agent for it (highest skill level, then longest idle) and reserves both. Two
// controller processes on the same Redis therefore never offer one call to two agents, nor
// two calls to one agent.
//
// Every script declares the keys it touches (router-scripts.ts). Which agent and which call a
// match needs is only known inside it, so the router passes its best guess (the keys the last
// match said the next would need, agents made ready here since, controllers seen owning calls,
// each agent's skills from the roster) and a script missing a key answers before any write and
// is called again with it (src/store/declared-keys.ts): one call in the common case.
import { runDeclared, uniqueKeys } from '../store/declared-keys.js';
import type { Redis } from '../store/redis.js';
import { MATCH, MOVE_CALL, RETURN_CALL, SET_STATE } from './router-scripts.js';

/** How many of each guess the router keeps. */
const KEPT = { readied: 4, controllers: 16, offers: 10_000, requests: 64 };

/** Ready agents per skill: highest level first, then longest idle. */
export function readyScore(level: number, idleSince: number): number {
  return (100 - level) * 1e13 + idleSince;
}

export interface RouteRequest {
  queue: string;
  /** Skills whose ready agents may take any of this queue's calls now, best first. */
  skills: string[];
  /**
   * Skills an overflow rule adds, after those, for some callers only: those who arrived at or
   * before `arrivedBy` (ms), and, with `late`, the callers in `late`. A caller waiting 3 s is
   * not given to a backup agent because the caller ahead has waited 30, nor the first in line,
   * whom a specialist will reach in time, because the third will not.
   */
  overflow?: Array<{ skill: string; arrivedBy?: number; late?: boolean }>;
  /** The callers predicted to miss the queue's target (overflow-prediction.ts). */
  late?: string[];
}

/** A request's skills as the match script reads them: "general,backup@1796167641000,expert@". */
function skillArg(r: RouteRequest): string {
  const rule = (o: { arrivedBy?: number; late?: boolean }) => {
    const by = o.arrivedBy !== undefined && Number.isFinite(o.arrivedBy) ? String(Math.floor(o.arrivedBy)) : '';
    return `@${by}${by && o.late ? '+' : ''}`;
  };
  return [...r.skills, ...(r.overflow ?? []).map((o) => `${o.skill}${rule(o)}`)].join(',');
}

/** The skill names a request may draw on (whatever the callers' arrival). */
function skillNames(r: RouteRequest): string[] {
  return [...r.skills, ...(r.overflow ?? []).map((o) => o.skill)];
}

export type MatchResult = Match | { deferTo: string } | undefined;

export interface Match {
  callId: string;
  queue: string;
  agentId: string;
  /** The call's place in its queue, to put it back unchanged if the offer fails. */
  score: number;
}

export class Router {
  /** Keys the last match said the next one will likely need. */
  private hints: string[] = [];
  /** Agents made ready here since the last match (and their keys): the next is likely to reserve one. */
  private readied: string[] = [];
  private readiedKeys: string[] = [];
  /** Controllers seen owning waiting calls (a match checks whether the owner lives), and their keys. */
  private readonly controllers = new Set<string>();
  private controllerKeys: string[] = [];
  /** Each agent's skills (the roster's, or learned from a script), for its ready and logged-in keys. */
  private readonly skills = new Map<string, string[]>();
  /** Each request's fixed keys. */
  private readonly fixedKeys = new Map<string, string[]>();
  /** The queue of each call reserved here, for putting it back. */
  private readonly offerQueues = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    // No numberOfKeys: each call passes its own keys (their count first).
    redis.defineCommand('rexianMatch', { lua: MATCH });
    redis.defineCommand('rexianSetAgentState', { lua: SET_STATE });
    redis.defineCommand('rexianReturnCall', { lua: RETURN_CALL });
    redis.defineCommand('rexianMoveCall', { numberOfKeys: 5, lua: MOVE_CALL });
  }

  private get lua(): Record<string, (...args: Array<string | number>) => Promise<unknown>> {
    return this.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  private waitingKey(queue: string): string {
    return this.key('queue', queue, 'waiting');
  }

  /** An agent's key and the ready (and logged-in) keys of its known skills. */
  private agentKeys(agentId: string, loggedIn = false): string[] {
    const skills = this.skills.get(agentId) ?? [];
    return [
      this.key('agent', agentId),
      ...skills.map((s) => this.key('ready', s)),
      ...(loggedIn ? skills.map((s) => this.key('logged-in', s)) : []),
    ];
  }

  /** A key a script asked for, with those that follow from it (an agent's ready sets). */
  private expand(key: string, loggedIn = false): string[] {
    const agentPrefix = this.key('agent', '');
    return key.startsWith(agentPrefix) ? this.agentKeys(key.slice(agentPrefix.length), loggedIn) : [];
  }

  private rememberController(id: string): void {
    if (this.controllers.has(id)) return;
    remember(this.controllers, id, KEPT.controllers);
    this.controllerKeys = [...this.controllers].map((c) => this.key('controller', c));
  }

  /** A match's fixed keys (its queues' waiting sets, its skills' ready sets, the agent log), kept per request. */
  private requestKeys(requests: RouteRequest[]): string[] {
    // By names only: the overflow cutoffs change with every call, the keys do not.
    const id = requests.map((r) => `${r.queue}:${skillNames(r).join(',')}`).join('\u0000');
    let keys = this.fixedKeys.get(id);
    if (!keys) {
      keys = uniqueKeys(
        requests.map((r) => this.waitingKey(r.queue)),
        requests.flatMap((r) => skillNames(r).map((s) => this.key('ready', s))),
        [this.key('agent-events')],
      );
      remember(this.fixedKeys, id, KEPT.requests, keys);
    }
    return keys;
  }

  /** Hinted keys with the ready sets of the agents among them. */
  private withSkills(hints: string[]): string[] {
    return hints.flatMap((k) => [k, ...this.expand(k)]);
  }

  /** Learns what a script's declared keys say: controllers that own calls, an agent's skills. */
  private learn(keys: string[], agentId?: string): void {
    const controllerPrefix = this.key('controller', '');
    for (const k of keys) if (k.startsWith(controllerPrefix)) this.rememberController(k.slice(controllerPrefix.length));
    if (agentId === undefined) return;
    const readyPrefix = this.key('ready', '');
    const known = keys.filter((k) => k.startsWith(readyPrefix)).map((k) => k.slice(readyPrefix.length));
    if (known.length > 0) this.skills.set(agentId, known);
  }

  /**
   * Reserves the best (call, agent) pair among the given queues. `me` is this controller: a
   * best pair whose call another live controller owns comes back as { deferTo }.
   */
  async match(requests: RouteRequest[], now = Date.now(), me = ''): Promise<MatchResult> {
    const args = requests.flatMap((r) => [r.queue, skillArg(r), (r.late ?? []).join(',')]);
    // Duplicates are harmless (the script keeps a set), so the guess is a plain concatenation.
    const guess = this.requestKeys(requests).concat(this.hints, this.readiedKeys, this.controllerKeys);
    this.readied = [];
    this.readiedKeys = [];
    const { reply, keys, attempts } = await runDeclared(
      'match',
      guess,
      (keys) => this.lua.rexianMatch!(keys.length, ...keys, this.prefix, now, me, requests.length, ...args),
      // Under contention (another controller taking the heads meanwhile) a match may need a few tries.
      { expand: (k) => this.expand(k), attempts: 32 },
    );
    if (attempts > 1) this.learn(keys);
    const answer = reply as string[];
    const kind = answer[0];
    if (kind === 'match') {
      const [, callId, queue, agentId, score] = answer as [string, string, string, string, string];
      this.hints = this.withSkills(answer.slice(5));
      remember(this.offerQueues, callId, KEPT.offers, queue);
      return { callId, queue, agentId, score: Number(score) };
    }
    if (kind === 'defer') {
      this.hints = this.withSkills(answer.slice(2));
      this.rememberController(answer[1]!);
      return { deferTo: answer[1]! };
    }
    this.hints = this.withSkills(answer.slice(1));
    return undefined;
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
    const { reply, keys, attempts } = await runDeclared(
      'set-agent-state',
      [...this.agentKeys(agentId, true), this.key('wrap-up'), this.key('agent-events')],
      (keys) =>
        this.lua.rexianSetAgentState!(
          keys.length,
          ...keys,
          this.prefix,
          agentId,
          state,
          reason,
          now,
          callId,
          (options.expect ?? []).join(','),
          options.wrapUntil ?? '',
          options.expectCall ?? '',
        ),
    );
    if (attempts > 1) this.learn(keys, agentId);
    const [changed, previous] = reply as [number, string];
    if (previous === '') return { changed: false, previous: 'logged-out', missing: true };
    if (changed === 1 && state === 'ready' && !this.readied.includes(agentId) && this.readied.length < KEPT.readied) {
      this.readied.push(agentId);
      this.readiedKeys = this.readiedKeys.concat(this.agentKeys(agentId));
    }
    return { changed: changed === 1, previous };
  }

  /** Moves a still-waiting call to another queue with its place by age; false if it was not waiting. */
  async moveCall(callId: string, from: string, to: string): Promise<boolean> {
    const keys = [
      this.waitingKey(from),
      this.waitingKey(to),
      this.key('queue', from, 'since'),
      this.key('queue', to, 'since'),
      this.key('qcall', callId),
    ];
    return (await this.lua.rexianMoveCall!(...keys, callId, to)) === 1;
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
    const queue = this.offerQueues.get(callId);
    this.offerQueues.delete(callId);
    const { reply } = await runDeclared(
      'return-call',
      [this.key('offer', callId), this.key('qcall', callId), ...(queue ? [this.waitingKey(queue)] : [])],
      (keys) => this.lua.rexianReturnCall!(keys.length, ...keys, this.prefix, callId, options.ifQueued ? '1' : ''),
    );
    return (reply as string | null) ?? undefined;
  }

  async clearOffer(callId: string): Promise<void> {
    this.offerQueues.delete(callId);
    await this.redis.del(`${this.prefix}:offer:${callId}`);
  }

  /** Registers an agent's skills (from the roster); state starts as logged-out. */
  async registerAgent(agentId: string, skills: Record<string, number>): Promise<void> {
    const key = `${this.prefix}:agent:${agentId}`;
    this.skills.set(agentId, Object.keys(skills));
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

/** Adds to a bounded Set or Map, forgetting the oldest entry past `max`. */
function remember<K, V>(kept: Set<K> | Map<K, V>, key: K, max: number, value?: V): void {
  if (kept instanceof Map) {
    kept.delete(key);
    kept.set(key, value as V);
  } else {
    kept.delete(key);
    kept.add(key);
  }
  if (kept.size > max) kept.delete(kept.keys().next().value as K);
}
