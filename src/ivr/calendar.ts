// The working calendar of a hotline in Asia/Shanghai: public holidays, the adjusted working
// weekends that come with them (调休), and opening-hour schedules. China keeps UTC+8 all
// year (no daylight saving), so local time is UTC plus eight hours, exactly.
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { RexianError } from '../errors/index.js';

const OFFSET_MS = 8 * 3600_000;

export interface Schedule {
  /** working: Monday–Friday and adjusted workdays, minus holidays. all: every day. */
  days: 'working' | 'all';
  /** "HH:MM-HH:MM" ranges, end exclusive; an end at or before the start runs past midnight. */
  open: string[];
}

export interface CalendarData {
  timezone: 'Asia/Shanghai';
  holidays: Array<{ name: string; from: string; to?: string }>;
  workdays: string[];
  schedules: Record<string, Schedule>;
}

export interface LocalTime {
  date: string; // YYYY-MM-DD
  minutes: number; // since local midnight
  weekday: number; // 0 Sunday … 6 Saturday
}

export function localTime(at: Date): LocalTime {
  const local = new Date(at.getTime() + OFFSET_MS);
  return {
    date: local.toISOString().slice(0, 10),
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
    weekday: local.getUTCDay(),
  };
}

export class Calendar {
  private readonly holidays = new Map<string, string>();
  private readonly workdays: Set<string>;
  private readonly ranges = new Map<string, Array<[number, number]>>();

  constructor(
    readonly data: CalendarData,
    source = 'calendar',
  ) {
    if (data.timezone !== 'Asia/Shanghai') {
      throw new RexianError(
        'REXIAN_CALENDAR_INVALID',
        {},
        `${source}: timezone must be Asia/Shanghai (got ${String(data.timezone)})`,
      );
    }
    for (const h of data.holidays ?? []) {
      for (const day of daysBetween(h.from, h.to ?? h.from, source)) this.holidays.set(day, h.name);
    }
    this.workdays = new Set((data.workdays ?? []).map((d) => checkDate(d, source)));
    for (const [name, schedule] of Object.entries(data.schedules ?? {})) {
      if (schedule.days !== 'working' && schedule.days !== 'all') {
        throw new RexianError(
          'REXIAN_CALENDAR_INVALID',
          {},
          `${source}: schedule "${name}" days must be working or all`,
        );
      }
      this.ranges.set(
        name,
        (schedule.open ?? []).map((r) => parseRange(r, `${source}: schedule "${name}"`)),
      );
    }
  }

  get scheduleNames(): string[] {
    return [...this.ranges.keys()];
  }

  /** The holiday's name, when the day is a public holiday. */
  holiday(at: Date): string | undefined {
    return this.holidays.get(localTime(at).date);
  }

  isWorkingDay(at: Date): boolean {
    const { date, weekday } = localTime(at);
    if (this.holidays.has(date)) return false;
    if (this.workdays.has(date)) return true; // 调休: a Saturday or Sunday worked instead
    return weekday >= 1 && weekday <= 5;
  }

  isOpen(schedule: string, at: Date): boolean {
    const ranges = this.ranges.get(schedule);
    if (!ranges)
      throw new RexianError('REXIAN_FLOW_UNKNOWN_SCHEDULE', { schedule }, `no schedule "${schedule}" in the calendar`);
    const days = this.data.schedules[schedule]!.days;
    if (days === 'working' && !this.isWorkingDay(at)) return false;
    const { minutes } = localTime(at);
    return ranges.some(([from, to]) => (from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to));
  }
}

export function loadCalendar(file: string): Calendar {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RexianError('REXIAN_CALENDAR_INVALID', { file }, `${file}: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null)
    throw new RexianError('REXIAN_CALENDAR_INVALID', { file }, `${file}: expected a mapping`);
  return new Calendar(data as CalendarData, file);
}

function checkDate(value: unknown, source: string): string {
  const s = value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
  const parsed = Date.parse(`${s}T00:00:00Z`);
  // Round-trip: V8 happily reads 2026-02-30 as 2 March.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== s) {
    throw new RexianError('REXIAN_CALENDAR_INVALID', {}, `${source}: "${s}" is not a date (YYYY-MM-DD)`);
  }
  return s;
}

function daysBetween(from: unknown, to: unknown, source: string): string[] {
  const start = Date.parse(`${checkDate(from, source)}T00:00:00Z`);
  const end = Date.parse(`${checkDate(to, source)}T00:00:00Z`);
  if (end < start)
    throw new RexianError(
      'REXIAN_CALENDAR_INVALID',
      {},
      `${source}: holiday ends (${String(to)}) before it starts (${String(from)})`,
    );
  const days: string[] = [];
  for (let t = start; t <= end; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function parseRange(range: string, where: string): [number, number] {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(range);
  const toMinutes = (h: string, mm: string): number => Number(h) * 60 + Number(mm);
  if (!m || Number(m[1]) > 24 || Number(m[3]) > 24 || Number(m[2]) > 59 || Number(m[4]) > 59) {
    throw new RexianError('REXIAN_CALENDAR_INVALID', {}, `${where}: "${range}" is not a range like 08:30-17:30`);
  }
  return [toMinutes(m[1]!, m[2]!), toMinutes(m[3]!, m[4]!)];
}
