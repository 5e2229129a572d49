// The one error shape of rexian: a stable code, a message for people, and the data to act on.
// The API renders it as { error: { code, message, details } }.

export type ErrorCode =
  | 'REXIAN_CONFIG_INVALID'
  | 'REXIAN_CONFIG_UNREADABLE'
  | 'REXIAN_ARI_REQUEST_FAILED'
  | 'REXIAN_ARI_NOT_CONNECTED'
  | 'REXIAN_AMI_NOT_CONNECTED'
  | 'REXIAN_ASTERISK_INSTANCE'
  | 'REXIAN_PROMPT_SYNTHESIS'
  | 'REXIAN_NOT_READY'
  | 'REXIAN_FLOW_SYNTAX'
  | 'REXIAN_FLOW_SCHEMA'
  | 'REXIAN_FLOW_DANGLING_TARGET'
  | 'REXIAN_FLOW_UNREACHABLE_NODE'
  | 'REXIAN_FLOW_MENU_NO_WAY_OUT'
  | 'REXIAN_FLOW_MENU_UNMAPPED_KEY'
  | 'REXIAN_FLOW_SILENT_LOOP'
  | 'REXIAN_FLOW_MISSING_PROMPT'
  | 'REXIAN_FLOW_UNKNOWN_QUEUE'
  | 'REXIAN_FLOW_UNKNOWN_SCHEDULE'
  | 'REXIAN_FLOW_UNKNOWN_FLOW'
  | 'REXIAN_FLOW_DUPLICATE_NUMBER'
  | 'REXIAN_FLOW_BAD_PATTERN'
  | 'REXIAN_FLOW_EMERGENCY_NUMBER'
  | 'REXIAN_FLOW_TOO_LARGE'
  | 'REXIAN_FLOW_LINT_FAILED'
  | 'REXIAN_CALENDAR_INVALID'
  | 'REXIAN_UNAUTHORIZED'
  | 'REXIAN_FORBIDDEN'
  | 'REXIAN_BAD_REQUEST'
  | 'REXIAN_BAD_JSON'
  | 'REXIAN_BODY_TOO_LARGE'
  | 'REXIAN_UNSUPPORTED_MEDIA_TYPE'
  | 'REXIAN_NO_SUCH_ROUTE'
  | 'REXIAN_NOT_FOUND'
  | 'REXIAN_QUEUES_INVALID'
  | 'REXIAN_AGENTS_INVALID'
  | 'REXIAN_WINDOWS_INVALID'
  | 'REXIAN_UNKNOWN_WINDOW'
  | 'REXIAN_CALL_STATE'
  | 'REXIAN_CONTROLLER_UNAVAILABLE'
  | 'REXIAN_DATABASE_UNAVAILABLE'
  | 'REXIAN_RECORD_REFUSED'
  | 'REXIAN_POOL_EXHAUSTED'
  | 'REXIAN_NUMBER_TAKEN'
  | 'REXIAN_VIRTUAL_NUMBERS_INVALID'
  | 'REXIAN_UNKNOWN_AGENT'
  | 'REXIAN_UNKNOWN_QUEUE'
  | 'REXIAN_AGENT_STATE'
  | 'REXIAN_QUEUE_FULL'
  | 'REXIAN_BAD_DIAL_STRING'
  | 'REXIAN_FLOW_BAD_NUMBER'
  // Sign-in as a person (src/people/).
  | 'REXIAN_SIGN_IN_FAILED'
  | 'REXIAN_SIGN_IN_LOCKED'
  | 'REXIAN_SESSION_EXPIRED'
  | 'REXIAN_PASSWORD_TOO_SHORT'
  | 'REXIAN_PASSWORD_WRONG';

export class RexianError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, statusCode = 500) {
    super(`${code}: ${message}`);
    this.name = 'RexianError';
    this.code = code;
    this.details = details;
    this.statusCode = statusCode;
  }

  toJSON(): { error: { code: string; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message.slice(this.code.length + 2), details: this.details } };
  }
}

export function isRexianError(err: unknown, code?: ErrorCode): err is RexianError {
  return err instanceof RexianError && (code === undefined || err.code === code);
}
