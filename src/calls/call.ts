// One live call: its citizen channel, what the flow decided so far (persisted, so another
// controller process can pick the call up), and the ARI operations a flow may perform.
import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import type { AriClient } from '../asterisk/ari.js';
import { stepPlayback } from '../asterisk/ids.js';
import { LogEvent } from '../events/log-events.js';

export interface CallRecordState {
  callId: string;
  channelId: string;
  /** The number the citizen dialled: 12345 or a merged legacy line. */
  did: string;
  caller: string;
  startedAt: string;
  /** Asterisk's startup time when the call began: a different one means Asterisk restarted. */
  asteriskStartup: string;
  /** Whatever the flow needs to resume: each domain's slot (CallSlots), opaque to the calls domain. */
  flow: CallFlowState;
  /**
   * inbound: a citizen called. callback: a queue callback (the first channel is the agent's).
   * outbound: the dialer reached a citizen.
   */
  kind?: 'inbound' | 'callback' | 'outbound';
  /** Other channels of this call (agent legs, consultations); their events come to the call. */
  legs?: string[];
  /** The controller that handles the call now (API actions elsewhere are forwarded to it). */
  owner?: string;
  /** What happened on the call, in order: kept with the call record. */
  events?: CallEvent[];
  /** Who each extra leg rang and when it answered and ended: kept with the call record. */
  legInfo?: Record<string, LegInfo>;
}

/**
 * Each domain's state on a call, under its own key. The calls domain names none of them: a domain
 * adds its key by declaration merging in its own state file, so calls/ never imports a domain:
 *   declare module '../calls/call.js' { interface CallSlots { acd?: AcdCallState } }
 * Declare a key as `name?: T | undefined`: a domain clears its slot with updateFlow({ name: undefined }).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface CallSlots {}

/** A call's flow: the typed slots, and the keys no domain has declared yet (read as unknown). */
export type CallFlowState = CallSlots & Record<string, unknown>;

/** One thing that happened on a call (queued, offered, hold, transfer …) with its details. */
export interface CallEvent {
  at: string;
  type: string;
  [detail: string]: string | number | boolean | null;
}

export type LegRole = 'agent' | 'consult' | 'emergency' | 'supervisor' | 'far-party' | 'citizen';

/** An extra leg: the party is an agent id, a window id, an emergency line or a (masked) number. */
export interface LegInfo {
  role: LegRole;
  party: string;
  dialledAt: string;
  answeredAt?: string;
  endedAt?: string;
  cause?: string;
}

/** A call's timeline is bounded: a call bounced for hours must not grow its state without end. */
const MAX_EVENTS = 400;

export interface CallPersistence {
  save(state: CallRecordState): Promise<void>;
}

/** Runs work for this call through its serial queue, now or after a delay. */
export type CallScheduler = (delayMs: number, task: () => Promise<void>) => void;

export class Call {
  readonly log: Logger;

  constructor(
    readonly state: CallRecordState,
    private readonly ariClient: AriClient,
    private readonly persistence: CallPersistence,
    logger: Logger,
    private readonly scheduler: CallScheduler,
  ) {
    this.log = logger.child({ callId: state.callId, channelId: state.channelId });
  }

  get id(): string {
    return this.state.callId;
  }

  get channelId(): string {
    return this.state.channelId;
  }

  get flow(): CallFlowState {
    return this.state.flow;
  }

  /**
   * Work that must happen in order with this call's ARI events (a timer firing, an HTTP
   * answer arriving): it is queued behind them. Dropped when the call ends.
   */
  later(delayMs: number, task: () => Promise<void>): void {
    this.scheduler(delayMs, task);
  }

  get ari(): AriClient {
    return this.ariClient;
  }

  async updateFlow(patch: CallFlowState): Promise<void> {
    Object.assign(this.state.flow, patch);
    await this.persistence.save(this.state);
  }

  /**
   * Logs what happened and keeps it on the call's timeline (saved with the call, so a
   * crash loses none of it, and written with the call record when the call ends).
   */
  async note(
    type: string,
    detail: Record<string, string | number | boolean | null | undefined>,
    message?: string,
    level: 'info' | 'warn' = 'info',
  ): Promise<void> {
    if (message) this.log[level](detail, message); // without one, the caller has logged it its own way
    const events = (this.state.events ??= []);
    if (events.length >= MAX_EVENTS) return;
    // `event` names the log line (src/events/log-events.ts); the timeline has its own `type`.
    const kept = Object.fromEntries(
      Object.entries(detail).filter(
        (e): e is [string, string | number | boolean | null] => e[1] !== undefined && e[0] !== 'event',
      ),
    );
    events.push({ ...kept, at: new Date().toISOString(), type });
    await this.persistence.save(this.state);
  }

  async answer(): Promise<void> {
    await this.ariClient.channels.answer(this.channelId);
  }

  /**
   * Starts a playback with an id we chose and saved first, so that after a crash the new
   * process can ask Asterisk whether that very playback is still running.
   */
  async play(media: string, step: string): Promise<string> {
    const playbackId = stepPlayback(this.id, step, randomUUID().slice(0, 8));
    await this.updateFlow({ step, playbackId });
    await this.ariClient.channels.play(this.channelId, playbackId, media);
    this.log.info({ event: LogEvent.promptPlaying, playbackId, media }, 'playing prompt');
    return playbackId;
  }

  /** Whether a playback is still running in Asterisk. */
  async isPlaying(playbackId: string): Promise<boolean> {
    try {
      await this.ariClient.playbacks.get(playbackId);
      return true;
    } catch {
      return false;
    }
  }

  async hangup(reason: 'normal' | 'busy' | 'congestion' = 'normal'): Promise<void> {
    try {
      await this.ariClient.channels.hangup(this.channelId, reason);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'hangup of a channel that is already gone');
    }
  }
}
