// `npm run bench:masking`: 10,000 live bindings in Redis, then the cost of the routing
// lookup a call to X makes (which binding, which party), measured over 20,000 calls, and of
// binding itself (finding a free X in a pool of 10,000). The last line is JSON.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { BindingStore } from '../src/masking/bindings.js';
import { deleteKeys } from '../test/helpers/lab.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const BINDINGS = Number(args.get('bindings') ?? 10_000);
const CALLS = Number(args.get('calls') ?? 20_000);

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `rexian-bench:masking:${randomBytes(4).toString('hex')}`;
  const pool = Array.from({ length: BINDINGS }, (_, i) => `0236${String(7_000_000 + i).padStart(7, '0')}`);
  const store = new BindingStore(redis, prefix, () => pool, { ttlHours: 72, maxCalls: 1_000_000 });
  try {
    const bindTimes: number[] = [];
    const made: Array<{ x: string; a: string; b: string }> = [];
    for (let i = 0; i < BINDINGS; i++) {
      const t0 = performance.now();
      const b = await store.bind(
        { a: `023${String(80_000_000 + i)}`, b: `138${String(10_000_000 + i).padStart(8, '0')}` },
        'bench',
      );
      bindTimes.push(performance.now() - t0);
      made.push(b);
    }
    bindTimes.sort((a, b) => a - b);
    const lookups: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const b = made[Math.floor(Math.random() * made.length)]!;
      const t0 = performance.now();
      const r = await store.route(b.x, i % 2 ? b.a : b.b);
      lookups.push(performance.now() - t0);
      if (!('to' in r)) throw new Error(`lookup of ${b.x} failed: ${JSON.stringify(r)}`);
    }
    lookups.sort((a, b) => a - b);
    const f = (x: number): string => x.toFixed(3);
    console.log(`${BINDINGS.toLocaleString()} live bindings`);
    console.log(
      `bind (free X from a pool of ${pool.length.toLocaleString()}): p50 ${f(pct(bindTimes, 50))} ms, p99 ${f(pct(bindTimes, 99))} ms, last ${f(bindTimes.at(-1)!)} ms`,
    );
    console.log(
      `route a call to X (${CALLS.toLocaleString()} calls): p50 ${f(pct(lookups, 50))} ms, p99 ${f(pct(lookups, 99))} ms, max ${f(lookups.at(-1)!)} ms`,
    );
    console.log(
      JSON.stringify({
        bindings: BINDINGS,
        bindP50Ms: pct(bindTimes, 50),
        bindP99Ms: pct(bindTimes, 99),
        routeP50Ms: pct(lookups, 50),
        routeP99Ms: pct(lookups, 99),
      }),
    );
  } finally {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
