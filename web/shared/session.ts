// The signed-in person, shared by every page: who it is, and why nobody is (never signed in,
// signed out, the session expired). Sign-in and sign-out go through the API; the cookie does
// the rest.
import { reactive } from 'vue';
import { api, ApiError } from './api';
import type { Principal, WhoAmI } from './types';

export interface SessionState {
  /** Until the first GET /api/session answers, the page shows nothing but a loading line. */
  loading: boolean;
  principal?: Principal;
  displayName?: string;
  /** Why the sign-in form is showing: an error from the last attempt or the session's end. */
  problem?: ApiError;
}

export const session = reactive<SessionState>({ loading: true });

export async function loadSession(): Promise<void> {
  try {
    const who = await api<WhoAmI>('GET', '/api/session');
    session.principal = who.principal;
    session.displayName = who.kind === 'session' ? who.displayName : undefined;
    session.problem = undefined;
  } catch (err) {
    session.principal = undefined;
    // Not signed in is the normal start, not a problem to show; an expired session is.
    session.problem = err instanceof ApiError && err.code !== 'REXIAN_UNAUTHORIZED' ? err : undefined;
  } finally {
    session.loading = false;
  }
}

export async function signIn(name: string, password: string): Promise<boolean> {
  try {
    const made = await api<{ principal: Principal; displayName?: string }>('POST', '/api/session', { name, password });
    session.principal = made.principal;
    session.displayName = made.displayName;
    session.problem = undefined;
    return true;
  } catch (err) {
    session.problem = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', {}, String(err));
    return false;
  }
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/api/session').catch(() => undefined);
  session.principal = undefined;
  session.displayName = undefined;
  session.problem = undefined;
}

/** A call that answered 401 ends the page's session: back to the form, saying why. */
export function sessionEnded(err: ApiError): void {
  session.principal = undefined;
  session.problem = err;
}
