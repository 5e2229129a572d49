// Pure parts of the records pipeline: repairing what PostgreSQL cannot store, telling a
// record's own fault from the system's, and reading what Asterisk kept about a call's end.
import t from 'tap';

import type { CallRecordState } from '../../src/calls/call.js';
import { hangupSide, parseEndFacts, parseFallbackFacts } from '../../src/records/asterisk-facts.js';
import type { CallRecord } from '../../src/records/call-record.js';
import { fallbackRecord, recordAtEnd } from '../../src/records/fallback.js';
import { isDataError, isMissingGroup } from '../../src/records/outbox.js';
import { sanitizeRecord } from '../../src/records/sanitize.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.test(
  'NUL and lone surrogates are repaired in strings, arrays and JSON keys; everything else is left alone',
  async (t) => {
    const { value, repaired } = sanitizeRecord({
      a: 'x\u0000y',
      list: ['ok', '\uDC00'],
      nested: { ['k\u0000']: 1, pair: '😀' },
      n: 3,
      nil: null,
    });
    t.same(value, { a: 'xy', list: ['ok', '\uFFFD'], nested: { k: 1, pair: '😀' }, n: 3, nil: null });
    t.same(repaired.sort(), ['a', 'list[1]', 'nested.k (key)'].sort());
    t.same(sanitizeRecord({ clean: 'text' }).repaired, [], 'a clean record is not reported');
  },
);

t.test("only SQLSTATE classes 22 and 23 are the record's fault", async (t) => {
  t.ok(isDataError({ code: '22003' }), 'numeric value out of range');
  t.ok(isDataError({ code: '22P05' }), 'unsupported Unicode escape');
  t.ok(isDataError({ code: '23502' }), 'not null violation');
  t.notOk(isDataError({ code: '08006' }), 'connection failure');
  t.notOk(isDataError({ code: '57P01' }), 'admin shutdown');
  t.notOk(isDataError({ code: '42703' }), 'undefined column: a schema not migrated, not the record');
  t.notOk(isDataError(new Error('connect ECONNREFUSED')), 'a socket error has no SQLSTATE');
  t.ok(isMissingGroup(new Error("NOGROUP No such key 'x' or consumer group 'writers'")));
  t.ok(isMissingGroup(new Error('ERR no such key')));
  t.notOk(isMissingGroup(new Error('Connection is closed.')));
});

t.test('who hung up, from the hangup source', async (t) => {
  t.equal(hangupSide('PJSIP/pstn-00000001', 'PJSIP/pstn-00000001'), 'citizen');
  t.equal(hangupSide('PJSIP/agent-1001-00000002', 'PJSIP/pstn-00000001'), 'agent');
  t.equal(hangupSide('', 'PJSIP/pstn-00000001'), 'system');
});

t.test('end facts and fallback facts are read back from their AstDB form; a broken one is refused', async (t) => {
  const end = parseEndFacts(`1|1764585600.250|16|${b64('PJSIP/pstn-1')}|${b64('PJSIP/pstn-1')}`);
  t.same(end, { endedAt: new Date(1764585600250), cause: 16, side: 'citizen', source: 'PJSIP/pstn-1' });
  t.equal(parseEndFacts('2|1|16||'), undefined, 'an unknown version');
  t.equal(parseEndFacts('1||16||'), undefined, 'no end time');
  const fb = parseFallbackFacts(
    '1764585500.7',
    `1|1764585600.000|16|${b64('PJSIP/agent-1001-3')}|${b64('PJSIP/pstn-1')}|12345|${b64('13700137000')}|1764585500.000|1764585508.000|1764585510.500|agent-1001`,
  );
  t.match(fb, { callId: '1764585500.7', did: '12345', caller: '13700137000', side: 'agent', agentId: '1001' });
  const record = fallbackRecord(fb!, 5_000);
  t.match(record, {
    servedBy: 'fallback',
    queue: 'rexian-fallback',
    answered: true,
    waitMs: 2_500,
    talkMs: 89_500,
    hangupSide: 'agent',
    abandoned: false,
    startedAt: new Date(1764585500000).toISOString(),
    endedAt: new Date(1764585600000).toISOString(),
  });
  const gaveUp = fallbackRecord(
    parseFallbackFacts(
      'x',
      `1|1764585503.000|16|${b64('PJSIP/pstn-1')}|${b64('PJSIP/pstn-1')}|12345|${b64('139')}|1764585500.000|1764585501.000||`,
    )!,
    5_000,
    true,
  );
  t.match(gaveUp, {
    answered: false,
    abandoned: true,
    shortAbandon: true,
    waitMs: 2_000,
    talkMs: null,
    agentId: null,
    caller: '*39',
    callerMasked: true,
  });
});

t.test("a call closed out with Asterisk's facts ends when Asterisk says; without, now", async (t) => {
  const state: CallRecordState = {
    callId: 'c1',
    channelId: 'c1',
    did: '12345',
    caller: '1',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    asteriskStartup: '',
    flow: {},
  };
  const build = (_s: CallRecordState, endedAt: Date, reason: string) =>
    ({ endedAt: endedAt.toISOString(), endReason: reason }) as unknown as CallRecord;
  const end = new Date(Date.now() - 9_500).toISOString();
  t.equal(
    recordAtEnd(
      { ...state, flow: { asteriskEnd: { endedAt: end, cause: 16, side: 'citizen' } } },
      'ended-while-away',
      build,
    ).endedAt,
    end,
  );
  const noticed = Date.parse(recordAtEnd(state, 'ended-while-away', build).endedAt);
  t.ok(Date.now() - noticed < 1_000, 'no facts: the time we noticed');
});
