// What a page's browser phone hears: the share of 50 ms analyser frames of an <audio>
// element's remote stream in which a tone dominates (Goertzel against the frame's energy, in the
// page). The element must carry the stream: a remote WebRTC track is silent to WebAudio unless
// it is also attached to an <audio> element.
import type { Page } from 'playwright-core';

/** -1 when the element has no stream yet. */
export function pageHearsTone(page: Page, audioSelector: string, hz: number, ms: number): Promise<number> {
  return page.evaluate(
    async ({ audioSelector, hz, ms }) => {
      const stream = document.querySelector<HTMLAudioElement>(audioSelector)?.srcObject;
      if (!(stream instanceof MediaStream)) return -1;
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const frame = new Float32Array(analyser.fftSize);
      const coeff = 2 * Math.cos((2 * Math.PI * hz) / ctx.sampleRate);
      let hits = 0;
      let frames = 0;
      const deadline = performance.now() + ms;
      while (performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        analyser.getFloatTimeDomainData(frame);
        let s1 = 0;
        let s2 = 0;
        let energy = 0;
        for (const x of frame) {
          energy += x * x;
          const s0 = x + coeff * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
        frames++;
        const power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((frame.length / 2) * Math.max(energy, 1e-12));
        if (energy / frame.length > 1e-5 && power > 0.25) hits++;
      }
      await ctx.close();
      return frames ? hits / frames : 0;
    },
    { audioSelector, hz, ms },
  );
}
