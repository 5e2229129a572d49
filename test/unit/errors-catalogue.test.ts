// The error catalogue (src/errors/index.ts) and its documentation (docs/errors.md) stay in
// step, as fastify's test/internals/errors.test.js keeps lib/errors.js and its Errors.md:
// every code is documented with its status, every documented code exists, every code is used,
// and throw sites name a code of the catalogue and never a status. A failure of Asterisk
// reaches a client as 502/503, never as Asterisk's own 404.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import Fastify from 'fastify';
import t from 'tap';

import { registerErrorHandler } from '../../src/api/errors.js';
import { isNotFound } from '../../src/asterisk/ari.js';
import { AriError, type ErrorCode, ERRORS, RexianError } from '../../src/errors/index.js';

const root = join(import.meta.dirname, '..', '..');
const docs = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
const codes = Object.keys(ERRORS) as ErrorCode[];

function sources(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [{ file: path.slice(root.length + 1), text: readFileSync(path, 'utf8') }] : [];
  });
}
const src = sources(join(root, 'src'));

/** Each `new RexianError(...)` of the tree, with its arguments split at the top level. */
function throwSites(): Array<{ file: string; line: number; args: string[] }> {
  const sites: Array<{ file: string; line: number; args: string[] }> = [];
  for (const { file, text } of src) {
    if (file === join('src', 'errors', 'index.ts')) continue;
    for (const match of text.matchAll(/new RexianError\(/g)) {
      const args: string[] = [];
      let depth = 0;
      let quote = '';
      let current = '';
      for (let i = match.index + match[0].length; i < text.length; i++) {
        const ch = text[i]!;
        if (quote) {
          current += ch;
          if (ch === '\\') {
            current += text[++i];
            continue;
          }
          if (ch === quote) quote = '';
          continue;
        }
        if (ch === "'" || ch === '"' || ch === '`') {
          quote = ch;
          current += ch;
          continue;
        }
        if ('([{'.includes(ch)) depth++;
        if (')]}'.includes(ch)) {
          if (depth === 0) {
            args.push(current.trim());
            break;
          }
          depth--;
        }
        if (ch === ',' && depth === 0) {
          args.push(current.trim());
          current = '';
          continue;
        }
        current += ch;
      }
      sites.push({ file, line: text.slice(0, match.index).split('\n').length, args: args.filter((a) => a !== '') });
    }
  }
  return sites;
}

t.test('every code of the catalogue is documented in docs/errors.md with its status', async (t) => {
  for (const code of codes) {
    const row = docs.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    t.ok(row, `${code} has a row`);
    t.equal(row?.split('|')[2]?.trim(), String(ERRORS[code].status), `${code}: documented status`);
  }
});

t.test('every code documented in docs/errors.md exists in the catalogue', async (t) => {
  const documented = [...docs.matchAll(/^\| `(REXIAN_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
  t.ok(documented.length >= codes.length, 'the tables list the codes');
  for (const code of documented) t.ok(code in ERRORS, `${code} is in the catalogue`);
  t.equal(new Set(documented).size, documented.length, 'each code is documented once');
});

t.test('every code of the catalogue is used somewhere in src (unused codes go)', async (t) => {
  const elsewhere = src
    .filter((s) => s.file !== join('src', 'errors', 'index.ts'))
    .map((s) => s.text)
    .join('\n');
  for (const code of codes) t.ok(elsewhere.includes(`'${code}'`), `${code} is used`);
});

t.test('every throw site names a code of the catalogue and passes no status', async (t) => {
  const sites = throwSites();
  t.ok(sites.length > 80, `found the throw sites (${sites.length})`);
  for (const { file, line, args } of sites) {
    const where = `${file}:${line}`;
    const code = /^'(REXIAN_[A-Z_]+)'$/.exec(args[0] ?? '')?.[1];
    if (code) t.ok(code in ERRORS, `${where}: ${code} is in the catalogue`);
    else t.match(args[0], /^code$/, `${where}: the code is a literal (or the typed parameter "code")`);
    t.ok(args.length <= 3, `${where}: code, details and at most the words`);
    for (const arg of args.slice(1)) t.notMatch(arg, /^\d{3}$|status/i, `${where}: no status argument`);
  }
});

t.test('flow issue codes and other code literals of src are in the catalogue', async (t) => {
  for (const { file, text } of src) {
    for (const m of text.matchAll(/(?:code: |issue\([^,]+, |fileIssue\([^,]+, )'(REXIAN_[A-Z_]+)'/g)) {
      t.ok(m[1]! in ERRORS, `${file}: ${m[1]}`);
    }
  }
});

t.test('a code decides the status and builds the message from the data; the wire shape is kept', async (t) => {
  const err = new RexianError('REXIAN_UNKNOWN_AGENT', { agentId: 'x9' });
  t.equal(err.statusCode, 404);
  t.equal(err.message, 'REXIAN_UNKNOWN_AGENT: no agent "x9" in the roster');
  t.same(err.toJSON(), {
    error: { code: 'REXIAN_UNKNOWN_AGENT', message: 'no agent "x9" in the roster', details: { agentId: 'x9' } },
  });
  const locked = new RexianError('REXIAN_SIGN_IN_LOCKED', { retryAfterSeconds: 120 });
  t.equal(locked.statusCode, 429);
  t.equal(locked.toJSON().error.message, 'too many failed sign-ins: try again in 2 min');
  const worded = new RexianError('REXIAN_CALL_STATE', { callId: 'c1' }, 'call c1 has no consultation under way');
  t.same([worded.statusCode, worded.toJSON().error.message], [409, 'call c1 has no consultation under way']);
});

t.test("Asterisk's own 404 reaches a client as REXIAN_ASTERISK_FAILED 502, no answer as 503", async (t) => {
  const app = Fastify({ logger: false });
  registerErrorHandler(app);
  app.get('/gone', async () => {
    throw new AriError('POST', '/channels/c1/hold', 404, 'Channel not found');
  });
  app.get('/down', async () => {
    throw new AriError('GET', '/channels', 0, 'fetch failed');
  });
  t.teardown(() => app.close());

  const gone = await app.inject({ method: 'GET', url: '/gone' });
  t.equal(gone.statusCode, 502, "not Asterisk's 404");
  t.same(gone.json(), {
    error: {
      code: 'REXIAN_ASTERISK_FAILED',
      message: 'POST /channels/c1/hold answered 404: Channel not found',
      details: { method: 'POST', path: '/channels/c1/hold', status: 404 },
    },
  });
  const down = await app.inject({ method: 'GET', url: '/down' });
  t.equal(down.statusCode, 503);
  t.match(down.json(), {
    error: { code: 'REXIAN_ASTERISK_UNAVAILABLE', message: 'GET /channels: fetch failed', details: { status: 0 } },
  });
});

t.test('a domain that expects a 404 of Asterisk (a channel already gone) still sees it', async (t) => {
  const err = new AriError('DELETE', '/channels/c1', 404, 'Channel not found');
  t.ok(isNotFound(err), 'isNotFound');
  t.equal(err.asteriskStatus, 404);
  t.notOk(isNotFound(new AriError('DELETE', '/channels/c1', 500, 'boom')));
  t.notOk(isNotFound(new RexianError('REXIAN_NOT_FOUND', {}, 'no such thing')), "our own 404 is not Asterisk's");
});
