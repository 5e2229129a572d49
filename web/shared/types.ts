// The API's types, imported from the server's own sources so the pages and the controller
// cannot drift (type-only: nothing of the server is bundled).
export type { Principal, Role } from '../../src/api/auth.js';
export type { Session } from '../../src/people/sessions.js';
// The event stream's catalogue (/api/events): one union on `type`, what the controller publishes.
export type {
  AgentCallEvent,
  AgentCallView,
  AgentConsultEvent,
  AgentConsultFailedEvent,
  AgentEmergencyAnsweredEvent,
  AgentEmergencyEvent,
  AgentEmergencyFailedEvent,
  AgentOfferEvent,
  AgentOfferWithdrawnEvent,
  AgentState,
  AgentStateEvent,
  AgentTransferFailedEvent,
  EventOf,
  MessageOf,
  OverallFigures,
  QueueFigures,
  QueueFiguresEvent,
  RexianEvent,
  RexianEventType,
  ScreenPop,
  StreamError,
  StreamHello,
  StreamMessage,
} from '../../src/events/catalogue.js';

import type { Principal } from '../../src/api/auth.js';
import type { Session } from '../../src/people/sessions.js';

/** GET /api/session: a person's session, or a static token (machines, and people before sign-in existed). */
export type WhoAmI = ({ kind: 'session' } & Session) | { kind: 'token'; principal: Principal };

/** The one error shape of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}
