// Alerts in Redis, so that several controllers sharing one Redis fire each alert once:
// - `<prefix>:alerts:active`, a hash of the active alerts by condition key. Firing is HSETNX:
//   every controller evaluates the same figures, the first to claim a condition fires it, the
//   others find it taken and say nothing. Clearing is HGET + HDEL in one script: one clears it.
// - `<prefix>:alerts:events`, a stream of alert.fired / alert.cleared / alert.acknowledged,
//   appended in the same script that changed the hash; every controller tails it (./feed.ts)
//   onto its own event stream, so a supervisor connected to any controller hears every alert.
// - `<prefix>:alerts:recent`, the last cleared alerts (GET /api/alerts `recent`).
// - `<prefix>:audit:alerts`, who acknowledged which alert and when (append-only, trimmed near a
//   million entries like the other audit streams).
// - `<prefix>:alerts:samples`, the queues' day counters once a minute (field: the minute), the
//   first controller to write a minute wins: a controller that starts replays them, so its recent
//   window (./window.ts) covers the last hours at once and agrees with the others'.
import type { Redis } from '../store/redis.js';
import type { ActiveAlert, ClearedAlert } from './types.js';

const RECENT_KEPT = 100;

// KEYS: active, events. ARGV: field, alert JSON, event JSON.
const CLAIM = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'event', ARGV[3])
return 1`;

// KEYS: active, events, recent. ARGV: field, clearedAt, how many recent to keep.
const RELEASE = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local a = cjson.decode(v)
a['clearedAt'] = ARGV[2]
redis.call('LPUSH', KEYS[3], cjson.encode(a))
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'event',
  cjson.encode({ type = 'alert.cleared', alertId = a['alertId'], rule = a['rule'], clearedAt = ARGV[2] }))
return v`;

// KEYS: active, events, audit. ARGV: alertId, by, at, role.
// Returns { 1, alert } when this acknowledged it, { 0, alert } when it already was, false when no such alert.
const ACK = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local a = cjson.decode(all[i + 1])
  if a['alertId'] == ARGV[1] then
    if a['acknowledgedBy'] then return { 0, all[i + 1] } end
    a['acknowledgedBy'] = ARGV[2]
    a['acknowledgedAt'] = ARGV[3]
    local v = cjson.encode(a)
    redis.call('HSET', KEYS[1], all[i], v)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'event', cjson.encode({ type = 'alert.acknowledged',
      alertId = a['alertId'], rule = a['rule'], by = ARGV[2], acknowledgedAt = ARGV[3] }))
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'event', 'acknowledged', 'alertId', a['alertId'],
      'rule', a['rule'], 'by', ARGV[2], 'role', ARGV[4], 'at', ARGV[3])
    return { 1, v }
  end
end
return false`;

export class AlertStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get activeKey(): string {
    return `${this.prefix}:alerts:active`;
  }
  get eventsKey(): string {
    return `${this.prefix}:alerts:events`;
  }
  get recentKey(): string {
    return `${this.prefix}:alerts:recent`;
  }
  get auditKey(): string {
    return `${this.prefix}:audit:alerts`;
  }

  /** Fires the alert of a condition unless it is active already; true when this call fired it. */
  async claim(key: string, alert: ActiveAlert): Promise<boolean> {
    const event = JSON.stringify({ type: 'alert.fired', ...alert });
    return (await this.redis.eval(CLAIM, 2, this.activeKey, this.eventsKey, key, JSON.stringify(alert), event)) === 1;
  }

  /** Clears a condition's alert; the alert when this call cleared it, undefined when it was not active. */
  async release(key: string, clearedAt: string): Promise<ClearedAlert | undefined> {
    const v = (await this.redis.eval(
      RELEASE,
      3,
      this.activeKey,
      this.eventsKey,
      this.recentKey,
      key,
      clearedAt,
      RECENT_KEPT,
    )) as string | null;
    return v ? { ...(JSON.parse(v) as ActiveAlert), clearedAt } : undefined;
  }

  /** Acknowledges an active alert (audited); undefined when there is no such active alert. */
  async acknowledge(
    alertId: string,
    by: string,
    role: string,
    at: string,
  ): Promise<{ alert: ActiveAlert; already: boolean } | undefined> {
    const reply = (await this.redis.eval(
      ACK,
      3,
      this.activeKey,
      this.eventsKey,
      this.auditKey,
      alertId,
      by,
      at,
      role,
    )) as [number, string] | null;
    if (!reply) return undefined;
    return { alert: JSON.parse(reply[1]) as ActiveAlert, already: reply[0] === 0 };
  }

  /** The active alerts by condition key. */
  async active(): Promise<Map<string, ActiveAlert>> {
    const all = await this.redis.hgetall(this.activeKey);
    return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as ActiveAlert]));
  }

  get samplesKey(): string {
    return `${this.prefix}:alerts:samples`;
  }

  /** Keeps a minute's counters unless another controller kept that minute; forgets minutes before `oldest`. */
  async saveSample(minute: number, counters: unknown, oldest: number): Promise<void> {
    if ((await this.redis.hsetnx(this.samplesKey, String(minute), JSON.stringify(counters))) === 0) return;
    const stale = (await this.redis.hkeys(this.samplesKey)).filter((m) => Number(m) < oldest);
    if (stale.length > 0) await this.redis.hdel(this.samplesKey, ...stale);
  }

  /** The kept minutes' counters, oldest first. */
  async samples<T>(): Promise<Array<{ minute: number; counters: T }>> {
    const all = await this.redis.hgetall(this.samplesKey);
    return Object.entries(all)
      .map(([m, v]) => ({ minute: Number(m), counters: JSON.parse(v) as T }))
      .sort((a, b) => a.minute - b.minute);
  }

  /** The last cleared alerts, newest first. */
  async recent(count = 50): Promise<ClearedAlert[]> {
    const all = await this.redis.lrange(this.recentKey, 0, count - 1);
    return all.map((v) => JSON.parse(v) as ClearedAlert);
  }
}
