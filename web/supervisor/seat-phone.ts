// The supervisor's own browser phone (seat `sup-<name>`, GET /api/session/phone) as the rest
// of the page sees it: whether it is registered (and why not), what its call is doing, and
// hang-up. SeatPhone.vue runs the phone (web/shared/phone/phone.ts, the agent desk's) and
// keeps this up to date; the live calls use the seat when no desk phone is typed in.
import { reactive } from 'vue';

import type { PhoneCall, PhoneStatus } from '../shared/phone/phone';

/** Why the page has no browser phone beyond the phone's own reasons. */
export type SeatProblem = 'credentials' | 'elsewhere';

export interface SeatPhoneState {
  status: PhoneStatus | { state: 'unregistered'; reason: SeatProblem; detail?: string };
  call: PhoneCall;
}

export const seatPhone = reactive<SeatPhoneState>({
  status: { state: 'unregistered', reason: 'connecting' },
  call: { state: 'idle', caller: '', muted: false },
});
