// The shapes of what ARI sends and takes, and the named operations the ARI client offers
// (ari.ts implements them). Types only.
export interface AriEvent {
  type: string;
  application?: string;
  timestamp?: string;
  channel?: AriChannel;
  playback?: { id: string; target_uri: string; state: string; media_uri: string };
  bridge?: { id: string };
  digit?: string;
  [key: string]: unknown;
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
  creationtime: string;
  channelvars?: Record<string, string>;
}

/** A bridge as GET /bridges lists it: its members are channel ids. */
export interface AriBridge {
  id: string;
  bridge_type: string;
  technology?: string;
  name?: string;
  channels: string[];
  creationtime?: string;
}

export interface AsteriskInfo {
  system: { version: string; entity_id: string };
  status: { startup_time: string; last_reload_time: string };
  config: { name: string };
}

/** A playback as ARI answers for it. */
export interface AriPlayback {
  id: string;
  media_uri: string;
  target_uri: string;
  state: string;
  language?: string;
}

/** A live recording (of a channel or a bridge) as ARI answers for it. */
export interface AriLiveRecording {
  name: string;
  format: string;
  state: string;
  target_uri: string;
  duration?: number;
  talking_duration?: number;
  silence_duration?: number;
  cause?: string;
}

/** One attribute of a dynamic configuration object (ARI's ConfigTuple). */
export interface AriConfigTuple {
  attribute: string;
  value: string;
}

export interface RecordOptions {
  /** The stored file's name: our id (asterisk/ids.ts). */
  name: string;
  format: 'wav';
  maxDurationSeconds?: number;
  maxSilenceSeconds?: number;
  beep?: boolean;
  terminateOn?: 'none' | 'any' | '*' | '#';
  ifExists?: 'fail' | 'overwrite' | 'append';
}

/** Where in the dialplan a channel leaving our app goes on (priority 1 unless said). */
export interface DialplanTarget {
  context: string;
  extension: string;
  priority?: number;
}

/**
 * What can be done to bridges. Calling it lists them (GET /bridges); the ids are ours
 * (asterisk/ids.ts). The "IfPresent" operations are clean-ups: any failure (the bridge or
 * channel already gone, the channel not in the bridge, Asterisk unreachable) counts as
 * done, as every caller wants it; the others throw REXIAN_ARI_REQUEST_FAILED with
 * Asterisk's status in `details.status`, for the caller to judge (a 404, a 409).
 */
export interface BridgeOperations {
  (): Promise<AriBridge[]>;
  /** Adds one channel or several at once (one request: they join together). */
  add(bridgeId: string, channelIds: string | string[], options?: { role?: string }): Promise<void>;
  removeIfPresent(bridgeId: string, channelId: string): Promise<void>;
  destroyIfPresent(bridgeId: string): Promise<void>;
  /** Music on hold for everyone in the bridge (a holding bridge's waiting callers). */
  startMusic(bridgeId: string, mohClass: string): Promise<void>;
  /** Records what the bridge mixes, into the stored recording `options.name`. */
  record(bridgeId: string, options: RecordOptions): Promise<AriLiveRecording>;
}

/** What can be done to channels. Calling it lists them (GET /channels). Errors as for bridges. */
export interface ChannelOperations {
  (): Promise<AriChannel[]>;
  /** The channel as Asterisk has it now; throws (404) when it is gone. */
  get(channelId: string): Promise<AriChannel>;
  answer(channelId: string): Promise<void>;
  /** Hangs up with a cause; throws if the channel is gone (see hangupChannel for the quiet one). */
  hangup(channelId: string, reason: 'normal' | 'busy' | 'congestion'): Promise<void>;
  /** Plays media (`sound:…`, `tone:…`, comma-separated for a sequence) under our playback id. */
  play(channelId: string, playbackId: string, media: string): Promise<AriPlayback>;
  startMusic(channelId: string, mohClass: string): Promise<void>;
  stopMusicIfPresent(channelId: string): Promise<void>;
  /** `in`: what the channel says no longer reaches the bridge; it still hears. */
  mute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<void>;
  unmute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<void>;
  /**
   * A snoop channel on `channelId`, with our id, entering our app with `appArgs`: `spy` is
   * what it hears of the channel, `whisper` where what is said into it goes.
   */
  snoop(
    channelId: string,
    snoopId: string,
    options: { spy: 'none' | 'in' | 'out' | 'both'; whisper: 'none' | 'in' | 'out' | 'both'; appArgs: string },
  ): Promise<AriChannel>;
  /** Records the channel (a voicemail), into the stored recording `options.name`. */
  record(channelId: string, options: RecordOptions): Promise<AriLiveRecording>;
  /** The channel leaves our app for the dialplan (a fallback, a transfer out). */
  continueInDialplan(channelId: string, target: DialplanTarget): Promise<void>;
}

export interface PlaybackOperations {
  /** The playback if still running; throws (404) when it is over. */
  get(playbackId: string): Promise<AriPlayback>;
  stopIfPresent(playbackId: string): Promise<void>;
}

export interface RecordingOperations {
  /** The recording if still running; throws (404) when it is over. */
  live(name: string): Promise<AriLiveRecording>;
  /** Pause and unpause throw 404 when the recording is not running. */
  pause(name: string): Promise<void>;
  unpause(name: string): Promise<void>;
  /** Deletes a stored recording's file; throws 404 when there is none, 409 while it is still recording. */
  deleteStored(name: string): Promise<void>;
}

/** Asterisk's dynamic configuration (sorcery objects such as res_pjsip endpoints). */
export interface AsteriskOperations {
  /** Creates or replaces the object with these fields; answers the fields Asterisk now has. */
  pushConfig(configClass: string, objectType: string, id: string, fields: AriConfigTuple[]): Promise<AriConfigTuple[]>;
  deleteConfigIfPresent(configClass: string, objectType: string, id: string): Promise<void>;
}
