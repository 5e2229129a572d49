// An in-memory call port for unit tests of the calls domain and the IVR runner: a fake of the
// ARI operations they use (channels answer/hangup/play/record, playbacks, bridges, originate)
// that records every request in order, and an in-memory live-call store. It only stands in
// for Asterisk in fast orchestration tests; call behaviour is proved against the real thing
// (test/integration). Events are pushed in with `enter`, `event` and `hangUp`; `settle` waits
// until the service has handled everything pushed so far.
import { EventEmitter } from 'node:events';

import { type Logger, pino } from 'pino';

import type {
  AriBridge,
  AriChannel,
  AriClient,
  AriEvent,
  AriLiveRecording,
  AriPlayback,
  AsteriskInfo,
  DialplanTarget,
  RecordOptions,
} from '../../src/asterisk/ari.js';
import type { CallRecordState } from '../../src/calls/call.js';
import type { CallService } from '../../src/calls/service.js';
import type { LiveCallStore } from '../../src/calls/store.js';

/** One ARI operation asked of the port, e.g. `{ op: 'channels.play', args: [channel, playback, media] }`. */
export interface PortRequest {
  op: string;
  args: unknown[];
}

export const APP = 'rexian';

/** A channel as GET /channels lists it; `appArgs` makes it sit in our Stasis app. */
export function channel(id: string, options: { exten?: string; caller?: string; appArgs?: string } = {}): AriChannel {
  return {
    id,
    name: `PJSIP/citizen-${id}`,
    state: 'Ring',
    caller: { name: '', number: options.caller ?? '13800138000' },
    connected: { name: '', number: '' },
    dialplan: {
      context: 'from-pstn',
      exten: options.exten ?? '12345',
      priority: 1,
      ...(options.appArgs !== undefined ? { app_name: 'Stasis', app_data: `${APP},${options.appArgs}` } : {}),
    },
    creationtime: '2026-12-01T10:00:00.000+0800',
  };
}

export class FakeAri extends EventEmitter {
  readonly app = APP;
  connected = false;
  /** Asterisk's startup time (a different one at a reconnect means it restarted). */
  startup = '2026-12-01T08:00:00.000+0800';
  /** Every operation asked, in order. */
  readonly requests: PortRequest[] = [];
  /** The channels Asterisk has now. */
  readonly live = new Map<string, AriChannel>();
  /** Playbacks still running (playbacks.get answers for these). */
  readonly playing = new Set<string>();
  /** Operations that fail when asked (op name → error). */
  readonly failures = new Map<string, Error>();

  private ask(op: string, ...args: unknown[]): void {
    this.requests.push({ op, args });
    const failure = this.failures.get(op);
    if (failure) throw failure;
  }

  /** The requests of the operations named, in order (all when none is named). */
  ops(...names: string[]): PortRequest[] {
    return names.length === 0 ? [...this.requests] : this.requests.filter((r) => names.includes(r.op));
  }

  /** As a client: the calls domain and the runner take an AriClient; this has what they use. */
  get client(): AriClient {
    return this as unknown as AriClient;
  }

  async info(): Promise<AsteriskInfo> {
    this.ask('info');
    return {
      system: { version: '22.0.0', entity_id: 'fake' },
      status: { startup_time: this.startup, last_reload_time: this.startup },
      config: { name: 'fake' },
    };
  }

  readonly channels = Object.assign(
    async (): Promise<AriChannel[]> => {
      this.ask('channels.list');
      return [...this.live.values()];
    },
    {
      get: async (channelId: string): Promise<AriChannel> => {
        this.ask('channels.get', channelId);
        const channel = this.live.get(channelId);
        if (!channel) throw new Error(`channel ${channelId} not found`);
        return channel;
      },
      answer: async (channelId: string): Promise<void> => this.ask('channels.answer', channelId),
      hangup: async (channelId: string, reason: string): Promise<void> =>
        this.ask('channels.hangup', channelId, reason),
      play: async (channelId: string, playbackId: string, media: string): Promise<AriPlayback> => {
        this.ask('channels.play', channelId, playbackId, media);
        this.playing.add(playbackId);
        return { id: playbackId, media_uri: media, target_uri: `channel:${channelId}`, state: 'queued' };
      },
      record: async (channelId: string, options: RecordOptions): Promise<AriLiveRecording> => {
        this.ask('channels.record', channelId, options.name);
        return { name: options.name, format: options.format, state: 'recording' } as AriLiveRecording;
      },
      continueInDialplan: async (channelId: string, target: DialplanTarget): Promise<void> =>
        this.ask('channels.continueInDialplan', channelId, target.context, target.extension),
    },
  );

