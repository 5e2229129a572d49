// Callback tasks through the API: a return visit after a case is closed (回访), and the
// list of recent tasks with their attempts' outcome.
import type { FastifyInstance } from 'fastify';

import { type Authenticator, requireRole } from '../api/auth.js';
import { checkDestination } from '../calls/dial-string.js';
import { maskNumber } from '../calls/privacy.js';
import type { DialerTasks } from './tasks.js';

const security = [{ bearer: [] }];

export function registerDialerRoutes(app: FastifyInstance, tasks: DialerTasks, authn: Authenticator): void {
  const staff = requireRole(authn, 'supervisor', 'ops');
  app.post<{ Body: { number: string; caseId?: string; reason?: string; bindingId?: string } }>(
    '/api/callbacks',
    {
      onRequest: staff,
      schema: {
        tags: ['callbacks'],
        summary: 'Ask the dialer to call a citizen back (a return visit): placed within hours, at the set pace',
        security,
        body: {
          type: 'object',
          required: ['number'],
          additionalProperties: false,
          properties: {
            number: {
              type: 'string',
              maxLength: 32,
              description: "the citizen's number (checked by the dial-string rules)",
            },
            caseId: { type: 'string', maxLength: 64, description: "the ticket system's case id" },
            reason: { type: 'string', enum: ['return-visit'], default: 'return-visit' },
            bindingId: {
              type: 'string',
              pattern: '^bd-[0-9a-f]{12}$',
              description: "a masked case: present this binding's virtual number, not 12345",
            },
          },
        },
      },
    },
    async (req, reply) => {
      const number = checkDestination('external', req.body.number, 'number').number;
      const task = await tasks.add({
        number,
        reason: req.body.reason ?? 'return-visit',
        caseId: req.body.caseId,
        bindingId: req.body.bindingId,
      });
      req.log.info(
        { task: task.id, caseId: task.caseId, by: req.principal!.name },
        'callback task added through the API',
      );
      return reply.code(201).send(task);
    },
  );
  app.get<{ Querystring: { limit?: number } }>(
    '/api/callbacks',
    {
      onRequest: staff,
      schema: {
        tags: ['callbacks'],
        summary: 'Recent callback tasks, newest first, with attempts and disposition',
        security,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
      },
    },
    async (req) => ({
      // Masked: many tasks come from masked calls (a masked queue's abandon, an AXB case), and
      // nobody reading the list needs the number: the dialer dials it from the task.
      tasks: (await tasks.recent(req.query.limit ?? 100)).map((task) => ({ ...task, number: maskNumber(task.number) })),
    }),
  );
}
