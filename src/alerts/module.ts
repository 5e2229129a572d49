// Service-level alerts (README "Service-level alerts"): the domain's one way in. Builds the
// rules (refused at start with file:line:col; on SIGHUP a broken edit keeps the last good rules,
// logged), registers the routes, and runs with the app: from its onReady to its onClose.
//
// Every second it reads the controller's live figures (the same as the stream's queue.figures:
// each queue's figures and the agents), the ARI and AMI links and the records outbox's length,
// never PostgreSQL; evaluate.ts decides what fires and clears; store.ts makes each alert fire
// once however many controllers share the Redis; feed.ts tells every alert on this controller's
// stream; webhook.ts delivers it, signed, from the controller that fired it. A second whose
// figures cannot be read (Redis down) is skipped, logged once, and nothing clears because of it.
import { randomBytes } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import type { Authenticator } from '../api/auth.js';
import type { Domain } from '../domain.js';
import type { QueueFigures } from '../events/catalogue.js';
import { LogEvent } from '../events/log-events.js';
import type { EventNotifier } from '../events/notifier.js';
import type { Redis } from '../store/redis.js';
import { evaluate, type HoldState, type LiveView, type Observation } from './evaluate.js';
import { AlertFeed } from './feed.js';
import { alertMessage } from './messages.js';
import { type RecentFigures, registerAlertRoutes } from './routes.js';
import { type AlertRule, MAX_WINDOW_MINUTES, parseAlertRules, type RuleContext } from './rules.js';
import { AlertStore } from './store.js';
import type { ActiveAlert, ClearedAlert } from './types.js';
import { WebhookSender } from './webhook.js';
import { type OutboxTrend, type QueueCounters, RecentWindow, trackOutbox } from './window.js';

export interface AlertsDeps {
  app: FastifyInstance;
  authn: Authenticator;
  redis: Redis;
  prefix: string;
  controllerId: string;
  notifier: EventNotifier;
  logger: Logger;
  config: { rules: string; webhookSecret?: string };
  /** The queues loaded now (they reload on SIGHUP): rules are checked against them. */
  queues: () => Map<string, { name: string; targets: Array<{ seconds: number }> }>;
  live: {
    figures: () => Promise<QueueFigures[]>;
    agents: () => Promise<Array<{ id: string; state: string; reason: string; since: string | null }>>;
    ariConnected: () => boolean;
    amiConnected: () => boolean;
    outboxLength: () => Promise<number>;
  };
  /** An agent's team: an alert about an agent goes only to their team's supervisors (and ops, admins). */
  teamOf?: (agentId: string) => string | undefined;
  everyMs?: number;
  /** Webhook retry pauses (tests shorten them). */
  webhookBackoffMs?: number[];
}

/** Runs with the app (its onReady to its onClose), so no start or stop of its own. */
export interface AlertsDomain extends Domain {
  /** Reads the rules file again; a broken one is logged and the last good rules stay. */
  reload(): void;
  readonly rules: AlertRule[];
}

/** Every how many evaluations the active alerts in Redis are compared with what holds here. */
const RECONCILE_EVERY = 5;

