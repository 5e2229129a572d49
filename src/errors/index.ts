// The one error catalogue of rexian (after fastify's lib/errors.js): each code decides its
// HTTP status and its message, and means one thing. A throw site passes only the code, the
// data to act on (details, sent to the client as they are) and, where the template needs
// them, the words specific to that site; it never chooses a status. The API renders every
// error as { error: { code, message, details } }. docs/errors.md documents each code, and
// test/unit/errors-catalogue.test.ts keeps the two in step.

type Details = Record<string, unknown>;

interface Entry<D extends Details, W extends [] | [words: string]> {
  status: number;
  /** One line: what the code means (docs/errors.md says what to do about it). */
  meaning: string;
  message: (data: D, ...words: W) => string;
}

/** A code whose message is a fixed text or is built from its data alone. */
function fixed<D extends Details = Details>(
  status: number,
  meaning: string,
  message: (data: D) => string,
): Entry<D, []> {
  return { status, meaning, message };
}

/** A code whose message needs the words of the site that throws it (fastify's '%s'). */
function worded<D extends Details = Details>(
  status: number,
  meaning: string,
  message: (data: D, words: string) => string = (_d, words) => words,
): Entry<D, [words: string]> {
  return { status, meaning, message };
}

export const ERRORS = {
  // Configuration and start-up: our own files and settings. The controller does not start
  // (or keeps the last good version on a live reload); a request never causes these.
  REXIAN_CONFIG_INVALID: worded(500, 'a setting of the config file or environment is missing or wrong'),
  REXIAN_CONFIG_UNREADABLE: worded<{ file: string }>(
    500,
    'the config file cannot be read',
    (d, reason) => `cannot read config file ${d.file}: ${reason}`,
  ),
  REXIAN_QUEUES_INVALID: worded(500, 'the queues file does not parse or breaks a rule'),
  REXIAN_AGENTS_INVALID: worded(500, 'the roster (agents) file does not parse or breaks a rule'),
  REXIAN_WINDOWS_INVALID: worded(500, 'the service-centre windows file does not parse or breaks a rule'),
  REXIAN_ALERTS_INVALID: worded(500, 'the alert rules file does not parse or breaks a rule'),
  REXIAN_VIRTUAL_NUMBERS_INVALID: worded(500, 'the virtual number pool file does not parse or breaks a rule'),
  REXIAN_CALENDAR_INVALID: worded(500, 'the calendar (working hours, holidays) does not parse or breaks a rule'),
  REXIAN_PROMPTS_INVALID: worded<{ file: string; name?: string }>(
    500,
    'the prompt catalogue is not a map of names to texts',
  ),
  REXIAN_PROMPT_SYNTHESIS: worded<{ target: string }>(
    500,
    'a prompt could not be synthesised or converted to audio',
    (d, reason) => `could not prepare prompt ${d.target}: ${reason}`,
  ),
  REXIAN_ASTERISK_INSTANCE: worded(500, 'the Asterisk instance rexian runs in its chroot cannot be set up or started'),
  REXIAN_NOT_READY: worded(503, 'the request needs a setting this controller was started without'),

  // Flow files: issues reported by `rexian flow lint` and GET /api/flows (the flow is refused
  // and the last good version keeps serving). 422 when one is ever the answer to a request.
  REXIAN_FLOW_SYNTAX: worded(422, 'the flow file is not readable YAML'),
  REXIAN_FLOW_SCHEMA: worded(422, 'the flow does not match the flow schema'),
  REXIAN_FLOW_DANGLING_TARGET: worded(422, 'a node points to a node that does not exist'),
  REXIAN_FLOW_UNREACHABLE_NODE: worded(422, 'a node cannot be reached from the start'),
  REXIAN_FLOW_MENU_NO_WAY_OUT: worded(422, 'a menu never leads to a queue, transfer or hangup'),
  REXIAN_FLOW_MENU_UNMAPPED_KEY: worded(422, 'a menu prompt offers a key that has no option'),
  REXIAN_FLOW_SILENT_LOOP: worded(422, 'nodes loop without a prompt or input and would spin forever'),
  REXIAN_FLOW_MISSING_PROMPT: worded(422, 'a node uses a prompt that is neither in the catalogue nor recorded'),
  REXIAN_FLOW_UNKNOWN_QUEUE: worded(422, 'a node sends callers to a queue that is not defined'),
  REXIAN_FLOW_UNKNOWN_SCHEDULE: worded<{ schedule?: string }>(
    422,
    'a schedule named by a flow or setting is not in the calendar',
  ),
  REXIAN_FLOW_UNKNOWN_FLOW: worded(422, 'a node calls a subflow that is not loaded'),
  REXIAN_FLOW_DUPLICATE_NUMBER: worded(422, 'two flows answer the same number, or share an id'),
  REXIAN_FLOW_BAD_PATTERN: worded(422, 'a pattern is not a valid regular expression, or could be slow'),
  REXIAN_FLOW_EMERGENCY_NUMBER: worded(422, 'an emergency transfer is misdeclared (wrong number or kind)'),
  REXIAN_FLOW_BAD_NUMBER: worded(422, 'a transfer number is not a number rexian may dial'),
  REXIAN_FLOW_TOO_LARGE: worded(422, 'the flow is larger or nests deeper than the flow limits allow'),
  REXIAN_FLOW_LINT_FAILED: worded(422, 'the loader or linter failed on this flow, so it is refused'),

  // Requests: the client's mistake in the request itself.
  REXIAN_BAD_REQUEST: worded(400, 'the request is malformed: a field is missing, of the wrong type or out of range'),
  REXIAN_BAD_JSON: worded(400, 'the body is not valid JSON, or empty while its content type says JSON'),
  REXIAN_BODY_TOO_LARGE: fixed(
    413,
    'the request body is larger than the API takes',
    () => 'the request body is too large',
  ),
  REXIAN_UNSUPPORTED_MEDIA_TYPE: fixed(
    415,
    'the body is not application/json',
    () => 'this API takes application/json bodies only',
  ),
  REXIAN_NO_SUCH_ROUTE: worded<{ method: string }>(
    404,
    'no route has this method and path',
    (d, path) => `no route ${d.method} ${path}`,
  ),
  REXIAN_NOT_FOUND: worded(
    404,
    'what the request names (a live call, binding, recording, account, dead letter, supervision) does not exist',
  ),
  REXIAN_BAD_DIAL_STRING: worded<{ field: string; value: string; reason: string }>(
    400,
    'a number to dial is not one rexian may dial (see details.reason)',
    (d, why) => `${d.field} "${d.value}" ${why}`,
  ),

  // Access: who is asking, and may they.
  REXIAN_UNAUTHORIZED: worded(401, 'no valid bearer token or session'),
  REXIAN_SESSION_EXPIRED: fixed(
    401,
    'the session ended (idle or too old)',
    () => 'the session has expired: sign in again',
  ),
  REXIAN_FORBIDDEN: worded(403, 'the caller is known but their role or teams do not allow this'),
  REXIAN_SIGN_IN_FAILED: fixed(401, 'the name or the password is wrong', () => 'the name or the password is wrong'),
  REXIAN_SIGN_IN_LOCKED: fixed<{ retryAfterSeconds: number }>(
    429,
    'too many failed sign-ins for this name and address',
    (d) => `too many failed sign-ins: try again in ${Math.ceil(d.retryAfterSeconds / 60)} min`,
  ),
  REXIAN_PASSWORD_TOO_SHORT: worded<{ minLength: number }>(400, 'a new password is shorter than the minimum'),
  REXIAN_PASSWORD_WRONG: fixed(
    403,
    'the current password given to change it is wrong',
    () => 'the current password is wrong',
  ),
  REXIAN_ACCOUNT_EXISTS: fixed<{ agentId?: string }>(
    409,
    'the agent already has a sign-in account',
    (d) => `agent ${d.agentId} already has an account`,
  ),

  // Agents, queues and calls: the request is well formed but the world is not as it needs.
  REXIAN_UNKNOWN_AGENT: fixed<{ agentId: string; field?: string }>(
    404,
    'no agent with this id in the roster',
    (d) => `no agent "${d.agentId}" in the roster`,
  ),
  REXIAN_UNKNOWN_QUEUE: fixed<{ queue: string }>(
    404,
    'no queue with this id in the queues file',
    (d) => `no queue "${d.queue}" in the queues file`,
  ),
  REXIAN_UNKNOWN_WINDOW: worded<{ window: string }>(
    404,
    'no service-centre window with this id in the windows file',
    (d, known) => `no service-centre window "${d.window}" in the windows file (known: ${known})`,
  ),
  REXIAN_AGENT_STATE: worded(409, 'the agent is not in a state that allows this (not on this call, not in wrap-up, …)'),
  REXIAN_AGENT_IN_FILE: worded<{ agentId: string }>(
    409,
    'the agent is defined in the roster file, so the API cannot change it',
    (d, verb) => `agent "${d.agentId}" is defined in the roster file; ${verb} it there`,
  ),
  REXIAN_CALL_STATE: worded(
    409,
    'the call is not in a state that allows this (a consultation, hand-off or supervision' +
      ' under way, …), or the target of a transfer cannot take it now',
  ),
  REXIAN_NUMBER_TAKEN: fixed<{ field: string; value: string }>(
    409,
    'the virtual number asked for is bound to a live binding',
    (d) => `virtual number ${d.value} is bound to a live binding`,
  ),
  REXIAN_POOL_EXHAUSTED: fixed<{ pool: number }>(
    409,
    'every virtual number of the pool is bound',
    (d) => `every one of the ${d.pool} virtual numbers is bound; unbind one, or add numbers to the pool`,
  ),

  // Call records.
  REXIAN_RECORD_REFUSED: worded<{ id: string; sqlstate?: string }>(
    422,
    'PostgreSQL refuses a dead-lettered record again',
    (_d, reason) => `PostgreSQL still refuses the record: ${reason}`,
  ),

  // What rexian depends on: failures that are not the client's.
  REXIAN_DATABASE_UNAVAILABLE: worded(503, 'PostgreSQL cannot be reached or fails'),
  REXIAN_CONTROLLER_UNAVAILABLE: worded(503, 'the controller that holds the call or agent does not answer'),
  REXIAN_ASTERISK_UNAVAILABLE: worded(503, 'Asterisk (ARI or AMI) is not connected or does not answer'),
  REXIAN_ASTERISK_FAILED: worded(502, 'Asterisk refused or failed an action (details.status: its own answer)'),
  REXIAN_INTERNAL: fixed(500, 'a fault of rexian itself (logged with its stack)', () => 'internal error'),
} as const;

