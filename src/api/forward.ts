// Several controllers share one platform (a province's cities, each city's switch with its
// own controller). An agent's desktop may talk to any of them, but only the controller whose
// ARI app holds a call can act on its channels: a request for a call held elsewhere is
// passed to that controller, with the caller's own token, and its answer passed back.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { Router } from '../acd/router.js';
import type { CallService } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import type { Redis } from '../store/redis.js';

const FORWARDED = 'x-rexian-forwarded';

/** Whether another controller passed this request on: it is served here, never forwarded again. */
export function wasForwarded(req: FastifyRequest): boolean {
  return Boolean(req.headers[FORWARDED]);
}

export class CallForwarder {
  constructor(private readonly deps: { calls: CallService; router: Router; redis: Redis; prefix: string }) {}

  /** Forwards a request about the call an agent is on, if another controller holds it. */
  async forAgent(req: FastifyRequest, reply: FastifyReply, agentId: string): Promise<boolean> {
    const agent = await this.deps.router.agent(agentId);
    if (agent.state !== 'on-call' || !agent.call) return false;
    return this.forCall(req, reply, agent.call);
  }

  /** True when the request was answered by the controller that holds the call. */
  async forCall(req: FastifyRequest, reply: FastifyReply, callId: string): Promise<boolean> {
    const { calls } = this.deps;
    // A forwarded request is never forwarded again: two controllers cannot bounce it.
    if (calls.get(callId) || wasForwarded(req)) return false;
    const state = await calls.store.load(callId);
    if (!state?.owner || state.owner === calls.controllerId) return false;
    await this.forwardTo(req, reply, state.owner, `call ${callId}`);
    return true;
  }

  /** Passes the request to another controller (it holds the call, or the recording's file). */
  async forwardTo(req: FastifyRequest, reply: FastifyReply, controller: string, what: string): Promise<void> {
    const { calls } = this.deps;
    const url = await this.deps.redis.get(`${this.deps.prefix}:controller-url:${controller}`);
    if (!url) {
      throw new RexianError(
        'REXIAN_CONTROLLER_UNAVAILABLE',
        { what, controller },
        `${what} is held by controller ${controller}, which is not answering`,
      );
    }
    const hasBody = req.body !== undefined && req.body !== null;
    let res: Response;
    try {
      res = await fetch(`${url}${req.url}`, {
        method: req.method,
        headers: {
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          // A person signed in by the page's cookie is the same person on the other controller.
          ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          [FORWARDED]: calls.controllerId,
        },
        body: hasBody ? JSON.stringify(req.body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new RexianError(
        'REXIAN_CONTROLLER_UNAVAILABLE',
        { what, controller },
        `${what} is held by controller ${controller} at ${url}, which did not answer: ${(err as Error).message}`,
      );
    }
    req.log.info(
      { event: LogEvent.requestForwarded, what, controller, url, status: res.status, path: req.url },
      'request forwarded to the controller that holds it',
    );
    const headers: Record<string, string> = { 'content-type': res.headers.get('content-type') ?? 'application/json' };
    const disposition = res.headers.get('content-disposition');
    if (disposition) headers['content-disposition'] = disposition;
    await reply
      .code(res.status)
      .headers(headers)
      .send(Buffer.from(await res.arrayBuffer()));
  }
}
