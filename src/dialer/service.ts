// The outbound dialer (回访): places callback tasks within the calendar's hours at a set
// pace, presenting the hotline's number. An answered citizen becomes a call of its own that
// runs the dialer's flow (a short announcement, then a queue: the citizen is connected to
// the first free agent); a call that is not answered is settled with its disposition (no
// answer, busy, wrong number, refused) and tried again as the retry rules say. Tasks come
// from the callback stream (abandoned calls, voicemails, queue callbacks not reached) and
// from the API.
import type { Logger } from 'pino';

import type { QueueDefinition } from '../acd/queue-config.js';
import type { AriClient, AriEvent } from '../asterisk/ari.js';
import { checkDestination } from '../calls/dial-string.js';
import type { Config } from '../config/index.js';
import { LogEvent } from '../events/log-events.js';
import type { Calendar } from '../ivr/calendar.js';
import { outboundAttemptRecord } from '../records/call-record.js';
import { ensureGroup, isMissingGroup, type RecordOutbox } from '../records/outbox.js';
import type { Redis } from '../store/redis.js';
import type { DialerTask, DialerTasks, Disposition } from './tasks.js';

/** Q.850 causes of an unanswered call, as a hotline reports them. */
export function dispositionOf(cause: number): Disposition {
  switch (cause) {
    case 17:
      return 'busy';
    case 18:
    case 19:
    case 20:
    case 0:
      return 'no-answer';
    case 1:
    case 3:
    case 22:
    case 28:
      return 'wrong-number';
    case 21:
      return 'refused';
    default:
      return 'failed';
  }
}

/** The channel of a task's current attempt: the dialer's events are matched back by it. */
function attemptChannel(task: DialerTask): string {
  return `dial-${task.id}-${task.attempts}`;
}

/** When a task is tried again, or undefined when it is settled for good. */
export function retryAt(
  rules: Config['dialer']['retry'],
  disposition: Disposition,
  attempts: number,
  now: number,
): number | undefined {
  const rule =
    disposition === 'busy'
      ? rules.busy
      : disposition === 'no-answer' || disposition === 'failed'
        ? rules.noAnswer
        : undefined;
  if (!rule || attempts > rule.max) return undefined;
  return now + rule.afterSeconds * 1000;
}

/** Callback reasons the dialer serves (a queue callback that keeps its place is the ACD's). */
const DIALLED_REASONS = new Set(['abandoned', 'voicemail', 'queue-callback-unreached', 'return-visit']);

/** What the dialer needs of the ACD for agent-first callbacks. */
export interface DialerAcd {
  queue(id: string): QueueDefinition;
  cannotTake(q: QueueDefinition): Promise<string | undefined>;
  enqueueCallback(
    entryId: string,
    c: { queue: string; number: string; did: string; dialerTask: string },
  ): Promise<void>;
  on(
    event: 'dialer',
    listener: (result: { task: string; reached: boolean; cause?: number; causeText?: string; callId: string }) => void,
  ): unknown;
}

export interface DialerDeps {
  ari: AriClient;
  acd: DialerAcd;
  /** The virtual number of a live binding (masked cases present it instead of 12345). */
  virtualNumberOf: (bindingId: string) => Promise<string | undefined>;
  redis: Redis;
  prefix: string;
  tasks: DialerTasks;
  callbacksKey: string;
  calendar: () => Calendar | undefined;
  config: Config['dialer'];
  outbox: RecordOutbox;
  logger: Logger;
  consumer: string;
  pstnEndpoint?: string;
}

export class Dialer {
  private timer: NodeJS.Timeout | undefined;
  private readonly ringing = new Map<string, { task: DialerTask; startedAt: number }>();
  private readonly log: Logger;
  private busy = false;

  constructor(private readonly deps: DialerDeps) {
    this.log = deps.logger.child({ domain: 'dialer' });
    deps.ari.on(
      'event',
      (event: AriEvent) =>
        void this.onEvent(event).catch((err: unknown) => this.log.error({ err }, 'dialer event failed')),
    );
    deps.acd.on(
      'dialer',
      (result) =>
        void this.onAgentFirstResult(result).catch((err: unknown) => this.log.error({ err }, 'dialer result failed')),
    );
  }

