// Where a request carries a person's session token: the Authorization header (scripts, the
// tests) or the `rexian_session` cookie the sign-in sets for the pages. The cookie is
// HttpOnly (page scripts never see it), SameSite=Strict (another site's page cannot make the
// browser send it, which is what stops cross-site request forgery here) and Secure when the
// page came over HTTPS.
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'rexian_session';

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The bearer token or, failing that, the session cookie of a request. */
export function presentedToken(headers: IncomingHttpHeaders): string {
  const auth = headers.authorization ?? '';
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  return cookieValue(headers.cookie, SESSION_COOKIE) ?? '';
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
