// Random and truncated flow files must never crash loading or linting: an editor saving a
// half-written file at night must get errors, not a dead controller.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pino } from 'pino';
import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { lintFlows } from '../../src/ivr/lint.js';
import { type LoadedFlow, parseFlow } from '../../src/ivr/loader.js';
import { FlowRegistry } from '../../src/ivr/registry.js';
import { lintContext } from '../helpers/flows.js';
import { scratchDir } from '../helpers/scratch.js';

// A small seeded generator, so a failure can be replayed.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const shipped = readdirSync(join(repoRoot, 'ivr-flows'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(join(repoRoot, 'ivr-flows', f), 'utf8'));
const alphabet = [
  '\n',
  ' ',
  ':',
  '-',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  'type',
  'menu',
  'next',
  'nodes',
  'start',
  '\t',
  '\u0000',
  '请按1',
  '0',
  '1',
];

function mutate(text: string, random: () => number): string {
  const choice = random();
  const at = Math.floor(random() * text.length);
  if (choice < 0.35) return text.slice(0, at); // truncated save
  if (choice < 0.6) return text.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + text.slice(at + 1);
  if (choice < 0.8) return text.slice(0, at) + text.slice(at + Math.floor(random() * 40));
  return Array.from(
    { length: 1 + Math.floor(random() * 60) },
    () => alphabet[Math.floor(random() * alphabet.length)],
  ).join('');
}

t.test('2,000 mutated and truncated flow files load or fail with issues, never throw', async (t) => {
  const random = rng(20261122);
  let rejected = 0;
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const source = mutate(shipped[i % shipped.length]!, random);
    let loaded: LoadedFlow | undefined;
    try {
      const result = parseFlow(`fuzz-${i}.yaml`, source);
      loaded = result.loaded;
      if (!loaded) {
        rejected++;
        for (const issue of result.issues)
          if (!(issue.line >= 1 && issue.col >= 1 && issue.message))
            throw new Error(`issue without position: ${JSON.stringify(issue)}`);
      }
      if (loaded) {
        lintFlows([loaded], lintContext);
        accepted++;
      }
    } catch (err) {
      t.fail(`case ${i} threw: ${(err as Error).stack}\n--- input ---\n${JSON.stringify(source)}`);
      return;
    }
  }
  t.ok(rejected > 1000, `most mutations are rejected with positioned issues (${rejected})`);
  t.ok(accepted > 0, `some still load and lint (${accepted})`);
});

t.test('the service keeps its flows while a directory fills with garbage, and serves the good ones', async (t) => {
  const dir = scratchDir('fuzz-flows');
  cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
  const registry = new FlowRegistry(
    {
      flowsDir: dir,
      queuesFile: join(repoRoot, 'sip-config/queues.yaml'),
      promptCatalog: join(repoRoot, 'prompts/catalog.yaml'),
      recordedDir: join(repoRoot, 'prompts/recorded'),
    },
    pino({ level: 'silent' }),
  );
  registry.reload();
  const version = registry.forNumber('12345')?.version;
  t.ok(version, 'the shipped main flow serves');
  const random = rng(7);
  const main = readFileSync(join(dir, 'main-12345.yaml'), 'utf8');
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(dir, 'main-12345.yaml'), mutate(main, random));
    writeFileSync(join(dir, `junk-${i % 5}.yaml`), mutate(shipped[i % shipped.length]!, random));
    registry.reload();
    const serving = registry.forNumber('12345');
    if (!serving) {
      t.fail(`round ${i}: 12345 lost its flow`);
      return;
    }
  }
  writeFileSync(join(dir, 'main-12345.yaml'), main);
  registry.reload();
  t.equal(registry.forNumber('12345')?.version, version, 'restoring the file restores the version');
});
