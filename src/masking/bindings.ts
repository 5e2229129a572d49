// Virtual-number bindings (the AXB model of privacy-number services): A is a department's
// phone, B the citizen, X a number from the hotline's pool. A binding lives in Redis with a
// TTL, so it expires exactly and survives controller restarts; X is held by a key of its own
// with the same TTL, so an expired binding frees its X by itself and a live one is never
// handed out twice. Every operation is audited.
import { randomBytes } from 'node:crypto';

import { checkDestination } from '../calls/dial-string.js';
import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export interface Binding {
  id: string;
  a: string;
  b: string;
  x: string;
  caseId?: string;
  record: boolean;
  maxCalls: number;
  calls: number;
  createdAt: string;
  expiresAt: string;
  createdBy: string;
}

export interface BindRequest {
  a: string;
  b: string;
  x?: string;
  ttlHours?: number;
  record?: boolean;
  caseId?: string;
  maxCalls?: number;
}

// KEYS: the pool's X keys from a random start (every key it may take is declared). ARGV: id,
// expiresAt (ms). Takes the first X not held by a live binding; answers its place in KEYS.
const ALLOCATE = `
local id, expires = ARGV[1], ARGV[2]
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], id, 'NX', 'PXAT', expires) then return i end
end
return false
`;

export class BindingStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly pool: () => string[],
    private readonly defaults: { ttlHours: number; maxCalls: number },
  ) {}

  private key(id: string): string {
    return `${this.prefix}:masking:binding:${id}`;
  }

  private xKey(x: string): string {
    return `${this.prefix}:masking:x:${x}`;
  }

  private async audit(
    action: string,
    who: string,
    b: Partial<Binding>,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    // The audit names the binding and its X, never the hidden numbers.
    await appendToStream(this.redis, `${this.prefix}:masking:audit`, {
      action,
      who,
      binding: b.id,
      x: b.x,
      caseId: b.caseId,
      at: new Date().toISOString(),
      ...extra,
    });
  }

  async bind(req: BindRequest, who: string, now = Date.now()): Promise<Binding> {
    const a = checkDestination('external', req.a, 'a').number;
    const b = checkDestination('external', req.b, 'b').number;
    if (a === b) throw new RexianError('REXIAN_BAD_REQUEST', { field: 'b' }, '"a" and "b" are the same number');
    const pool = this.pool();
    if (req.x !== undefined && !pool.includes(req.x))
      throw new RexianError(
        'REXIAN_BAD_REQUEST',
        { field: 'x', value: req.x },
        `x "${req.x}" is not a number of the virtual pool`,
      );
    const id = `bd-${randomBytes(6).toString('hex')}`;
    const expires = now + Math.round((req.ttlHours ?? this.defaults.ttlHours) * 3_600_000);
    let x: string | null;
    if (req.x !== undefined) {
      x = (await this.redis.set(this.xKey(req.x), id, 'PXAT', expires, 'NX')) === 'OK' ? req.x : null;
      if (!x) throw new RexianError('REXIAN_NUMBER_TAKEN', { field: 'x', value: req.x });
    } else {
      const start = Math.floor(Math.random() * Math.max(1, pool.length));
      const order = [...pool.slice(start), ...pool.slice(0, start)];
      const place = (await this.redis.eval(ALLOCATE, order.length, ...order.map((n) => this.xKey(n)), id, expires)) as
        number | null;
      x = place ? order[place - 1]! : null;
      if (!x) throw new RexianError('REXIAN_POOL_EXHAUSTED', { pool: pool.length });
    }
    const binding: Binding = {
      id,
      a,
      b,
      x,
      ...(req.caseId ? { caseId: req.caseId } : {}),
      record: req.record ?? false,
      maxCalls: req.maxCalls ?? this.defaults.maxCalls,
      calls: 0,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(expires).toISOString(),
      createdBy: who,
    };
    const multi = this.redis
      .multi()
      .hset(this.key(id), Object.fromEntries(Object.entries(binding).map(([k, v]) => [k, String(v)])))
      .pexpireat(this.key(id), expires)
      // Kept a month past expiry: a call to X can be told its binding expired.
      .set(`${this.prefix}:masking:last:${x}`, `${id} ${expires}`, 'PXAT', expires + 30 * 86_400_000);
    if (req.caseId)
      multi
        .sadd(`${this.prefix}:masking:case:${req.caseId}`, id)
        .pexpireat(`${this.prefix}:masking:case:${req.caseId}`, expires + 30 * 86_400_000);
    await multi.exec();
    await this.audit('bind', who, binding, { expiresAt: binding.expiresAt });
    return binding;
  }

  async get(id: string): Promise<Binding | undefined> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.id) return undefined;
    return {
      ...(h as unknown as Binding),
      record: h.record === 'true',
      maxCalls: Number(h.maxCalls),
      calls: Number(h.calls ?? 0),
    };
  }

  private async live(id: string): Promise<Binding> {
    const b = await this.get(id);
    if (!b)
      throw new RexianError(
        'REXIAN_NOT_FOUND',
        { binding: id },
        `no live binding ${id} (never made, unbound, or expired)`,
      );
    return b;
  }

  async extend(id: string, ttlHours: number, who: string, now = Date.now()): Promise<Binding> {
    const b = await this.live(id);
    const expires = now + Math.round(ttlHours * 3_600_000);
    await this.redis
      .multi()
      .hset(this.key(id), 'expiresAt', new Date(expires).toISOString())
      .pexpireat(this.key(id), expires)
      .pexpireat(this.xKey(b.x), expires)
      .set(`${this.prefix}:masking:last:${b.x}`, `${id} ${expires}`, 'PXAT', expires + 30 * 86_400_000)
      .exec();
    await this.audit('extend', who, b, { expiresAt: new Date(expires).toISOString() });
    return { ...b, expiresAt: new Date(expires).toISOString() };
  }

  async unbind(id: string, who: string): Promise<void> {
    const b = await this.live(id);
    // X is freed only if it is still this binding's.
    await this.redis.eval(
      `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end redis.call('DEL', KEYS[2]) return 1`,
      2,
      this.xKey(b.x),
      this.key(id),
      id,
    );
    await this.audit('unbind', who, b);
  }

  async byCase(caseId: string): Promise<Binding[]> {
    const ids = await this.redis.smembers(`${this.prefix}:masking:case:${caseId}`);
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((b): b is Binding => b !== undefined);
  }

  /** Who a call to X from `caller` goes to, or why it goes nowhere. */
  async route(
    x: string,
    caller: string,
    now = Date.now(),
  ): Promise<{ binding: Binding; to: string } | { refused: 'not-bound' | 'expired' | 'not-a-party' | 'call-limit' }> {
    const id = await this.redis.get(this.xKey(x));
    const binding = id ? await this.get(id) : undefined;
    if (!binding) {
      const last = await this.redis.get(`${this.prefix}:masking:last:${x}`);
      return { refused: last && Number(last.split(' ')[1]) <= now ? 'expired' : 'not-bound' };
    }
    const from = caller.replace(/^\+86/, '');
    const to = from === binding.a ? binding.b : from === binding.b ? binding.a : undefined;
    if (!to) return { refused: 'not-a-party' };
    if (binding.calls >= binding.maxCalls) return { refused: 'call-limit' };
    await this.redis.hincrby(this.key(binding.id), 'calls', 1);
    return { binding, to };
  }
}
