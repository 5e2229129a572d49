// The foundation's call flow: answer, play the welcome prompt to its end, say goodbye and
// hang up politely. Every step is saved before it starts, so a controller that crashed
// mid-prompt can tell whether that prompt is still playing and carry on from there.
import type { AriEvent } from '../asterisk/ari.js';
import type { Call } from '../calls/call.js';
import type { CallFlow } from '../calls/service.js';

type Step = 'welcome' | 'goodbye';

export class GreetingFlow implements CallFlow {
  constructor(private readonly media: { welcome: string; goodbye: string }) {}

  async start(call: Call): Promise<void> {
    await call.answer();
    await call.play(`sound:${this.media.welcome}`, 'welcome');
  }

  async resume(call: Call): Promise<void> {
    const step = call.flow.step as Step | undefined;
    const playbackId = call.flow.playbackId as string | undefined;
    if (!step || !playbackId) return this.start(call);
    if (await call.isPlaying(playbackId)) {
      call.log.info({ step, playbackId }, 'prompt still playing; waiting for its end');
      return;
    }
    await this.after(call, step);
  }

  async onEvent(call: Call, event: AriEvent): Promise<void> {
    if (event.type !== 'PlaybackFinished' || event.playback?.id !== call.flow.playbackId) return;
    call.log.info({ playbackId: event.playback?.id, step: call.flow.step }, 'prompt finished');
    await this.after(call, call.flow.step as Step);
  }

  private async after(call: Call, step: Step): Promise<void> {
    if (step === 'welcome') {
      await call.play(`sound:${this.media.goodbye}`, 'goodbye');
      return;
    }
    await call.updateFlow({ step: 'done' });
    await call.hangup();
  }
}
