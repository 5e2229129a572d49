// A flow file deleted from the flows directory leaves the registry: GET /api/flows lists only
// files that exist, and a deleted flow stops answering new calls (calls already in it keep
// their version).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pino } from 'pino';
import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { FlowRegistry } from '../../src/ivr/registry.js';
import { scratchDir } from '../helpers/scratch.js';

function registryOn(dir: string): FlowRegistry {
  return new FlowRegistry(
    {
      flowsDir: dir,
      queuesFile: join(repoRoot, 'sip-config/queues.yaml'),
      promptCatalog: join(repoRoot, 'prompts/catalog.yaml'),
      recordedDir: join(repoRoot, 'prompts/recorded'),
    },
    pino({ level: 'silent' }),
  );
}

const files = (registry: FlowRegistry): string[] => registry.status().map((s) => s.file);

t.test('a rejected flow file that is deleted is no longer listed with its old errors', async (t) => {
  const dir = scratchDir('deleted-flows');
  cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
  writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nstart: a\nnodes:\n  a: { type: goto, target: nowhere }\n');
  writeFileSync(join(dir, 'garbage.yaml'), 'id: [\n');
  const registry = registryOn(dir);
  registry.reload();
  t.ok(
    registry.status().find((s) => s.file === 'broken.yaml')?.errors.length,
    'the broken file is listed with its errors',
  );
  t.ok(files(registry).includes('garbage.yaml'));

  rmSync(join(dir, 'broken.yaml'));
  rmSync(join(dir, 'garbage.yaml'));
  registry.reload();
  t.same(
    files(registry),
    ['legacy-lines.yaml', 'main-12345.yaml', 'outbound-callback.yaml', 'survey.yaml'],
    'only files that exist are listed',
  );
});

t.test(
  'a serving flow whose file is deleted stops answering new calls and leaves the list, even after a rejected edit',
  async (t) => {
    const dir = scratchDir('deleted-serving');
    cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
    const registry = registryOn(dir);
    registry.reload();
    const served = registry.forNumber('12315');
    t.ok(served, 'legacy-lines answers 12315');
    // An edit that is rejected: the last good version keeps serving, and the errors are listed.
    writeFileSync(join(dir, 'legacy-lines.yaml'), 'id: legacy-lines\nstart: [\n');
    registry.reload();
    t.equal(registry.forNumber('12315')?.version, served!.version);
    t.ok(registry.status().find((s) => s.file === 'legacy-lines.yaml')?.errors.length);

    rmSync(join(dir, 'legacy-lines.yaml'));
    registry.reload();
    t.notOk(registry.forNumber('12315'), 'a deleted flow answers no new call');
    t.notOk(files(registry).includes('legacy-lines.yaml'), 'and is not listed');
    t.ok(await registry.version(served!.id, served!.version), 'a call already in it keeps its version');
    t.ok(registry.forNumber('12345'), 'the other flows are untouched');
  },
);
