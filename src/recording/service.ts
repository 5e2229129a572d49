// Quality-inspection recordings: a talk bridge is recorded from the moment an agent answers
// (per queue), agents pause and resume it while a citizen reads out an ID number, and each
// recording is indexed by call, by agent and by time so inspectors can find, hear and
// download it (every listen and download audited in `<prefix>:audit`). Asterisk keeps the
// files; Redis keeps the index; a sweep removes both once the retention period is over.
import type { Logger } from 'pino';

import type { AriClient } from '../asterisk/ari.js';
import { isNotFound } from '../asterisk/ari.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export interface RecordingInfo {
  name: string;
  callId: string;
  agentId: string;
  queue: string;
  did: string;
  /** What kind of recording: the conversation with the agent, or an emergency hand-off. */
  kind: 'talk' | 'emergency';
  startedAt: string;
  /** Pauses asked for (while the citizen gave personal data). */
  pauses: number;
  /** The Asterisk that holds the file (its scope), and the controller that made it. */
  scope: string;
  controller: string;
}

type NewRecording = Omit<RecordingInfo, 'startedAt' | 'pauses' | 'scope' | 'controller'>;

/** What an inspector did with a recording: heard it in the browser, or downloaded the file. */
export type RecordingUse = 'listen' | 'download';

export interface RecordingSearch {
  /** Instants, [from, to). */
  from: Date;
  to: Date;
  agentId?: string;
  /** Who may see which: the search answers only what passes. */
  visible: (r: RecordingInfo) => boolean;
  limit: number;
}

export interface RecordingOptions {
  retentionDays: number;
  sweepSeconds: number;
}

