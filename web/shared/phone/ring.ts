// Audible ringing and the auto-answer beep, made with WebAudio (no sound files to ship or
// cache). The ring is the tone of Chinese exchanges (450 Hz, 1 s on, 4 s off) with the pause
// shortened to 2 s so a busy desk notices it, and a soft attack so it does not click in a
// headset. It plays on the agent's chosen speaker where the browser can
// route WebAudio (AudioContext.setSinkId), else on the default output.
// A page that was never clicked may not start sound (autoplay policy): the context is resumed
// on the next ring, and the page shows the call in words whatever happens.
const RING_HZ = 450;
const ON_S = 1;
const OFF_S = 2;
const BEEP_HZ = 880;

type SinkContext = AudioContext & { setSinkId?: (id: string) => Promise<void> };

export class Ringer {
  private ctx: SinkContext | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private gain: GainNode | undefined;
  private sinkId = '';

  /** True while the ring plays (the page marks it for tests and screen readers). */
  get ringing(): boolean {
    return this.timer !== undefined;
  }

  private context(): SinkContext {
    if (!this.ctx) {
      this.ctx = new AudioContext() as SinkContext;
      if (this.sinkId) void this.ctx.setSinkId?.(this.sinkId).catch(() => undefined);
    }
    if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => undefined);
    return this.ctx;
  }

  /** The speaker to ring on ('' or 'default': the browser's default output). */
  setSink(deviceId: string): void {
    this.sinkId = deviceId === 'default' ? '' : deviceId;
    void this.ctx?.setSinkId?.(this.sinkId).catch(() => undefined);
  }

  private tone(hz: number, startAt: number, seconds: number, level: number, out: AudioNode): void {
    const ctx = this.context();
    const osc = ctx.createOscillator();
    const env = ctx.createGain();
    osc.frequency.value = hz;
    env.gain.setValueAtTime(0, startAt);
    env.gain.linearRampToValueAtTime(level, startAt + 0.02);
    env.gain.setValueAtTime(level, startAt + seconds - 0.03);
    env.gain.linearRampToValueAtTime(0, startAt + seconds);
    osc.connect(env).connect(out);
    osc.start(startAt);
    osc.stop(startAt + seconds + 0.01);
  }

  start(): void {
    if (this.timer) return;
    const ctx = this.context();
    this.gain = ctx.createGain();
    this.gain.connect(ctx.destination);
    const once = (): void => {
      if (this.gain) this.tone(RING_HZ, this.context().currentTime + 0.01, ON_S, 0.25, this.gain);
    };
    once();
    this.timer = setInterval(once, (ON_S + OFF_S) * 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    // Cut a ring in progress at once (answered mid-ring): drop the gain node it plays through.
    this.gain?.disconnect();
    this.gain = undefined;
  }

  /** A short beep before the phone answers by itself; resolves when it has sounded. */
  async beep(): Promise<void> {
    const ctx = this.context();
    this.tone(BEEP_HZ, ctx.currentTime + 0.01, 0.15, 0.3, ctx.destination);
    await new Promise((r) => setTimeout(r, 250));
  }

  async close(): Promise<void> {
    this.stop();
    await this.ctx?.close().catch(() => undefined);
    this.ctx = undefined;
  }
}
