// Report figures against values worked out by hand from a fixed set of records, on a real
// PostgreSQL (days in Asia/Shanghai: 16:30 UTC is already the next day there).
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';
import t from 'tap';

import { staffingKey } from '../../src/acd/figures.js';
import { parseQueueConfig } from '../../src/acd/queue-config.js';
import { repoRoot } from '../../src/asterisk/instance.js';
import type { CallRecord } from '../../src/records/call-record.js';
import { migrate } from '../../src/records/migrate.js';
import { insertRecords } from '../../src/records/record-rows.js';
import { buildReport, reportCsv } from '../../src/reports/report.js';
import { buildStaffing } from '../../src/reports/staffing.js';
import { dropDatabase, recreateDatabase } from '../helpers/lab.js';

const DB = 'rexian_test_reports';
let pool: pg.Pool;

let seq = 0;
function rec(p: Partial<CallRecord> & { at: string }): CallRecord {
  const { at, ...rest } = p;
  return {
    callId: `r${++seq}`,
    direction: 'inbound',
    did: '12345',
    line: '12345 政务服务便民热线',
    caller: '13800000000',
    callerMasked: false,
    startedAt: at,
    endedAt: at,
    endReason: 'hangup',
    flowId: 'main-12345',
    flowVersion: 'v1',
    ivrPath: [],
    digits: {},
    queue: 'general',
    originQueue: 'general',
    enteredQueueAt: at,
    waitMs: null,
    answered: false,
    answeredAt: null,
    abandoned: false,
    shortAbandon: false,
    agentId: null,
    agents: [],
    talkMs: null,
    holdMs: null,
    transfers: 0,
    windowId: null,
    emergency: null,
    survey: null,
    recordings: [],
    maskingBinding: null,
    hangupSide: 'citizen',
    legs: [],
    events: [],
    ...rest,
  };
}

