// The ids we give Asterisk's channels, bridges, playbacks and recordings, in one place.
// We choose every id ourselves (never Asterisk): a retried request with the same id is
// idempotent (a reused id answers 409), a restarted controller finds its calls' legs and
// bridges by name, and after Redis lost its data acd/rebuild.ts reads the ACD's state back
// from these names alone. So the strings are a contract: changing one strands the calls
// in progress during an upgrade, and the unit test pins each of them.
//
// A call's id is its citizen channel's id (Asterisk's unique id, `1712345678.42`); every
// other leg, bridge and playback of the call is `<callId>-<suffix>`.

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- channels -------------------------------------------------------------------------------

/** The n-th agent leg of a call (n counts all legs placed: agent, consult, emergency). */
export function agentLeg(callId: string, n: number): string {
  return `${callId}-a${n}`;
}

/** An agent leg's call and number, or undefined if the id is not one; with `callId`, only that call's. */
export function parseAgentLeg(id: string, callId?: string): { callId: string; n: number } | undefined {
  const m = (callId === undefined ? /^(.+)-a(\d+)$/ : new RegExp(`^(${escapeRegExp(callId)})-a(\\d+)$`)).exec(id);
  return m ? { callId: m[1]!, n: Number(m[2]) } : undefined;
}

/** A consultation or transfer leg (to an agent, a number or a window), numbered like agent legs. */
export function consultLeg(callId: string, n: number): string {
  return `${callId}-x${n}`;
}

/** The leg to an emergency line (110/119/120/122), numbered like agent legs. */
export function emergencyLeg(callId: string, n: number): string {
  return `${callId}-e${n}`;
}

/** The supervisor's leg: one supervisor per call, so always the first. */
export function supervisorLeg(callId: string): string {
  return `${callId}-s1`;
}

/** The n-th snoop channel on the agent's leg (a new one each time the supervisor changes mode). */
export function snoopLeg(callId: string, n: number): string {
  return `${callId}-sn${n}`;
}

/** The far party's leg of a call to a virtual (masked) number. */
export function maskedLeg(callId: string): string {
  return `${callId}-m`;
}

/**
 * A queue callback is a call of its own, named after the queue entry it serves and when it
 * was placed (base 36 ms), so a second callback for the same entry gets a new id.
 */
export function callbackCallId(entryId: string, at: number): string {
  return `${entryId}-cb${at.toString(36)}`;
}

/** A queue callback's agent leg: the agent is rung first, once per callback call. */
export function callbackAgentLeg(callbackId: string): string {
  return `${callbackId}-a`;
}

/** A queue callback's leg to the citizen, rung when the agent answers. */
export function callbackCitizenLeg(callbackId: string): string {
  return `${callbackId}-c`;
}

/** The Asterisk endpoint (and SIP user) of an agent's phone; its channels are `PJSIP/agent-<id>-<seq>`. */
export function agentEndpoint(agentId: string): string {
  return `agent-${agentId}`;
}

/** The agent a channel rings or carries, from the channel's name (PJSIP/agent-<id>-<seq>). */
export function agentOfChannelName(name: string): string | undefined {
  return /^PJSIP\/agent-(.+)-[0-9a-f]+$/.exec(name)?.[1];
}

// ---- bridges --------------------------------------------------------------------------------

/** The one mixing bridge where a call's parties talk (agent, consulted party, emergency line). */
export function talkBridge(callId: string): string {
  return `${callId}-talk`;
}

/** The call whose talk bridge this is, or undefined. */
export function parseTalkBridge(id: string): string | undefined {
  return id.endsWith('-talk') ? id.slice(0, -'-talk'.length) : undefined;
}

/** A queue's holding bridge (its waiting callers hear its music); shared by every controller of the app. */
export function holdingBridge(app: string, queue: string): string {
  return `${app}-hold-${queue}`;
}

/** The queue whose holding bridge this is (for our app), or undefined. */
export function parseHoldingBridge(app: string, id: string): string | undefined {
  const prefix = `${app}-hold-`;
  return id.startsWith(prefix) ? id.slice(prefix.length) : undefined;
}

/** The bridge where a supervisor listens (or whispers) through a snoop channel. */
export function supervisionBridge(callId: string): string {
  return `${callId}-sup`;
}

// ---- playbacks ------------------------------------------------------------------------------

/** A prompt played by Call.play at a step, with a random part so that each play is its own. */
export function stepPlayback(callId: string, step: string, random: string): string {
  return `${callId}-${step}-${random}`;
}

/** The IVR's n-th prompt of the call. */
export function ivrPlayback(callId: string, n: number): string {
  return `${callId}-p${n}`;
}

/** The prompt telling a caller of someone else's virtual number they go to the hotline. */
export function divertPlayback(callId: string): string {
  return `${callId}-divert`;
}

/** A queue's position and wait announcement, made at `at` (base 36 ms). */
export function announcementPlayback(callId: string, at: number): string {
  return `${callId}-ann-${at.toString(36)}`;
}

/** The prompt confirming that a waiting caller will be called back. */
export function callbackConfirmPlayback(callId: string): string {
  return `${callId}-cbok`;
}

/** The ringback an agent hears while a consulted party rings, named after that party's leg. */
export function ringbackPlayback(consultLegId: string): string {
  return `${consultLegId}-ringback`;
}

// ---- recordings (the names of the stored files) ---------------------------------------------

/** The quality-inspection recording of a call's talk bridge: one per call. */
export function talkRecording(callId: string): string {
  return `${callId}-talk`;
}

/** The recording of an emergency hand-off. */
export function emergencyRecording(callId: string): string {
  return `${callId}-emergency`;
}

/** The recording of a call to a virtual number whose binding records. */
export function maskedRecording(callId: string): string {
  return `${callId}-masked`;
}

/** A voicemail left in the IVR at `at` (ms). */
export function voicemailRecording(callId: string, at: number): string {
  return `${callId}-vm-${at}`;
}
