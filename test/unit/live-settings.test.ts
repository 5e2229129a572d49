// The domains' live files (acd/settings.ts, masking/settings.ts): refused at start when broken,
// and on reload parsed first and applied only by the returned change, so server.ts can apply
// every domain's edit or none.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { AcdSettings } from '../../src/acd/settings.js';
import { MaskingSettings } from '../../src/masking/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'rexian-settings-'));
const files = {
  queues: join(dir, 'queues.yaml'),
  roster: join(dir, 'agents.yaml'),
  windows: join(dir, 'windows.yaml'),
};
copyFileSync('sip-config/queues.yaml', files.queues);
copyFileSync('sip-config/agents.yaml', files.roster);
copyFileSync('sip-config/windows.yaml', files.windows);
const poolFile = join(dir, 'virtual-numbers.yaml');
copyFileSync('sip-config/virtual-numbers.yaml', poolFile);

t.test('a broken queues file is refused with where, and the settings in use stay', async (t) => {
  const settings = new AcdSettings(files);
  const before = settings.queues;
  const good = readFileSync(files.queues, 'utf8');
  writeFileSync(files.queues, `${good}\n  - id: [unclosed\n`);
  t.throws(() => settings.prepareReload(), /queues\.yaml:\d+:\d+/, 'the error names file:line:col');
  t.equal(settings.queues, before, 'nothing applied');
  t.throws(() => new AcdSettings(files), /queues\.yaml/, 'and a start with it is refused');
  writeFileSync(files.queues, good);
});

t.test('a good edit parses at once but applies only when its change runs', async (t) => {
  const settings = new AcdSettings(files);
  const before = settings.queues;
  const apply = settings.prepareReload();
  t.equal(settings.queues, before, 'parsed, not applied yet');
  apply();
  t.not(settings.queues, before, 'applied');
  t.same([...settings.queues.queues.keys()], [...before.queues.keys()]);
});

t.test("API agents merge with the file's, and survive a reload of the file", async (t) => {
  const settings = new AcdSettings(files);
  const fileIds = [...settings.fileRoster.agents.keys()];
  const first = settings.fileRoster.agents.get(fileIds[0]!)!;
  settings.setApiAgents([{ ...first, id: 'api-seat-1' }]);
  t.ok(settings.roster.agents.has('api-seat-1'));
  t.notOk(settings.fileRoster.agents.has('api-seat-1'), 'the file roster is only the file');
  settings.prepareReload()();
  t.ok(settings.roster.agents.has('api-seat-1'), 'still merged after the reload');
  t.equal(settings.apiAgents.length, 1);
});

t.test('the virtual-number pool: a broken edit keeps the numbers in service', async (t) => {
  const settings = new MaskingSettings(poolFile);
  const numbers = settings.pool.numbers;
  t.ok(numbers.length > 0);
  t.ok(settings.isVirtual(numbers[0]!));
  const good = readFileSync(poolFile, 'utf8');
  writeFileSync(poolFile, 'numbers: 12\n');
  t.throws(() => settings.prepareReload(), /virtual-numbers\.yaml/);
  t.same(settings.pool.numbers, numbers);
  writeFileSync(poolFile, good);
  settings.prepareReload()();
  t.same(settings.pool.numbers, numbers);
});