type Catalogue = typeof ERRORS;
export type ErrorCode = keyof Catalogue;
/** The data and (where its template takes them) the words a code's message is built from. */
export type ErrorArgs<C extends ErrorCode> = Parameters<Catalogue[C]['message']>;

export class RexianError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details: Details;
  readonly statusCode: number;

  constructor(code: C, ...args: ErrorArgs<C>) {
    const entry = ERRORS[code];
    super(`${code}: ${(entry.message as (data: Details, words?: string) => string)(...(args as [Details, string?]))}`);
    this.name = 'RexianError';
    this.code = code;
    this.details = args[0];
    this.statusCode = entry.status;
  }

  toJSON(): { error: { code: string; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message.slice(this.code.length + 2), details: this.details } };
  }
}

/**
 * What the ARI client throws when Asterisk answers non-2xx (502) or not at all (503). It is
 * a RexianError, so it reaches a client as REXIAN_ASTERISK_FAILED / _UNAVAILABLE, never as
 * Asterisk's own 404; `asteriskStatus` (also details.status; 0: no answer) lets a domain
 * that expects a 404 (a channel already gone) handle it itself.
 */
export class AriError extends RexianError<'REXIAN_ASTERISK_FAILED' | 'REXIAN_ASTERISK_UNAVAILABLE'> {
  readonly asteriskStatus: number;

  constructor(method: string, path: string, asteriskStatus: number, reason: string) {
    const details = { method, path, status: asteriskStatus };
    if (asteriskStatus === 0) super('REXIAN_ASTERISK_UNAVAILABLE', details, `${method} ${path}: ${reason}`);
    else {
      const answer = `${method} ${path} answered ${asteriskStatus}`;
      super('REXIAN_ASTERISK_FAILED', details, reason ? `${answer}: ${reason}` : answer);
    }
    this.name = 'AriError';
    this.asteriskStatus = asteriskStatus;
  }
}

export function isRexianError<C extends ErrorCode>(err: unknown, code?: C): err is RexianError<C> {
  return err instanceof RexianError && (code === undefined || err.code === code);
}
