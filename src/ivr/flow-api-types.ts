// The shapes of the flow API on the wire (GET /api/flows, …/graph.svg, …/simulate, POST
// /api/flows/check). Import-free on purpose: the ops page
// (web/ops/) imports these types, so it cannot drift from what the controller sends, and
// nothing of the server is pulled into the page's type-check.

/** One lint or load finding, at its position in the file. File names are the file's base name. */
export interface FlowIssueView {
  code: string;
  message: string;
  file: string;
  line: number;
  col: number;
  node: string | null;
  severity: 'error' | 'warning';
}

/**
 * serving: the file on disk is what answers calls. last-good: an edit was refused and the last
 * good version keeps serving. rejected: the file has never passed, nothing of it serves.
 */
export type FlowFileState = 'serving' | 'last-good' | 'rejected';

export interface FlowFileView {
  file: string;
  flowId: string | null;
  name: string | null;
  /** The version serving calls now (the last good one). */
  version: string | null;
  /** The numbers the serving version answers. */
  numbers: string[];
  loadedAt: string | null;
  state: FlowFileState;
  /** Hash of the text on disk now: equal to `version` when the last edit took. */
  diskVersion: string | null;
  /** The versions this controller has served from this file, newest first. */
  history: Array<{ version: string; loadedAt: string }>;
  /** The errors as `file:line:col: CODE: message` (the first shape of this API; kept). */
  errors: string[];
  /** Errors and warnings with their positions and node. */
  issues: FlowIssueView[];
}

export interface FlowListView {
  /** When the flows directory was last read. */
  checkedAt: string | null;
  calendarError: string | null;
  flows: FlowFileView[];
}

/** What a simulated caller does: the number dialled, the keys pressed, when, from which number. */
export interface SimulateRequest {
  did?: string;
  keys?: string;
  /** ISO 8601; without an offset it is Beijing time (the calendar's, UTC+8 all year). */
  time?: string;
  caller?: string;
  /** offline (default): every http node's lookup fails, as when the system is down; real: it is made. */
  http?: 'offline' | 'real';
}

export interface SimulationView {
  flowId: string;
  flowVersion: string;
  did: string;
  caller: string;
  keys: string;
  at: string;
  http: 'offline' | 'real';
  /** Node ids in the order the call passed them; `subflow/node` inside a subflow. */
  path: string[];
  /** queue, transfer, hangup, voicemail, or stuck (with a reason). */
  outcome: { type: string; [key: string]: unknown };
  vars: Record<string, string>;
}

export interface CheckRequest {
  /** The file's name in ivr-flows/ (an existing one: the edit is checked as replacing it). */
  file: string;
  /** The flow's YAML text. */
  source: string;
  simulate?: SimulateRequest;
}

export interface CheckView {
  /** No error in this file (errors it would cause in other files are listed, and make ok false). */
  ok: boolean;
  file: string;
  flowId: string | null;
  version: string | null;
  /** The version of this file serving now, if any: what saving would replace. */
  replaces: string | null;
  issues: FlowIssueView[];
  /** The simulated path, when the flow has no errors. */
  simulation: SimulationView | null;
  /** The flow's picture, when it parsed (sanitized SVG). */
  svg: string | null;
}
