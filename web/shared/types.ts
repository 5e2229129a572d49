// The API's types, imported from the server's own sources so the pages and the controller
// cannot drift (type-only: nothing of the server is bundled).
export type { Principal, Role } from '../../src/api/auth.js';
export type { Session } from '../../src/people/sessions.js';

import type { Principal } from '../../src/api/auth.js';
import type { Session } from '../../src/people/sessions.js';

/** GET /api/session: a person's session, or a static token (machines, and people before sign-in existed). */
export type WhoAmI = ({ kind: 'session' } & Session) | { kind: 'token'; principal: Principal };

/** The one error shape of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}
