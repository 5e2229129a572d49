import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { preparePrompt } from '../../src/ivr/prompts.js';
import { scratchDir } from '../helpers/scratch.js';

function soxi(file: string, flag: string): string {
  return execFileSync('soxi', [flag, file], { encoding: 'utf8' }).trim();
}

t.test('a text prompt is synthesized once to 8 kHz mono WAV, named by its content', async (t) => {
  const dir = scratchDir('prompts');
  const paths = { dir, asteriskDir: '/srv/asterisk-view', recordedDir: join(dir, 'recorded') };
  const media = await preparePrompt(paths, 'welcome', '您好，欢迎致电12345。');
  t.match(
    media,
    /^\/srv\/asterisk-view\/tts-[0-9a-f]{16}$/,
    'the path is given as Asterisk sees it, without extension',
  );
  const file = join(dir, `${media.split('/').pop()}.wav`);
  t.ok(existsSync(file));
  t.equal(soxi(file, '-r'), '8000');
  t.equal(soxi(file, '-c'), '1');
  t.ok(Number(soxi(file, '-D')) > 1, 'it has speech in it');
  t.equal(
    await preparePrompt(paths, 'welcome', '您好，欢迎致电12345。'),
    media,
    'the same text reuses the cached file',
  );
  t.not(await preparePrompt(paths, 'welcome', '您好，欢迎致电12315。'), media, 'a changed text gets a new file');
  t.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp.wav')).length, 0, 'no temporary file is left');
});

t.test('a recorded file with the prompt name overrides the text and is converted to 8 kHz', async (t) => {
  const dir = scratchDir('prompts');
  const recordedDir = scratchDir('recorded');
  execFileSync('sox', [
    '-n',
    '-r',
    '16000',
    '-c',
    '2',
    join(recordedDir, 'welcome.wav'),
    'synth',
    '1.5',
    'sine',
    '440',
  ]);
  const media = await preparePrompt({ dir, asteriskDir: '/p', recordedDir }, 'welcome', 'ignored text');
  t.match(media, /^\/p\/rec-welcome-[0-9a-f]{16}$/);
  const file = join(dir, `${media.split('/').pop()}.wav`);
  t.equal(soxi(file, '-r'), '8000');
  t.equal(soxi(file, '-c'), '1');
  t.ok(Math.abs(Number(soxi(file, '-D')) - 1.5) < 0.05, 'the recording itself, not speech');
});
