// Lua scripts that declare every key they touch (in KEYS), as Redis requires for a script to
// be safe beyond one node (a cluster routes a script by its keys; a replica or a proxy may
// check them). Some scripts only learn which keys they need from the data: the router's match
// reads the best waiting call, then the agent at the head of a skill's ready set. Such a script
// starts with DECLARED_KEYS_LUA: before it touches a key it asks `want(key)`; a key the caller
// did not declare stops it before any write, and it answers { NEED, key, … }. runDeclared then
// calls it again with those keys added. Each call is atomic and only the last one writes, so
// the script's decision is as atomic as before; callers pass good guesses (a cache of what the
// last call needed), so the common case is one call.

/** The first element of a script's answer when it needs keys it was not given. */
export const NEED = '__rexian_need__';

/**
 * Lua prelude: `want(k)` is true when k was declared, else notes it as missing; `need()` is the
 * answer that lists the missing keys. A script calls want() on every key it is about to touch
 * and returns need() (having written nothing) as soon as one is missing.
 */
export const DECLARED_KEYS_LUA = `
local declared, missing, noted = {}, {}, {}
for i = 1, #KEYS do declared[KEYS[i]] = true end
local function want(k)
  if declared[k] then return true end
  if not noted[k] then noted[k] = true; missing[#missing + 1] = k end
  return false
end
local function need()
  local r = { '${NEED}' }
  for i = 1, #missing do r[#r + 1] = missing[i] end
  return r
end
`;

/** The keys a script's answer says it needs, or undefined when it is a real answer. */
export function neededKeys(reply: unknown): string[] | undefined {
  if (!Array.isArray(reply) || reply[0] !== NEED) return undefined;
  return reply.slice(1).map(String);
}

/** Keys in first-seen order, each once. */
export function uniqueKeys(...groups: Iterable<string>[]): string[] {
  const seen = new Set<string>();
  for (const g of groups) for (const k of g) seen.add(k);
  return [...seen];
}

/** A script ran out of attempts: what it needed kept changing under it. */
export class KeysKeptChanging extends Error {
  constructor(
    readonly script: string,
    readonly attempts: number,
  ) {
    super(`Redis script ${script}: the keys it needs changed on each of ${attempts} attempts`);
  }
}

/**
 * Runs a script with the given keys; while it answers NEED, again with the keys it asked for
 * added. `expand` may add keys that follow from one asked for (an agent's ready sets from its
 * hash). Returns the real answer and every key the last call declared (for the caller's cache).
 */
export async function runDeclared(
  script: string,
  keys: Iterable<string>,
  run: (keys: string[]) => Promise<unknown>,
  options: { expand?: (key: string) => Iterable<string>; attempts?: number } = {},
): Promise<{ reply: unknown; keys: string[]; attempts: number }> {
  // Duplicates are harmless (the script keeps a set): the first call sends the keys as given.
  let declared = [...keys];
  const attempts = options.attempts ?? 8;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const reply = await run(declared);
    const needed = neededKeys(reply);
    if (!needed) return { reply, keys: declared, attempts: attempt };
    const more = needed.flatMap((k) => [k, ...(options.expand?.(k) ?? [])]);
    const next = uniqueKeys(declared, more);
    // A script that asks for nothing new would ask forever: a bug in the script, said at once.
    if (next.length === new Set(declared).size)
      throw new Error(`Redis script ${script} asked again for keys it was given`);
    declared = next;
  }
  throw new KeysKeptChanging(script, attempts);
}