  async start(): Promise<void> {
    await ensureGroup(this.deps.redis, this.deps.callbacksKey, 'dialer');
    this.timer = setInterval(() => void this.tick(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.collect();
      if (!this.deps.config.enabled || !this.deps.ari.connected) return;
      await this.recoverStale();
      const calendar = this.deps.calendar();
      if (!calendar?.isOpen(this.deps.config.hours, new Date())) return;
      if (this.deps.config.mode === 'agent-first') {
        // Agent first: only while someone who could take it is logged in.
        const why = await this.deps.acd.cannotTake(this.deps.acd.queue(this.deps.config.queue));
        if (why) return;
      }
      // The pace holds across controllers: one dial per interval, whoever takes the slot.
      const interval = Math.round(60_000 / this.deps.config.pacePerMinute);
      const slot = await this.deps.redis.set(
        `${this.deps.prefix}:dialer:pace`,
        this.deps.consumer,
        'PX',
        interval,
        'NX',
      );
      if (slot !== 'OK') return;
      const task = await this.deps.tasks.take();
      if (!task) {
        await this.deps.redis.del(`${this.deps.prefix}:dialer:pace`); // nothing was dialled: the slot is free
        return;
      }
      await this.dial(task);
    } catch (err) {
      this.log.warn({ event: LogEvent.dialerTickFailed, err: (err as Error).message }, 'dialer tick failed');
    } finally {
      this.busy = false;
    }
  }

  /**
   * Attempts whose controller died while they rang (their outcome was in its memory): long
   * past any ring time, they are settled as failed and tried again by the no-answer rule.
   * Agent-first attempts wait in the queue for an agent, so they are left alone.
   */
  private async recoverStale(): Promise<void> {
    if (this.deps.config.mode === 'agent-first') return;
    const before = Date.now() - (this.deps.config.ringSeconds + 60) * 1000;
    for (const task of await this.deps.tasks.stale(before)) {
      if ([...this.ringing.values()].some((r) => r.task.id === task.id)) continue;
      // Its channel may still be up on this switch: answered (reached) or, past its ring time, about to end.
      const channel = await this.deps.ari
        .request<{ state: string }>('GET', `/channels/${attemptChannel(task)}`)
        .catch(() => undefined);
      if (channel?.state === 'Up') {
        await this.deps.tasks.settle(task, 'reached');
        this.log.info(
          { task: task.id, attempt: task.attempts },
          'callback attempt lost with a controller was answered; settled as reached',
        );
        continue;
      }
      if (channel) continue;
      this.log.warn({ task: task.id, attempt: task.attempts }, 'callback attempt lost with a controller; trying again');
      await this.settle(task, attemptChannel(task), 'failed', Date.now());
    }
  }

  /** New callback tasks from the stream the IVR and the ACD write. */
  private async collect(): Promise<void> {
    const res = (await this.deps.redis
      .xreadgroup('GROUP', 'dialer', this.deps.consumer, 'COUNT', 100, 'STREAMS', this.deps.callbacksKey, '>')
      .catch(async (err: Error) => {
        // The stream went away with its group (Redis flushed, an empty replica): make them again.
        if (!isMissingGroup(err)) throw err;
        await ensureGroup(this.deps.redis, this.deps.callbacksKey, 'dialer');
        this.log.warn(
          { event: LogEvent.callbacksStreamRecreated, stream: this.deps.callbacksKey },
          'the callbacks stream or its consumer group was missing (Redis lost data?): recreated them',
        );
        return null;
      })) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [id, fields] of res?.[0]?.[1] ?? []) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (DIALLED_REASONS.has(f.reason ?? '') && f.caller) {
        const task = await this.deps.tasks.add({ number: f.caller, reason: f.reason!, callId: f.callId, did: f.did });
        this.log.info(
          { event: LogEvent.callbackTaskCreated, task: task.id, reason: task.reason, callId: task.callId },
          'callback task created',
        );
      }
      await this.deps.redis.xack(this.deps.callbacksKey, 'dialer', id);
    }
  }

  private async dial(task: DialerTask): Promise<void> {
    const channelId = attemptChannel(task);
    let number: string;
    try {
      number = checkDestination('external', task.number, 'number').number;
    } catch (err) {
      this.log.warn({ task: task.id, err: (err as Error).message }, 'callback number cannot be dialled');
      return this.settle(task, channelId, 'wrong-number', Date.now());
    }
    // A masked case presents its virtual number, so the citizen can call the department back through it.
    const x = task.bindingId ? await this.deps.virtualNumberOf(task.bindingId) : undefined;
    const callerId = x ?? this.deps.config.callerId;
    if (this.deps.config.mode === 'agent-first') {
      this.log.info(
        {
          event: LogEvent.callbackDialling,
          task: task.id,
          attempt: task.attempts,
          entry: channelId,
          reason: task.reason,
        },
        'dialling a callback (agent first)',
      );
      await this.deps.acd.enqueueCallback(channelId, {
        queue: this.deps.config.queue,
        number,
        did: callerId,
        dialerTask: task.id,
      });
      return;
    }
    this.ringing.set(channelId, { task, startedAt: Date.now() });
    this.log.info(
      {
        event: LogEvent.callbackDialling,
        task: task.id,
        attempt: task.attempts,
        channelId,
        reason: task.reason,
        presenting: callerId,
      },
      'dialling a callback',
    );
    try {
      await this.deps.ari.originate({
        channelId,
        endpoint: `PJSIP/${number}@${this.deps.pstnEndpoint ?? 'pstn'}`,
        callerId,
        timeout: this.deps.config.ringSeconds,
        appArgs: `outbound,${task.id},${number}`,
      });
    } catch (err) {
      this.ringing.delete(channelId);
      this.log.warn({ task: task.id, err: (err as Error).message }, 'could not place the callback');
      await this.settle(task, channelId, 'failed', Date.now());
    }
  }

  private async onEvent(event: AriEvent): Promise<void> {
    const channelId = event.channel?.id;
    if (!channelId?.startsWith('dial-') || (event.type !== 'StasisStart' && event.type !== 'ChannelDestroyed')) return;
    const ringing = this.ringing.get(channelId);
    this.ringing.delete(channelId);
    // An attempt another process dialled (this controller restarted, or took over the switch,
    // while it rang) settles too, so a citizen who answered is never dialled again.
    // Agent-first outcomes come through the ACD instead.
    const task =
      ringing?.task ?? (this.deps.config.mode === 'agent-first' ? undefined : await this.attemptOf(channelId));
    if (!task) return;
    // A channel that ends Up was answered: its StasisStart came while no controller listened.
    if (event.type === 'StasisStart' || event.channel?.state === 'Up') {
      await this.deps.tasks.settle(task, 'reached');
      this.log.info(
        { event: ringing ? LogEvent.callbackAnswered : LogEvent.callbackAnsweredEarlier, task: task.id, channelId },
        ringing
          ? 'callback answered; the citizen goes to an agent'
          : 'callback answered (dialled by an earlier controller)',
      );
      return;
    }
    await this.settle(
      task,
      channelId,
      dispositionOf(Number(event.cause ?? 0)),
      ringing?.startedAt ?? Date.now(),
      String(event.cause_txt ?? ''),
    );
  }

  /** The task whose current, unsettled attempt is this channel. */
  private async attemptOf(channelId: string): Promise<DialerTask | undefined> {
    const m = /^dial-(cb-[0-9a-f]+)-(\d+)$/.exec(channelId);
    if (!m) return undefined;
    const task = await this.deps.tasks.get(m[1]!);
    return task?.status === 'dialing' && task.attempts === Number(m[2]) ? task : undefined;
  }

  /** Agent first: the ACD rang the agent, then the citizen; here is whether the citizen answered. */
  private async onAgentFirstResult(result: {
    task: string;
    reached: boolean;
    cause?: number;
    causeText?: string;
    callId: string;
  }): Promise<void> {
    const task = await this.deps.tasks.get(result.task);
    if (!task || task.status !== 'dialing') return;
    if (result.reached) {
      await this.deps.tasks.settle(task, 'reached');
      this.log.info({ task: task.id, callId: result.callId }, 'callback answered; the agent is talking to the citizen');
      return;
    }
    // The call's own record (an outbound call the agent made) is written when it ends.
    const disposition = dispositionOf(result.cause ?? 0);
    const again = retryAt(this.deps.config.retry, disposition, task.attempts, Date.now());
    await this.deps.tasks.settle(task, disposition, again);
    this.log.info(
      {
        event: LogEvent.callbackNotReached,
        task: task.id,
        attempt: task.attempts,
        disposition,
        cause: result.causeText,
        retryAt: again === undefined ? null : new Date(again).toISOString(),
      },
      'callback not reached',
    );
  }

  private async settle(
    task: DialerTask,
    channelId: string,
    disposition: Disposition,
    startedAt: number,
    cause = '',
  ): Promise<void> {
    const again = retryAt(this.deps.config.retry, disposition, task.attempts, Date.now());
    await this.deps.tasks.settle(task, disposition, again);
    await this.deps.outbox.add(
      outboundAttemptRecord({
        callId: channelId,
        did: this.deps.config.callerId,
        number: task.number,
        startedAt,
        endedAt: Date.now(),
        disposition,
      }),
    );
    this.log.info(
      {
        event: LogEvent.callbackNotReached,
        task: task.id,
        attempt: task.attempts,
        disposition,
        cause,
        retryAt: again === undefined ? null : new Date(again).toISOString(),
      },
      'callback not reached',
    );
  }
}
