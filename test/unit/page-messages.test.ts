// The pages' messages (web/shared/i18n/): every string is in both languages, so switching to
// English never shows a key or a Chinese sentence, and the reverse. Each pair of files is
// compared key by key, leaves included (an empty string is a missing one).
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';

// Loaded by path: the pages' files are built by Vite (extensionless imports), not by tsc.
const load = async (file: string): Promise<unknown> =>
  ((await import(join(repoRoot, 'web/shared/i18n', file))) as { default: unknown }).default;

/** Every leaf's dotted key; an empty leaf is left out, so it counts as missing. */
function leaves(messages: unknown, prefix = ''): string[] {
  if (typeof messages !== 'object' || messages === null)
    return typeof messages === 'string' && messages.trim() === '' ? [] : [prefix];
  return Object.entries(messages).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const pairs: Array<[string, string]> = [
  ['shared', ''],
  ['agent day', 'day.'],
  ['supervisor', 'supervisor.'],
  ['ops', 'ops.'],
];

for (const [name, file] of pairs) {
  t.test(`${name}: the same strings in zh-CN and en`, async (t) => {
    const zh = await load(`${file}zh-CN.ts`);
    const english = await load(`${file}en.ts`);
    const a = new Set(leaves(zh));
    const b = new Set(leaves(english));
    t.ok(a.size > 10, `${name} has strings (${a.size})`);
    t.same(
      [...a].filter((k) => !b.has(k)),
      [],
      'in zh-CN, missing in en',
    );
    t.same(
      [...b].filter((k) => !a.has(k)),
      [],
      'in en, missing in zh-CN',
    );
  });
}