const day = '2026-11-20T03:00:00.000Z'; // 11:00 in Shanghai
t.before(async () => {
  await recreateDatabase(DB);
  pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${DB}` });
  await migrate(pool, join(repoRoot, 'migrations'));
  await insertRecords(pool, [
    rec({
      at: day,
      answered: true,
      waitMs: 5000,
      talkMs: 100_000,
      holdMs: 10_000,
      survey: 'satisfied',
      agentId: '1001',
    }),
    rec({
      at: day,
      answered: true,
      waitMs: 12_000,
      talkMs: 200_000,
      holdMs: 0,
      survey: 'dissatisfied',
      agentId: '1001',
    }),
    rec({
      at: day,
      answered: true,
      waitMs: 20_000,
      talkMs: 50_000,
      survey: 'basically-satisfied',
      agentId: '1002',
      queue: 'yihaoda',
      originQueue: 'yihaoda',
    }),
    rec({ at: day, abandoned: true, waitMs: 30_000 }),
    rec({ at: day, abandoned: true, shortAbandon: true, waitMs: 2000 }),
    rec({
      at: day,
      did: '12315',
      line: '12315 市场监管投诉举报',
      queue: null,
      originQueue: null,
      enteredQueueAt: null,
    }),
    rec({ at: day, direction: 'outbound', answered: true, talkMs: 60_000, agentId: '1001' }),
    rec({ at: day, direction: 'outbound' }),
    rec({ at: '2026-11-20T16:30:00.000Z', answered: true, waitMs: 3000, talkMs: 30_000, agentId: '1002' }), // 00:30 on the 21st
  ]);
});

t.teardown(async () => {
  await pool?.end();
  await dropDatabase(DB);
});

t.test("a day's totals, worked out by hand", async (t) => {
  const report = await buildReport(pool, '2026-11-20', '2026-11-20', 'queue');
  t.match(report.total, {
    inbound: 6,
    offered: 5,
    answered: 3,
    answerRate: 0.6,
    answeredWithin10s: 1,
    answeredWithin15s: 2,
    serviceLevel10s: 0.25,
    serviceLevel15s: 0.5, // within ÷ (3 answered + 2 abandoned − 1 short)
    averageWaitSeconds: 12.3,
    averageTalkSeconds: 116.7,
    longestTalkSeconds: 200,
    abandoned: 2,
    shortAbandons: 1,
    outbound: 2,
    outboundAnswered: 1,
    outboundAverageTalkSeconds: 60,
    outboundLongestTalkSeconds: 60,
    surveyAnswers: 3,
    satisfactionRate: 0.6667,
    averageHandleTimeSeconds: 120,
  });
  t.match(
    report.formulas.serviceLevel,
    /answered within T seconds ÷ \(answered \+ abandoned − short abandons\)/,
    'the formula is stated',
  );
  t.match(
    report.rows.find((r) => r.key === 'yihaoda'),
    { offered: 1, answered: 1, answeredWithin15s: 0, serviceLevel15s: 0 },
  );
  t.match(
    report.rows.find((r) => r.key === 'general'),
    { offered: 4, answered: 2, abandoned: 2, outbound: 2 },
  );
});

t.test('by line, by agent, by hour; the Shanghai day boundary; a range', async (t) => {
  const lines = await buildReport(pool, '2026-11-20', '2026-11-20', 'line');
  t.same(
    lines.rows.map((r) => [r.key, r.inbound]),
    [
      ['12315 市场监管投诉举报', 1],
      ['12345 政务服务便民热线', 5],
    ],
  );
  const agents = await buildReport(pool, '2026-11-20', '2026-11-20', 'agent');
  t.match(
    agents.rows.find((r) => r.key === '1001'),
    { answered: 2, outbound: 1, averageTalkSeconds: 150 },
  );
  const hours = await buildReport(pool, '2026-11-20', '2026-11-20', 'hour');
  t.same(
    hours.rows.map((r) => r.key),
    ['11'],
    "all of the day's calls at 11:00 Shanghai time",
  );
  const next = await buildReport(pool, '2026-11-21', '2026-11-21', 'queue');
  t.equal(next.total.answered, 1, '16:30 UTC belongs to the next Shanghai day');
  const range = await buildReport(pool, '2026-11-20', '2026-11-21', 'day');
  t.same(
    range.rows.map((r) => [r.key, r.answered]),
    [
      ['2026-11-20', 3],
      ['2026-11-21', 1],
    ],
  );
});

t.test('a replayed record counts once, in the calls and in the daily roll-up', async (t) => {
  const other = '2026-11-25T03:00:00.000Z';
  t.same((await buildReport(pool, '2026-11-25', '2026-11-25', 'queue')).rows, [], 'an empty day');
  const again = rec({ at: other, answered: true, waitMs: 5000, talkMs: 100_000 });
  t.equal(await insertRecords(pool, [again, rec({ at: other, abandoned: true, waitMs: 9000 })]), 2, 'written');
  t.equal(await insertRecords(pool, [again]), 0, 'the replay writes nothing');
  const after = await buildReport(pool, '2026-11-25', '2026-11-25', 'queue');
  t.match(after.total, { offered: 2, answered: 1, abandoned: 1 }, 'one answered call, not two');
  const hours = await buildReport(pool, '2026-11-25', '2026-11-25', 'hour');
  t.match(hours.total, { offered: 2, answered: 1, abandoned: 1 }, 'the roll-up agrees with the calls themselves');
});

t.test('CSV for spreadsheets, and bad dates named', async (t) => {
  const csv = reportCsv(await buildReport(pool, '2026-11-20', '2026-11-20', 'queue'));
  t.ok(csv.startsWith('\uFEFF'), 'with a BOM');
  t.match(csv, /^queue,inbound,offered,answered,answerRate/m);
  t.match(csv, /^total,6,5,3,0\.6,1,2,0\.25,0\.5,/m);
  t.match(csv, /# serviceLevel = answered within T seconds/);
  await t.rejects(buildReport(pool, '2026-02-30', '2026-02-30', 'queue'), /from "2026-02-30" is not a calendar date/);
  await t.rejects(buildReport(pool, '2026-11-21', '2026-11-20', 'queue'), /"to" \(2026-11-20\) is before "from"/);
  await t.rejects(buildReport(pool, '2025-01-01', '2026-11-20', 'queue'), /at most 366 days/);
});

t.test("staffing by half hour: calls, service level, Erlang C's agents needed next to those logged in", async (t) => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `rexian-test:reports:${Date.now()}`;
  t.teardown(async () => {
    await redis.del(staffingKey(prefix, 'general', '2026-11-20'));
    redis.disconnect();
  });
  await redis.hset(staffingKey(prefix, 'general', '2026-11-20'), { '22:sum': 9, '22:n': 3 });
  const general = parseQueueConfig(join(repoRoot, 'sip-config/queues.yaml')).queues.get('general')!;
  const report = await buildStaffing(pool, redis, prefix, general, '2026-11-20');
  t.equal(report.rows.length, 48, 'every half hour of the day');
  t.match(report.target, { seconds: 10, percent: 90 });
  // 11:00–11:30 Shanghai: 4 offered to general (2 answered in 5 s and 12 s, 2 abandoned, 1 of them short).
  // Handle time (100+10 + 200) ÷ 2 = 155 s + the queue's 15 s wrap-up = 170 s; 8 calls an hour is 0.378 Erlang:
  // 1 agent gives 64% in 10 s, 2 give 95%.
  t.same(report.rows[22], {
    from: '11:00',
    offered: 4,
    answered: 2,
    abandoned: 2,
    answeredWithinTarget: 1,
    serviceLevelPercent: 33.3,
    arrivalRatePerHour: 8,
    handleTimeSeconds: 170,
    agentsNeeded: 2,
    loggedInAverage: 3,
  });
  t.match(report.rows[0], {
    from: '00:00',
    offered: 0,
    agentsNeeded: 0,
    loggedInAverage: null,
    serviceLevelPercent: null,
  });
});