export function createAlerts(deps: AlertsDeps): AlertsDomain {
  const log = deps.logger.child({ domain: 'alerts' });
  const context = (): RuleContext => ({ queues: deps.queues() });
  let rules = parseAlertRules(deps.config.rules, context()).rules; // throws: refused at start
  const store = new AlertStore(deps.redis, deps.prefix);
  const feed = new AlertFeed(deps.redis, store.eventsKey, deps.notifier, log);
  const webhooks = new WebhookSender({
    secret: deps.config.webhookSecret,
    logger: log.child({ part: 'webhook' }),
    ...(deps.webhookBackoffMs ? { backoffMs: deps.webhookBackoffMs } : {}),
  });
  const keepMinutes = MAX_WINDOW_MINUTES;
  const window = new RecentWindow(keepMinutes * 60_000);
  let state = new Map<string, HoldState>();
  let outbox: OutboxTrend | undefined;
  let lastQueues: QueueFigures[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let failing = false;
  let ticks = 0;
  let replayed = false;
  let savedMinute: number | undefined;

  const reload = (): void => {
    try {
      rules = parseAlertRules(deps.config.rules, context()).rules;
      log.info(
        { event: LogEvent.alertRulesReloaded, rules: rules.length, file: deps.config.rules },
        'alert rules reloaded',
      );
    } catch (err) {
      log.error(
        { event: LogEvent.alertRulesRejected, err: (err as Error).message, file: deps.config.rules },
        'alert rules edit rejected; the last good rules keep running',
      );
    }
  };
  const onHangup = (): void => reload();

  const toAlert = (o: Observation, now: number): ActiveAlert => {
    const name = o.queue !== undefined ? deps.queues().get(o.queue)?.name : undefined;
    return {
      alertId: `al-${randomBytes(8).toString('hex')}`,
      rule: o.rule.id,
      kind: o.rule.kind,
      severity: o.rule.severity,
      ...(o.queue !== undefined ? { queue: o.queue } : {}),
      ...(o.subjectAgent !== undefined ? { subjectAgent: o.subjectAgent } : {}),
      ...(o.controller !== undefined ? { controller: o.controller } : {}),
      value: o.value,
      threshold: o.threshold,
      message: alertMessage(o.rule, {
        queue: o.queue,
        queueName: name,
        agent: o.subjectAgent,
        controller: o.controller,
        value: o.value,
        threshold: o.threshold,
      }),
      firedAt: new Date(now).toISOString(),
    };
  };

  const ruleOf = (key: string): AlertRule | undefined => rules.find((r) => r.id === key.split('|')[0]);

  const fire = async (o: Observation, now: number): Promise<void> => {
    const alert = toAlert(o, now);
    if (!(await store.claim(o.key, alert))) return; // another controller fired it
    log.warn(
      { alertId: alert.alertId, rule: alert.rule, queue: alert.queue, agent: alert.subjectAgent, value: alert.value },
      'alert fired',
    );
    if (o.rule.webhook) webhooks.send(o.rule.webhook, { type: 'alert.fired', alert, controller: deps.controllerId });
  };

  const clear = async (key: string, now: number): Promise<void> => {
    const cleared = await store.release(key, new Date(now).toISOString());
    if (!cleared) return; // not active (any more): another controller cleared it
    log.info({ alertId: cleared.alertId, rule: cleared.rule }, 'alert cleared');
    const url = ruleOf(key)?.webhook;
    if (url) webhooks.send(url, { type: 'alert.cleared', alert: cleared, controller: deps.controllerId });
  };

  /**
   * What another controller fired, or what was active before this one started, clears here too
   * once it no longer holds; a connection alert only by the controller it is about, or by anyone
   * once that controller is gone. An alert this controller holds as active but Redis no longer
   * has (Redis lost its data) is forgotten, to fire again after its `for`.
   */
  const reconcile = async (now: number): Promise<void> => {
    const active = await store.active();
    for (const key of active.keys()) {
      if (state.has(key)) continue;
      const subject = /\|controller:(.+)$/.exec(key)?.[1];
      if (subject && subject !== deps.controllerId && ruleOf(key)) {
        if ((await deps.redis.exists(`${deps.prefix}:controller:${subject}`)) === 1) continue;
      }
      await clear(key, now);
    }
    for (const [key, held] of state) if (held.active && !active.has(key)) state.set(key, { since: now, active: false });
  };

  const tick = async (): Promise<void> => {
    const now = Date.now();
    // A controller that starts takes the minutes the others kept: its window covers them at once.
    if (!replayed) {
      for (const s of await store.samples<QueueCounters[]>())
        if (s.minute * 60_000 < now && now - s.minute * 60_000 <= keepMinutes * 60_000)
          window.add(s.minute * 60_000, s.counters);
      replayed = true;
    }
    const [queues, agents, outboxLength] = await Promise.all([
      deps.live.figures(),
      deps.live.agents(),
      deps.live.outboxLength(),
    ]);
    lastQueues = queues;
    const counters: QueueCounters[] = queues.map((q) => ({
      queue: q.queue,
      date: q.date,
      answered: q.answered,
      abandoned: q.abandoned,
      shortAbandoned: q.shortAbandoned,
      within: Object.fromEntries(q.serviceLevel.map((s) => [s.seconds, s.answeredWithin])),
    }));
    window.add(now, counters);
    const minute = Math.floor(now / 60_000);
    if (minute !== savedMinute) {
      await store.saveSample(minute, counters, minute - keepMinutes - 1);
      savedMinute = minute;
    }
    outbox = trackOutbox(outbox, outboxLength, now);
    const live: LiveView = {
      now,
      controllerId: deps.controllerId,
      queues,
      agents,
      ariConnected: deps.live.ariConnected(),
      amiConnected: deps.live.amiConnected(),
      outboxLength,
      outbox,
      recent: (minutes, seconds, queue) => window.serviceLevel(now, minutes, seconds, queue),
    };
    const step = evaluate(rules, live, state);
    state = step.state;
    for (const o of step.fire) await fire(o, now);
    for (const key of step.clear) await clear(key, now);
    if (++ticks % RECONCILE_EVERY === 0) await reconcile(now);
  };

  const loop = (): void => {
    if (running) return; // the last second is still being read: skip this one
    running = true;
    tick()
      .then(
        () => {
          if (failing) log.info('alerts: evaluating again');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) log.warn({ err: (err as Error).message }, 'alerts: cannot read the live figures; retrying');
          failing = true;
        },
      )
      .finally(() => {
        running = false;
      });
  };

  const figures = (minutes: number): RecentFigures => {
    const now = Date.now();
    const thresholds = [...new Set(lastQueues.flatMap((q) => q.serviceLevel.map((s) => s.seconds)))].sort(
      (a, b) => a - b,
    );
    return {
      minutes,
      coveredSeconds: window.coveredSeconds(now, minutes),
      queues: lastQueues.map((q) => ({
        queue: q.queue,
        name: q.name,
        serviceLevel: q.serviceLevel.map((s) => window.serviceLevel(now, minutes, s.seconds, q.queue)),
      })),
      overall: { serviceLevel: thresholds.map((s) => window.serviceLevel(now, minutes, s)) },
    };
  };

  registerAlertRoutes(deps.app, {
    authn: deps.authn,
    active: async () => [...(await store.active()).values()].sort((a, b) => a.firedAt.localeCompare(b.firedAt)),
    recent: (): Promise<ClearedAlert[]> => store.recent(),
    acknowledge: (id, by, role) => store.acknowledge(id, by, role, new Date().toISOString()),
    figures,
    maxMinutes: keepMinutes,
    teamOf: deps.teamOf ?? (() => undefined),
  });

  deps.app.addHook('onReady', async () => {
    feed.start();
    process.on('SIGHUP', onHangup);
    timer = setInterval(loop, deps.everyMs ?? 1_000);
    log.info({ rules: rules.length, file: deps.config.rules }, 'alert rules loaded');
  });
  deps.app.addHook('onClose', async () => {
    clearInterval(timer);
    process.off('SIGHUP', onHangup);
    await feed.stop();
    await webhooks.stop();
  });

  return {
    name: 'alerts',
    reload,
    get rules() {
      return rules;
    },
  };
}
