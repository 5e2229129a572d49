import t from 'tap';

import { isRexianError } from '../../src/errors/index.js';
import { Calendar, localTime } from '../../src/ivr/calendar.js';
import { testCalendar as cal } from '../helpers/flows.js';

const at = (iso: string) => new Date(iso);

t.test('local time is UTC+8 all year', async (t) => {
  t.same(localTime(at('2026-11-22T16:00:00Z')), { date: '2026-11-23', minutes: 0, weekday: 1 });
  t.same(localTime(at('2026-11-22T15:59:59Z')), { date: '2026-11-22', minutes: 23 * 60 + 59, weekday: 0 });
});

t.test('public holidays are not working days, by their name', async (t) => {
  t.equal(cal.holiday(at('2026-10-01T09:00:00+08:00')), '国庆节');
  t.equal(cal.isWorkingDay(at('2026-10-07T09:00:00+08:00')), false, 'the last day of the holiday');
  t.equal(cal.isWorkingDay(at('2026-10-08T09:00:00+08:00')), true, 'the day after');
  t.equal(cal.holiday(at('2026-09-30T23:59:00+08:00')), undefined, 'the evening before');
  t.equal(cal.holiday(at('2026-09-30T16:00:00Z')), '国庆节', 'midnight local is already the holiday (16:00 UTC)');
});

t.test('an adjusted working Saturday (调休) is a working day; an ordinary one is not', async (t) => {
  t.equal(cal.isWorkingDay(at('2026-10-10T09:00:00+08:00')), true);
  t.equal(cal.isOpen('office', at('2026-10-10T09:00:00+08:00')), true);
  t.equal(cal.isWorkingDay(at('2026-10-17T09:00:00+08:00')), false);
});

t.test('office hours: start inclusive, end exclusive, lunch closed', async (t) => {
  t.equal(cal.isOpen('office', at('2026-11-23T08:29:59+08:00')), false);
  t.equal(cal.isOpen('office', at('2026-11-23T08:30:00+08:00')), true);
  t.equal(cal.isOpen('office', at('2026-11-23T12:00:00+08:00')), false);
  t.equal(cal.isOpen('office', at('2026-11-23T17:29:00+08:00')), true);
  t.equal(cal.isOpen('office', at('2026-11-23T17:30:00+08:00')), false);
});

t.test('a range past midnight covers both sides of it', async (t) => {
  t.equal(cal.isOpen('night', at('2026-11-23T23:30:00+08:00')), true);
  t.equal(cal.isOpen('night', at('2026-11-23T00:00:00+08:00')), true);
  t.equal(cal.isOpen('night', at('2026-11-23T05:59:00+08:00')), true);
  t.equal(cal.isOpen('night', at('2026-11-23T06:00:00+08:00')), false);
  t.equal(cal.isOpen('night', at('2026-10-01T23:00:00+08:00')), true, 'days: all includes holidays');
});

t.test('bad calendars are refused with the reason', async (t) => {
  const refuse = (data: unknown, pattern: RegExp) => {
    try {
      new Calendar(data as never, 'cal.yaml');
      t.fail('accepted');
    } catch (err) {
      t.ok(isRexianError(err, 'REXIAN_CALENDAR_INVALID'));
      t.match((err as Error).message, pattern);
    }
  };
  refuse({ timezone: 'UTC', holidays: [], workdays: [], schedules: {} }, /timezone must be Asia\/Shanghai/);
  refuse(
    { timezone: 'Asia/Shanghai', holidays: [{ name: 'x', from: '2026-02-30' }], workdays: [], schedules: {} },
    /"2026-02-30" is not a date|not a date/,
  );
  refuse(
    {
      timezone: 'Asia/Shanghai',
      holidays: [{ name: 'x', from: '2026-05-05', to: '2026-05-01' }],
      workdays: [],
      schedules: {},
    },
    /ends .* before it starts/,
  );
  refuse(
    {
      timezone: 'Asia/Shanghai',
      holidays: [],
      workdays: [],
      schedules: { s: { days: 'working', open: ['8:30-17:00'] } },
    },
    /not a range like 08:30-17:30/,
  );
});