export class RecordingService {
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly ari: AriClient,
    private readonly redis: Redis,
    private readonly prefix: string,
    /** This controller's Asterisk: files are made, served and removed there. */
    readonly scope: string,
    private readonly controllerId: string,
    private readonly options: RecordingOptions,
    logger: Logger,
  ) {
    this.log = logger.child({ domain: 'recording' });
  }

  private key(name: string): string {
    return `${this.prefix}:recording:${name}`;
  }

  /** Recordings by time, per Asterisk: each sweeps the files it holds. */
  private get byTime(): string {
    return `${this.prefix}:asterisk:${this.scope}:recordings`;
  }

  /** Every recording, of every Asterisk, by time: the search by date reads it. */
  private get allByTime(): string {
    return `${this.prefix}:recordings:by-time`;
  }

  private byAgent(agentId: string): string {
    return `${this.prefix}:agent-recordings:${agentId}`;
  }

  /** Starts recording a bridge and indexes it; a failure is logged, never fatal to the call. */
  async recordBridge(bridgeId: string, info: NewRecording): Promise<boolean> {
    try {
      await this.ari.bridges.record(bridgeId, { name: info.name, format: 'wav', ifExists: 'overwrite' });
    } catch (err) {
      this.log.error(
        { callId: info.callId, err: (err as Error).message, recording: info.name },
        'could not start recording',
      );
      return false;
    }
    await this.index(info);
    this.log.info(
      { event: LogEvent.recordingStarted, callId: info.callId, recording: info.name, bridgeId, kind: info.kind },
      'recording started',
    );
    return true;
  }

  /** Adds a recording made elsewhere (the emergency hand-off) to the index. */
  async index(info: NewRecording): Promise<void> {
    const now = Date.now();
    await this.redis
      .multi()
      .hset(this.key(info.name), {
        ...info,
        startedAt: new Date(now).toISOString(),
        pauses: '0',
        scope: this.scope,
        controller: this.controllerId,
      })
      .zadd(this.byTime, now, info.name)
      .zadd(this.allByTime, now, info.name)
      .zadd(this.byAgent(info.agentId), now, info.name)
      .sadd(`${this.prefix}:call-recordings:${info.callId}`, info.name)
      .exec();
  }

  /** Pauses (true) or resumes (false) a live recording. */
  async pause(name: string, paused: boolean): Promise<void> {
    try {
      await (paused ? this.ari.recordings.pause(name) : this.ari.recordings.unpause(name));
    } catch (err) {
      if (isNotFound(err))
        throw new RexianError('REXIAN_CALL_STATE', { recording: name }, `recording ${name} is not running`);
      throw err;
    }
    if (paused) await this.redis.hincrby(this.key(name), 'pauses', 1);
  }

  async get(name: string): Promise<RecordingInfo | undefined> {
    const h = await this.redis.hgetall(this.key(name));
    if (!h.name) return undefined;
    return { ...(h as unknown as RecordingInfo), pauses: Number(h.pauses ?? 0) };
  }

  /** The recordings of a call, oldest first. */
  async ofCall(callId: string): Promise<RecordingInfo[]> {
    const names = await this.redis.smembers(`${this.prefix}:call-recordings:${callId}`);
    const all = await Promise.all(names.map((n) => this.get(n)));
    return all
      .filter((r): r is RecordingInfo => r !== undefined)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * Recordings started in [from, to), newest first, for one agent or all, that the asker may
   * see; at most `limit` (truncated says more matched). Reads the index in Redis: a recording
   * is findable exactly as long as it can be heard.
   */
  async search(q: RecordingSearch): Promise<{ recordings: RecordingInfo[]; truncated: boolean }> {
    const key = q.agentId ? this.byAgent(q.agentId) : this.allByTime;
    const names = await this.redis.zrevrangebyscore(key, `(${q.to.getTime()}`, q.from.getTime());
    const found: RecordingInfo[] = [];
    // In pages: a day of a busy hotline is thousands of recordings, read a few hundred at a time.
    for (let i = 0; i < names.length && found.length <= q.limit; i += 200) {
      const page = names.slice(i, i + 200);
      const pipeline = this.redis.pipeline();
      for (const n of page) pipeline.hgetall(this.key(n));
      for (const [, h] of (await pipeline.exec()) ?? []) {
        const r = h as Record<string, string> | null;
        if (!r?.name) continue;
        const info: RecordingInfo = { ...(r as unknown as RecordingInfo), pauses: Number(r.pauses ?? 0) };
        if (q.visible(info)) found.push(info);
      }
    }
    return { recordings: found.slice(0, q.limit), truncated: found.length > q.limit };
  }

  /** A listen or download, with who: appended to the audit stream before a byte is sent. */
  async audit(use: RecordingUse, info: RecordingInfo, by: { name: string; role: string }): Promise<void> {
    await appendToStream(this.redis, `${this.prefix}:audit`, {
      who: by.name,
      role: by.role,
      action: `recording-${use}`,
      recording: info.name,
      callId: info.callId,
      agentId: info.agentId,
      at: new Date().toISOString(),
    });
    this.log.info({ recording: info.name, callId: info.callId, by: by.name, use }, `recording ${use}`);
  }

  /** The file, streamed from Asterisk. 404 when it was never made or is gone. */
  async file(name: string): Promise<Response> {
    try {
      return await this.ari.download(`/recordings/stored/${encodeURIComponent(name)}/file`);
    } catch (err) {
      if (isNotFound(err))
        throw new RexianError(
          'REXIAN_NOT_FOUND',
          { recording: name },
          `recording ${name} has no file (still running, or removed)`,
        );
      throw err;
    }
  }

  start(): void {
    this.sweepTimer = setInterval(
      () =>
        void this.sweep().catch((err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'recording sweep failed'),
        ),
      this.options.sweepSeconds * 1000,
    );
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
  }

  /** Removes recordings older than the retention period: the file, then the index. */
  async sweep(now = Date.now()): Promise<number> {
    const cutoff = now - this.options.retentionDays * 86_400_000;
    const names = await this.redis.zrangebyscore(this.byTime, '-inf', cutoff, 'LIMIT', 0, 1000);
    for (const name of names) {
      const info = await this.get(name);
      try {
        await this.ari.recordings.deleteStored(name);
      } catch (err) {
        // Still being recorded (a call longer than the retention period): try at the next sweep.
        if (!isNotFound(err)) continue;
      }
      const multi = this.redis.multi().del(this.key(name)).zrem(this.byTime, name).zrem(this.allByTime, name);
      if (info)
        multi.srem(`${this.prefix}:call-recordings:${info.callId}`, name).zrem(this.byAgent(info.agentId), name);
      await multi.exec();
      this.log.info(
        { event: LogEvent.recordingRemoved, recording: name, callId: info?.callId, startedAt: info?.startedAt },
        'recording removed: retention period over',
      );
    }
    return names.length;
  }
}
