// The browser phone: one JsSIP user agent registered over WebSocket to Asterisk's own HTTP
// server (chan_pjsip, the roster's `webrtc` endpoint agent-<id>: DTLS-SRTP, ICE, Opus or
// G.711). It keeps one microphone stream for the page's life (the level meter shows before a
// call, and a granted microphone makes Chromium offer its real host addresses instead of
// mDNS names, which Asterisk cannot resolve) and hands that stream to every answered call.
// JsSIP reconnects its WebSocket by itself and re-registers on each reconnect; the status
// says `reconnecting` between the drop and the next successful REGISTER.
// An incoming call rings audibly (./ring.ts) until it is answered, hung up or cancelled. A
// seat the roster marks autoAnswer answers by itself after a short beep: when the phone was
// started with `autoAnswer`, or when the INVITE carries Call-Info answer-after (the ACD adds it
// for exactly those agents, so a roster change applies without reloading the page).
// The microphone and speaker are the agent's choice (./devices.ts): a new microphone replaces
// the track of a call in progress, a new speaker moves the remote audio and the ring.
import { UA, WebSocketInterface } from 'jssip';
import type { DTMF_TRANSPORT } from 'jssip/lib/Constants';
import type { PeerConnectionEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { RTCSessionEvent } from 'jssip/lib/UA';

import { DEFAULT_DEVICE } from './devices';
import { Ringer } from './ring';

export interface PhoneCredentials {
  wsUrl: string;
  sipUri: string;
  authUser: string;
  password: string;
  displayName: string;
  /** The roster says this seat answers by itself. */
  autoAnswer?: boolean;
}

export interface PhoneDevices {
  /** A microphone's deviceId, or DEFAULT_DEVICE. */
  microphone: string;
  /** A speaker's deviceId, or DEFAULT_DEVICE. */
  speaker: string;
}

/** Why the phone is not registered, as a key the page turns into words (phone.reasons.*). */
export type PhoneReason = 'connecting' | 'socket' | 'auth' | 'refused' | 'microphone' | 'stopped';

export type PhoneStatus =
  { state: 'registered' } | { state: 'reconnecting' } | { state: 'unregistered'; reason: PhoneReason; detail?: string };

export type CallState = 'idle' | 'ringing' | 'connecting' | 'talking';

export interface PhoneCall {
  state: CallState;
  /** The caller as the INVITE gives it (display name, else the user part). */
  caller: string;
  muted: boolean;
  /** The call is being answered by itself (auto-answer): the page says so. */
  autoAnswered?: boolean;
}

export interface PhoneEvents {
  status(status: PhoneStatus): void;
  call(call: PhoneCall): void;
}

export class Phone {
  private ua: UA | undefined;
  private session: RTCSession | undefined;
  private mic: MediaStream | undefined;
  private audioContext: AudioContext | undefined;
  private micAnalyser: AnalyserNode | undefined;
  private wasRegistered = false;
  private current: PhoneCall = { state: 'idle', caller: '', muted: false };
  private readonly ringer = new Ringer();
  private autoAnswer = false;
  private devices: PhoneDevices = { microphone: DEFAULT_DEVICE, speaker: DEFAULT_DEVICE };

  constructor(
    private readonly remoteAudio: HTMLAudioElement,
    private readonly on: PhoneEvents,
  ) {}

  /** Opens the microphone, then registers. Safe to call once; stop() ends everything. */
  async start(credentials: PhoneCredentials, devices?: PhoneDevices): Promise<void> {
    this.on.status({ state: 'unregistered', reason: 'connecting' });
    this.autoAnswer = credentials.autoAnswer === true;
    if (devices) this.devices = { ...devices };
    try {
      this.mic = await this.openMicrophone(this.devices.microphone);
    } catch (err) {
      this.on.status({ state: 'unregistered', reason: 'microphone', detail: (err as Error).message });
      return;
    }
    this.audioContext = new AudioContext();
    this.listenTo(this.mic);
    await this.setSpeaker(this.devices.speaker);

    const ua = new UA({
      sockets: [new WebSocketInterface(credentials.wsUrl)],
      uri: credentials.sipUri,
      authorization_user: credentials.authUser,
      password: credentials.password,
      display_name: credentials.displayName,
      register: true,
      register_expires: 120,
      session_timers: false,
      // A dropped network comes back within seconds in a call centre: retry soon, then calmly.
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 8,
      user_agent: 'rexian-agent-desk',
    });
    this.ua = ua;
    ua.on('registered', () => {
      this.wasRegistered = true;
      this.on.status({ state: 'registered' });
    });
    ua.on('disconnected', (e) => {
      if (this.ua !== ua) return;
      // JsSIP retries the socket by itself; until it registers again the agent is told so.
      if (this.wasRegistered) this.on.status({ state: 'reconnecting' });
      else
        this.on.status({
          state: 'unregistered',
          reason: 'socket',
          detail: e.reason ?? (e.code !== undefined ? String(e.code) : undefined),
        });
    });
    ua.on('registrationFailed', (e) => {
      // A REGISTER lost with the socket: JsSIP registers again once the socket is back.
      if (this.wasRegistered && (e.cause === 'Connection Error' || e.cause === 'Request Timeout')) {
        this.on.status({ state: 'reconnecting' });
        return;
      }
      const status = e.response?.status_code;
      this.on.status({
        state: 'unregistered',
        reason:
          status === 401 || status === 403 || e.cause === 'Authentication Error'
            ? 'auth'
            : e.cause === 'Connection Error'
              ? 'socket'
              : 'refused',
        ...(e.cause ? { detail: String(e.cause) } : {}),
      });
    });
    ua.on('unregistered', () => {
      if (this.ua === ua) this.on.status({ state: 'unregistered', reason: 'stopped' });
    });
    ua.on('newRTCSession', (e: RTCSessionEvent) => {
      if (e.originator !== 'remote') return;
      const session = e.session;
      if (this.session) {
        session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
        return;
      }
      this.session = session;
      const who = session.remote_identity;
      const auto = this.autoAnswer || /answer-after\s*=\s*0\b/i.test(e.request.getHeader('Call-Info') ?? '');
      // The ring starts before the page hears of the call, so the call it shows is already ringing.
      if (!auto) this.ringer.start();
      this.update({
        state: 'ringing',
        caller: who.display_name || who.uri.user || '',
        muted: false,
        autoAnswered: auto,
      });
      session.on('peerconnection', ({ peerconnection }: PeerConnectionEvent) => this.attachRemote(peerconnection));
      session.on('accepted', () => this.update({ state: 'talking' }));
      session.on('confirmed', () => this.update({ state: 'talking' }));
      const ended = (): void => {
        if (this.session !== session) return;
        this.session = undefined;
        this.ringer.stop();
        this.remoteAudio.srcObject = null;
        this.update({ state: 'idle', caller: '', muted: false, autoAnswered: false });
      };
      session.on('ended', ended);
      session.on('failed', ended);
      if (auto) {
        void this.ringer.beep().then(() => {
          if (this.session === session) this.answer();
        });
      }
    });
    ua.start();
  }

  private async openMicrophone(deviceId: string): Promise<MediaStream> {
    return navigator.mediaDevices.getUserMedia({
      audio: deviceId === DEFAULT_DEVICE ? true : { deviceId: { exact: deviceId } },
      video: false,
    });
  }

  /** The level meter follows the microphone in use. */
  private listenTo(stream: MediaStream): void {
    if (!this.audioContext) return;
    this.micAnalyser = this.audioContext.createAnalyser();
    this.micAnalyser.fftSize = 1024;
    this.audioContext.createMediaStreamSource(stream).connect(this.micAnalyser);
  }

  /** Which devices are in use now. */
  get devicesInUse(): PhoneDevices {
    return { ...this.devices };
  }

  /** Switches the microphone, during a call too (the call's track is replaced, not renegotiated). */
  async setMicrophone(deviceId: string): Promise<void> {
    const next = await this.openMicrophone(deviceId);
    const old = this.mic;
    this.mic = next;
    this.devices.microphone = deviceId;
    const track = next.getAudioTracks()[0];
    const pc = this.session?.connection;
    if (track && pc) {
      for (const sender of pc.getSenders()) if (sender.track?.kind === 'audio') await sender.replaceTrack(track);
      // A muted call stays muted on the new microphone.
      if (this.current.muted) track.enabled = false;
    }
    this.listenTo(next);
    for (const t of old?.getTracks() ?? []) t.stop();
  }

  /** Sends the caller's voice and the ring to this speaker (where the browser can choose). */
  async setSpeaker(deviceId: string): Promise<void> {
    this.devices.speaker = deviceId;
    const sink = deviceId === DEFAULT_DEVICE ? '' : deviceId;
    const audio = this.remoteAudio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (typeof audio.setSinkId === 'function') await audio.setSinkId(sink);
    this.ringer.setSink(deviceId);
  }

  /** True while a call rings (audibly, unless it answers by itself). */
  get ringing(): boolean {
    return this.current.state === 'ringing';
  }

  /** True while the ring sound plays. */
  get ringSounding(): boolean {
    return this.ringer.ringing;
  }

  private attachRemote(pc: RTCPeerConnection): void {
    // The remote stream must play through an <audio> element: Chromium renders a remote
    // WebRTC track silent to WebAudio (and to the agent) unless a media element consumes it.
    pc.addEventListener('track', (e) => {
      const stream = e.streams[0] ?? new MediaStream([e.track]);
      this.remoteAudio.srcObject = stream;
      void this.remoteAudio.play().catch(() => undefined);
    });
  }

  private update(change: Partial<PhoneCall>): void {
    this.current = { ...this.current, ...change };
    this.on.call({ ...this.current });
  }

  answer(): void {
    if (!this.session || this.current.state !== 'ringing') return;
    this.ringer.stop();
    this.update({ state: 'connecting' });
    this.session.answer({
      mediaStream: this.mic,
      // No STUN or TURN: the agent and Asterisk reach each other directly (host candidates).
      pcConfig: { iceServers: [] },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
    });
  }

  hangUp(): void {
    if (!this.session) return;
    try {
      this.session.terminate();
    } catch {
      /* already ending */
    }
  }

  setMuted(muted: boolean): void {
    if (!this.session || this.current.state !== 'talking') return;
    if (muted) this.session.mute({ audio: true });
    else this.session.unmute({ audio: true });
    this.update({ muted });
  }

  /** One DTMF digit (RFC 4733, as the endpoint's dtmf_mode says). */
  sendDtmf(digit: string): void {
    if (!this.session || this.current.state !== 'talking' || !/^[0-9*#A-D]$/.test(digit)) return;
    this.session.sendDTMF(digit, { transportType: 'RFC2833' as DTMF_TRANSPORT });
  }

  /** The microphone's level now, 0–1 (RMS of the last frame, scaled for a meter). */
  inputLevel(): number {
    const analyser = this.micAnalyser;
    if (!analyser) return 0;
    const frame = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(frame);
    let sum = 0;
    for (const x of frame) sum += x * x;
    return Math.min(1, Math.sqrt(sum / frame.length) * 3);
  }

  async stop(): Promise<void> {
    const ua = this.ua;
    this.ua = undefined;
    this.hangUp();
    ua?.stop();
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    await this.ringer.close();
    await this.audioContext?.close().catch(() => undefined);
    this.on.status({ state: 'unregistered', reason: 'stopped' });
  }
}
