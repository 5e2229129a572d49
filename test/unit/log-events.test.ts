// The log events (src/events/log-events.ts) stay a contract: each name is unique, follows
// `<domain>.<what happened>`, and is put on a log line by at least one `event: LogEvent.…` in
// src/ (a name no line carries would let a test or an operator's query wait for nothing). And
// the integration and browser tests key on `event`, never on a log line's free-text message.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string, ext = '.ts'): Array<{ file: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path, ext);
    return path.endsWith(ext) ? [{ file: path.slice(root.length + 1), text: readFileSync(path, 'utf8') }] : [];
  });
}

const catalogue = join('src', 'events', 'log-events.ts');
const src = sources(join(root, 'src')).filter((s) => s.file !== catalogue);
const entries = Object.entries(LogEvent);
const DOMAINS = new Set([
  'call',
  'acd',
  'edge',
  'ivr',
  'masking',
  'dialer',
  'records',
  'recording',
  'supervision',
  'alerts',
  'ha',
  'api',
  'desk-phone',
  'controller',
  'ari',
  'ami',
  'redis',
]);

/** The catalogue keys each `event:` field of src/ names (`event: a ? LogEvent.x : LogEvent.y` names both). */
function usedKeys(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const { file, text } of src)
    for (const field of text.matchAll(/\bevent:\s*([^,}\n]*)/g))
      for (const ref of field[1]!.matchAll(/\bLogEvent\.(\w+)/g))
        used.set(ref[1]!, [...(used.get(ref[1]!) ?? []), file]);
  return used;
}

t.test('every log event name is unique and reads <domain>.<what happened>', async (t) => {
  const seen = new Map<string, string>();
  for (const [key, name] of entries) {
    t.notOk(seen.has(name), `${key}: "${name}" is also ${seen.get(name) ?? ''}`);
    seen.set(name, key);
    t.match(name, /^[a-z-]+\.[a-z-]+$/, `${key}: "${name}" is <domain>.<kebab-case>`);
    t.ok(DOMAINS.has(name.split('.')[0]!), `${key}: "${name}" is in a known domain`);
  }
  t.ok(entries.length >= 30, `the catalogue holds the events tests wait on (${entries.length})`);
});

t.test('every log event is put on a log line somewhere in src/', async (t) => {
  const used = usedKeys();
  for (const [key, name] of entries) t.ok(used.has(key), `LogEvent.${key} ("${name}") is used by an event: field`);
  for (const key of used.keys()) t.ok(key in LogEvent, `LogEvent.${key} used in ${used.get(key)!.join(', ')} exists`);
});

t.test('integration and browser tests wait on events, not on log messages', async (t) => {
  const tests = [
    ...sources(join(root, 'test', 'integration')),
    ...sources(join(root, 'test', 'browser')),
    ...sources(join(root, 'test', 'helpers')),
  ];
  t.ok(tests.length > 20, 'the tests were read');
  const offending: string[] = [];
  for (const { file, text } of tests)
    text.split('\n').forEach((line, i) => {
      // Listing the messages of unexpected error lines in an assertion's text reads msg, matches nothing.
      const reported = line.replace(/\.map\(\((\w+)\) => \1\.msg\)/g, '');
      if (/\b\w+\.msg\b/.test(reported) || /\bwaitForLog\(/.test(line))
        offending.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  t.same(offending, [], 'no test matches on .msg or calls waitForLog');
});
