// What PostgreSQL refuses in any text, and what a call record may still carry from outside
// (an http node's answer, a caller name): NUL characters (text and jsonb cannot hold
// U+0000) and lone UTF-16 surrogates (not valid UTF-8). They are repaired everywhere in a
// record, keys of JSON objects included, before it is written: the call is kept, the
// stray character is not. No column of call_records has a length limit (all text), so
// nothing is cut; a number out of its column's range is not guessed at (the record goes
// to the dead letters instead, see outbox.ts).

export interface Sanitized<T> {
  value: T;
  /** Paths of what was repaired (for the log), e.g. ["digits.answer", "events[3].text"]. */
  repaired: string[];
}

function cleanString(s: string): string {
  // A high surrogate not followed by a low one, or a low one not preceded by a high one.
  return (
    s
      // eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL refuses in text
      .replace(/\u0000/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
  );
}

function clean(value: unknown, path: string, repaired: string[]): unknown {
  if (typeof value === 'string') {
    const fixed = cleanString(value);
    if (fixed !== value) repaired.push(path || '(value)');
    return fixed;
  }
  if (Array.isArray(value)) return value.map((v, i) => clean(v, `${path}[${i}]`, repaired));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = cleanString(k);
      const at = path ? `${path}.${key}` : key;
      if (key !== k) repaired.push(`${at} (key)`);
      out[key] = clean(v, at, repaired);
    }
    return out;
  }
  return value;
}

export function sanitizeRecord<T>(record: T): Sanitized<T> {
  const repaired: string[] = [];
  return { value: clean(record, '', repaired) as T, repaired };
}
