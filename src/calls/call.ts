// One live call: its citizen channel, what the flow decided so far (persisted, so another
// controller process can pick the call up), and the ARI operations a flow may perform.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AriClient } from '../asterisk/ari.js';

export interface CallRecordState {
  callId: string;
  channelId: string;
  /** The number the citizen dialled: 12345 or a merged legacy line. */
  did: string;
  caller: string;
  startedAt: string;
  /** Asterisk's startup time when the call began: a different one means Asterisk restarted. */
  asteriskStartup: string;
  /** Whatever the flow needs to resume; opaque to the calls domain. */
  flow: Record<string, unknown>;
}

export interface CallPersistence {
  save(state: CallRecordState): Promise<void>;
}

export class Call {
  readonly log: Logger;

  constructor(
    readonly state: CallRecordState,
    private readonly ari: AriClient,
    private readonly persistence: CallPersistence,
    logger: Logger,
  ) {
    this.log = logger.child({ callId: state.callId, channelId: state.channelId });
  }

  get id(): string {
    return this.state.callId;
  }

  get channelId(): string {
    return this.state.channelId;
  }

  get flow(): Record<string, unknown> {
    return this.state.flow;
  }

  async updateFlow(patch: Record<string, unknown>): Promise<void> {
    Object.assign(this.state.flow, patch);
    await this.persistence.save(this.state);
  }

  async answer(): Promise<void> {
    await this.ari.request('POST', `/channels/${this.channelId}/answer`);
  }

  /**
   * Starts a playback with an id we chose and saved first, so that after a crash the new
   * process can ask Asterisk whether that very playback is still running.
   */
  async play(media: string, step: string): Promise<string> {
    const playbackId = `${this.id}-${step}-${randomUUID().slice(0, 8)}`;
    await this.updateFlow({ step, playbackId });
    await this.ari.request('POST', `/channels/${this.channelId}/play/${playbackId}`, { media });
    this.log.info({ playbackId, media }, 'playing prompt');
    return playbackId;
  }

  /** Whether a playback is still running in Asterisk. */
  async isPlaying(playbackId: string): Promise<boolean> {
    try {
      await this.ari.request('GET', `/playbacks/${playbackId}`);
      return true;
    } catch {
      return false;
    }
  }

  async hangup(reason: 'normal' | 'busy' | 'congestion' = 'normal'): Promise<void> {
    try {
      await this.ari.request('DELETE', `/channels/${this.channelId}`, { reason });
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'hangup of a channel that is already gone');
    }
  }
}
