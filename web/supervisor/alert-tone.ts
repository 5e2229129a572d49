// The short tone a new alert sounds (WebAudio, no sound file): two beeps for a warning, three
// higher ones for a critical alert. Browsers let a page make sound only after a user gesture,
// so the AudioContext is made (or resumed) on the first click or key press on the page; a
// tone before that is skipped, not queued (the banner still shows the alert).
let context: AudioContext | undefined;

function unlock(): void {
  context ??= new AudioContext();
  void context.resume();
}
window.addEventListener('pointerdown', unlock, { once: true, capture: true });
window.addEventListener('keydown', unlock, { once: true, capture: true });

/** How many tones were asked for, on window.rexianAlertTones (the browser test reads it: no speakers there). */
let tonesSounded = 0;

export function newAlertTone(severity: 'warning' | 'critical'): void {
  (window as unknown as { rexianAlertTones?: number }).rexianAlertTones = ++tonesSounded;
  if (!context || context.state !== 'running') return;
  const beeps = severity === 'critical' ? 3 : 2;
  const frequency = severity === 'critical' ? 1046 : 784;
  const start = context.currentTime + 0.02;
  for (let i = 0; i < beeps; i++) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = frequency;
    const at = start + i * 0.25;
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.2, at + 0.02);
    gain.gain.linearRampToValueAtTime(0, at + 0.18);
    osc.connect(gain).connect(context.destination);
    osc.start(at);
    osc.stop(at + 0.2);
  }
}
