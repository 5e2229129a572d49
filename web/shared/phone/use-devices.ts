// The phone panel's device choice as reactive state: the microphones and speakers there are,
// the one in use of each, and a notice when a remembered or chosen device has gone (unplugged
// before the page opened, or during the shift: the browser's devicechange event). Applying a
// choice is the phone's job (Phone.setMicrophone / setSpeaker); this keeps the lists and the
// words' inputs, and remembers what the agent picked.
import { reactive } from 'vue';

import {
  type AudioDevice,
  canChooseSpeaker,
  DEFAULT_DEVICE,
  type DeviceKind,
  listDevices,
  remember,
  remembered,
  resolveChoice,
} from './devices';

export interface DeviceState {
  microphones: AudioDevice[];
  speakers: AudioDevice[];
  microphone: string;
  speaker: string;
  speakerChoice: boolean;
  /** The name of a device that went away, per kind, until the agent picks another. */
  vanished: Partial<Record<DeviceKind, string>>;
  /** A device the browser refused to open (busy, no permission): its name. */
  failed?: string;
}

export interface DeviceApply {
  microphone(id: string): Promise<void>;
  speaker(id: string): Promise<void>;
}

export function useDevices(apply: () => DeviceApply | undefined) {
  const state = reactive<DeviceState>({
    microphones: [],
    speakers: [],
    microphone: DEFAULT_DEVICE,
    speaker: DEFAULT_DEVICE,
    speakerChoice: canChooseSpeaker(),
    vanished: {},
  });

  const field = (kind: DeviceKind) => (kind === 'audioinput' ? 'microphone' : 'speaker');
  const listOf = (kind: DeviceKind): AudioDevice[] => (kind === 'audioinput' ? state.microphones : state.speakers);

  async function use(kind: DeviceKind, id: string): Promise<void> {
    const target = apply();
    if (!target) return;
    try {
      await target[field(kind)](id);
      state[field(kind)] = id;
      state.failed = undefined;
    } catch {
      state.failed = listOf(kind).find((d) => d.id === id)?.label ?? id;
      if (id !== DEFAULT_DEVICE) await use(kind, DEFAULT_DEVICE);
    }
  }

  /** Lists the devices and brings the phone to the remembered (or still present) choice. */
  async function refresh(): Promise<void> {
    const [mics, speakers] = await Promise.all([listDevices('audioinput'), listDevices('audiooutput')]);
    state.microphones = mics;
    state.speakers = speakers;
    for (const kind of ['audioinput', 'audiooutput'] as const) {
      if (kind === 'audiooutput' && !state.speakerChoice) continue;
      const inUse = state[field(kind)];
      // A device in use that is gone now; else what this browser remembers.
      const wanted =
        inUse !== DEFAULT_DEVICE
          ? { id: inUse, label: listOf(kind).find((d) => d.id === inUse)?.label ?? remembered(kind)?.label ?? inUse }
          : remembered(kind);
      const choice = resolveChoice(wanted, listOf(kind));
      // Gone: say so. Back (a headset plugged in again): use it again, and the notice goes.
      if (choice.vanished) state.vanished[kind] = choice.vanished;
      else if (wanted && choice.id === wanted.id) delete state.vanished[kind];
      if (choice.id !== inUse) await use(kind, choice.id);
    }
  }

  /** The agent picked a device: use it and remember it in this browser. */
  async function choose(kind: DeviceKind, id: string): Promise<void> {
    delete state.vanished[kind];
    remember(
      kind,
      listOf(kind).find((d) => d.id === id),
    );
    await use(kind, id);
  }

  const onChange = (): void => void refresh();
  return {
    state,
    refresh,
    choose,
    watchDevices: () => navigator.mediaDevices?.addEventListener('devicechange', onChange),
    unwatchDevices: () => navigator.mediaDevices?.removeEventListener('devicechange', onChange),
  };
}
