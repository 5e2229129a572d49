// The page's browser phone as other parts of the desk see it (keyboard shortcuts, the call
// controls): answer and hang up the ringing or live call of the tab that holds the phone.
// PhonePanel.vue sets it when its phone starts and clears it when it stops; for a desk-phone
// seat (device `sip`) or a tab that does not hold the phone it stays undefined.
// `callsEnded` counts the browser phone's calls that ended in this tab (the agent's day
// refreshes on it).
import { ref, shallowRef } from 'vue';

export interface PhoneControls {
  /** Answers the ringing call (no-op when nothing rings). */
  answer(): void;
  /** Ends the phone's call, ringing or live. */
  hangUp(): void;
  /** True while a call rings the browser phone. */
  readonly ringing: boolean;
}

export const currentPhone = shallowRef<PhoneControls | undefined>();

/** Goes up by one each time a call of this tab's browser phone ends. */
export const callsEnded = ref(0);