  readonly playbacks = {
    get: async (playbackId: string): Promise<AriPlayback> => {
      this.ask('playbacks.get', playbackId);
      if (!this.playing.has(playbackId)) throw new Error(`no playback ${playbackId}`);
      return { id: playbackId, media_uri: '', target_uri: '', state: 'playing' };
    },
    stopIfPresent: async (playbackId: string): Promise<void> => {
      this.ask('playbacks.stopIfPresent', playbackId);
      this.playing.delete(playbackId);
    },
  };

  readonly recordings = {
    live: async (name: string): Promise<AriLiveRecording> => {
      this.ask('recordings.live', name);
      throw new Error(`no live recording ${name}`);
    },
  };

  readonly bridges = Object.assign(
    async (): Promise<AriBridge[]> => {
      this.ask('bridges.list');
      return [];
    },
    {
      add: async (bridgeId: string, channelIds: string | string[]): Promise<void> =>
        this.ask('bridges.add', bridgeId, channelIds),
      destroyIfPresent: async (bridgeId: string): Promise<void> => this.ask('bridges.destroyIfPresent', bridgeId),
    },
  );

  async hangupChannel(channelId: string): Promise<void> {
    this.ask('hangupChannel', channelId);
  }

  async ensureBridge(bridgeId: string, type: string): Promise<void> {
    this.ask('ensureBridge', bridgeId, type);
  }

  async originate(params: { channelId: string; endpoint: string }): Promise<void> {
    this.ask('originate', params.channelId, params.endpoint);
  }

  // ---- what Asterisk does, pushed in by the test ----

  /** The WebSocket is up: the calls domain reconciles. */
  connect(): void {
    this.connected = true;
    this.emit('connected');
  }

  event(event: AriEvent): void {
    this.emit('event', { timestamp: new Date().toISOString(), ...event });
  }

  /** A channel enters our app (a citizen's call with `inbound,<did>`, or a leg we placed). */
  enter(ch: AriChannel, args: string[]): void {
    this.live.set(ch.id, ch);
    this.event({ type: 'StasisStart', channel: ch, args });
  }

  /** The far end hangs up: Asterisk sends StasisEnd, then ChannelDestroyed. */
  hangUp(channelId: string, cause = 16): void {
    const ch = this.live.get(channelId) ?? channel(channelId);
    this.live.delete(channelId);
    this.event({ type: 'StasisEnd', channel: ch });
    this.event({ type: 'ChannelDestroyed', channel: ch, cause, cause_txt: 'Normal Clearing' });
  }

  /** A prompt we started has ended. */
  playbackFinished(playbackId: string, channelId: string): void {
    this.playing.delete(playbackId);
    this.event({
      type: 'PlaybackFinished',
      playback: { id: playbackId, target_uri: `channel:${channelId}`, state: 'done', media_uri: '' },
    });
  }

  /** A key pressed on a channel. */
  dtmf(channelId: string, digit: string): void {
    this.event({ type: 'ChannelDtmfReceived', channel: this.live.get(channelId) ?? channel(channelId), digit });
  }
}

/** The live calls, as Redis would keep them (JSON copies: what was saved, not the object in use). */
export class MemoryCallStore implements LiveCallStore {
  readonly docs = new Map<string, string>();
  startup: string | null = null;
  /** How many saves each call had. */
  readonly saves = new Map<string, number>();

  async save(state: CallRecordState): Promise<void> {
    this.docs.set(state.callId, JSON.stringify(state));
    this.saves.set(state.callId, (this.saves.get(state.callId) ?? 0) + 1);
  }

  async load(callId: string): Promise<CallRecordState | undefined> {
    const raw = this.docs.get(callId);
    return raw ? (JSON.parse(raw) as CallRecordState) : undefined;
  }

  async remove(callId: string): Promise<void> {
    this.docs.delete(callId);
  }

  async liveCallIds(): Promise<string[]> {
    return [...this.docs.keys()];
  }

  async allLive(): Promise<CallRecordState[]> {
    return [...this.docs.values()].map((raw) => JSON.parse(raw) as CallRecordState);
  }

  async asteriskStartup(): Promise<string | null> {
    return this.startup;
  }

  async setAsteriskStartup(value: string): Promise<void> {
    this.startup = value;
  }
}

/** A logger whose lines are kept (parsed) for the test to read. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  // An object with write() is written to synchronously: a line is there as soon as it is logged.
  const sink = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { logger: pino({ level: 'trace' }, sink), lines };
}

/** Waits until the service has handled every event and task pushed so far (and those they caused). */
export async function settle(calls: CallService, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await calls.drain();
  }
}
