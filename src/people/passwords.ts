// Password hashing: scrypt from node:crypto, stored as a self-describing string
// `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the cost can be raised later and
// old hashes still verify. N = 2^15, r = 8, p = 1 is OWASP's floor for scrypt and costs
// 32 MiB and ~100 ms per check; 400 agents signing in at a shift change stay within a
// 2-core controller. crypto.scrypt runs on libuv's thread pool, off the event loop, so
// calls keep flowing while a password is checked. Verification compares in constant time.
// A stored string that does not parse, or whose parameters are outside sane bounds (a
// tampered row asking for a 64 GiB hash), verifies as false instead of hanging or throwing.
import { randomBytes, scrypt as scryptCallback, type ScryptOptions, timingSafeEqual } from 'node:crypto';

export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;
/** Shorter passwords are refused when set (the error says so). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longer ones are refused too: scrypt would take them, but nobody types 1 kB. */
export const MAX_PASSWORD_LENGTH = 1024;

interface Params {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function scrypt(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is just below what N=2^15, r=8 needs; allow twice the need.
  const maxmem = 256 * options.N! * options.r! + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, keyBytes, { ...options, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** The stored form of a new password, with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const hash = await scrypt(password, salt, SCRYPT.keyBytes, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Parses `scrypt$N$r$p$salt$hash`; undefined if malformed or its cost is out of bounds. */
export function parseHash(stored: string): Params | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^\d{1,10}$/.test(x!) ? Number(x) : NaN)) as [number, number, number];
  // N a power of two between 2^10 and 2^20 (1 GiB at r=8); r and p small: no row may ask for more.
  if (!Number.isInteger(Math.log2(N)) || N < 2 ** 10 || N > 2 ** 20) return undefined;
  if (!(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 16 || hash.length < 16 || hash.length > 128) return undefined;
  return { N, r, p, salt, hash };
}

/** Whether a password matches its stored form. Constant time in the comparison. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const params = parseHash(stored);
  if (!params) return false;
  const key = await scrypt(password, params.salt, params.hash.length, { N: params.N, r: params.r, p: params.p });
  return timingSafeEqual(key, params.hash);
}

let dummy: Promise<string> | undefined;

/** Makes the dummy hash ahead of the first unknown name (else that attempt takes twice as long). */
export function warmUp(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('base64url'));
  return dummy;
}

/**
 * The same work as checking a real password, for a name nobody has: an unknown name and a
 * wrong password must take the same time, or timing tells which names exist.
 */
export async function verifyNobody(password: string): Promise<false> {
  await verifyPassword(password, await warmUp());
  return false;
}

/** Why a new password is refused, or undefined if it is acceptable. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'a password is required';
  if ([...password].length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

/** A password for a new account when none is given (printed once by the CLI). */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}
