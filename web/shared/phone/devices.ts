// The agent's microphone and speaker choice: the browser's audio devices (enumerateDevices,
// which names them only once the microphone is granted), the choice remembered in this
// browser (localStorage, with the device's name so a vanished one can be named), and what to
// use now. A remembered device that is no longer there (a headset unplugged, another USB
// port) falls back to the default device and says so in words, never silently.
export type DeviceKind = 'audioinput' | 'audiooutput';

export interface AudioDevice {
  id: string;
  label: string;
}

/** The browser's own default: no deviceId constraint, no setSinkId. */
export const DEFAULT_DEVICE = 'default';

const STORAGE = { audioinput: 'rexian.devices.microphone', audiooutput: 'rexian.devices.speaker' } as const;

interface Remembered {
  id: string;
  label: string;
}

export function remembered(kind: DeviceKind): Remembered | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE[kind]) ?? 'null') as Remembered | null;
    return value && typeof value.id === 'string' ? { id: value.id, label: String(value.label ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

export function remember(kind: DeviceKind, device: AudioDevice | undefined): void {
  if (!device || device.id === DEFAULT_DEVICE) localStorage.removeItem(STORAGE[kind]);
  else localStorage.setItem(STORAGE[kind], JSON.stringify({ id: device.id, label: device.label }));
}

/** The audio devices of one kind, the browser's "default" entry left out (we offer our own). */
export async function listDevices(kind: DeviceKind): Promise<AudioDevice[]> {
  const all = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
  return all
    .filter((d) => d.kind === kind && d.deviceId && d.deviceId !== DEFAULT_DEVICE && d.deviceId !== 'communications')
    .map((d, i) => ({ id: d.deviceId, label: d.label || `${kind === 'audioinput' ? 'mic' : 'speaker'} ${i + 1}` }));
}

export interface DeviceChoice {
  /** The device to use: a listed id, or DEFAULT_DEVICE. */
  id: string;
  /** Set when the remembered device is gone: its name, for the words "… is gone, using the default". */
  vanished?: string;
}

/** What to use given what is remembered (or chosen) and what is there now. */
export function resolveChoice(wanted: Remembered | undefined, present: AudioDevice[]): DeviceChoice {
  if (!wanted || wanted.id === DEFAULT_DEVICE) return { id: DEFAULT_DEVICE };
  if (present.some((d) => d.id === wanted.id)) return { id: wanted.id };
  return { id: DEFAULT_DEVICE, vanished: wanted.label || wanted.id };
}

/** Whether this browser can send audio to a chosen speaker (HTMLMediaElement.setSinkId). */
export function canChooseSpeaker(): boolean {
  return typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';
}
