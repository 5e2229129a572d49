// Reports over the call records: a day, a day by hour, or a range of days; JSON or CSV.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';

import { type Authenticator, requireRole } from '../api/auth.js';
import { buildReport, type GroupBy, type Report, reportCsv } from './report.js';
import type { StaffingReport } from './staffing.js';

const security = [{ bearer: [] }];
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (Asia/Shanghai)' } as const;
const by = { type: 'string', enum: ['line', 'queue', 'agent', 'hour', 'day'], default: 'queue' } as const;
const DAY = { from: 'date', to: 'date' };
const format = { type: 'string', enum: ['json', 'csv'], default: 'json' } as const;

export function registerReportRoutes(
  app: FastifyInstance,
  pool: pg.Pool,
  authn: Authenticator,
  staffing: (queue: string, date: string) => Promise<StaffingReport>,
): void {
  const readers = requireRole(authn, 'supervisor', 'ops');
  const send = (reply: FastifyReply, report: Report, as: 'json' | 'csv'): unknown => {
    if (as === 'json') return report;
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="rexian-${report.by}-${report.from}${report.to === report.from ? '' : `-${report.to}`}.csv"`,
      )
      .send(reportCsv(report));
  };

  app.get<{ Querystring: { date: string; by: GroupBy; format: 'json' | 'csv' } }>(
    '/api/reports/daily',
    {
      onRequest: readers,
      schema: {
        tags: ['reports'],
        summary:
          'One day: offered, answered, answer rate, within 10 s and 15 s, waits, talk, abandons, outbound, satisfaction',
        security,
        querystring: {
          type: 'object',
          required: ['date'],
          additionalProperties: false,
          properties: { date, by, format },
        },
      },
    },
    async (req, reply) =>
      send(reply, await buildReport(pool, req.query.date, req.query.date, req.query.by, DAY), req.query.format),
  );

  app.get<{ Querystring: { date: string; format: 'json' | 'csv' } }>(
    '/api/reports/hourly',
    {
      onRequest: readers,
      schema: {
        tags: ['reports'],
        summary: 'One day, hour by hour',
        security,
        querystring: { type: 'object', required: ['date'], additionalProperties: false, properties: { date, format } },
      },
    },
    async (req, reply) =>
      send(reply, await buildReport(pool, req.query.date, req.query.date, 'hour', DAY), req.query.format),
  );

  app.get<{ Querystring: { date: string; queue: string } }>(
    '/api/reports/staffing',
    {
      onRequest: readers,
      schema: {
        tags: ['reports'],
        summary:
          'Half hour by half hour: calls, service level, the agents Erlang C says the target needed, and the agents logged in',
        security,
        querystring: {
          type: 'object',
          required: ['date', 'queue'],
          additionalProperties: false,
          properties: { date, queue: { type: 'string', pattern: '^[a-z0-9-]+$' } },
        },
      },
    },
    async (req) => staffing(req.query.queue, req.query.date),
  );

  app.get<{ Querystring: { from: string; to: string; by: GroupBy; format: 'json' | 'csv' } }>(
    '/api/reports/range',
    {
      onRequest: readers,
      schema: {
        tags: ['reports'],
        summary: 'A range of days (up to a year), by line, queue, agent, hour or day',
        security,
        querystring: {
          type: 'object',
          required: ['from', 'to'],
          additionalProperties: false,
          properties: { from: date, to: date, by, format },
        },
      },
    },
    async (req, reply) =>
      send(reply, await buildReport(pool, req.query.from, req.query.to, req.query.by), req.query.format),
  );
}
