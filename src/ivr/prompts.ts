// Prompts: text is synthesized once with espeak-ng (Mandarin) and converted to the 8 kHz
// mono WAV Asterisk plays natively; a recorded file of the same name overrides the text.
// Files are named by a hash of what made them, so a changed text or recording never
// collides with a file a live call may still be playing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

import { RexianError } from '../errors/index.js';
import type { PromptRef } from './flow-schema.js';

const run = promisify(execFile);
const VOICE = 'cmn';

export interface PromptPaths {
  /** Where prompt files are written, as this process sees it. */
  dir: string;
  /** The same directory as Asterisk sees it (it may run in a chroot or another host). */
  asteriskDir: string;
  /** Recorded overrides: <name>.wav. */
  recordedDir: string;
}

export type PromptCatalog = Record<string, string>;

export function loadPromptCatalog(file: string): PromptCatalog {
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RexianError('REXIAN_PROMPTS_INVALID', { file }, `${file}: the prompt catalogue must map names to texts`);
  }
  const catalog: PromptCatalog = {};
  for (const [name, text] of Object.entries(parsed)) {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new RexianError(
        'REXIAN_PROMPTS_INVALID',
        { file, name },
        `${file}: prompt "${name}" must be a non-empty text`,
      );
    }
    catalog[name] = text;
  }
  return catalog;
}

/**
 * Makes sure a prompt file exists and returns the media path Asterisk plays it by
 * (absolute, without extension, as `sound:` and Playback() expect).
 */
export async function preparePrompt(paths: PromptPaths, name: string | undefined, text: string): Promise<string> {
  mkdirSync(paths.dir, { recursive: true });
  const recorded = name ? join(paths.recordedDir, `${name}.wav`) : undefined;
  if (recorded && existsSync(recorded)) {
    const digest = sha(readFileSync(recorded)).slice(0, 16);
    const base = `rec-${safe(name!)}-${digest}`;
    await produce(join(paths.dir, `${base}.wav`), (tmp) => toTelephoneWav(recorded, tmp));
    return join(paths.asteriskDir, base);
  }
  const base = `tts-${sha(`${VOICE}\n${text}`).slice(0, 16)}`;
  await produce(join(paths.dir, `${base}.wav`), async (tmp) => {
    const raw = `${tmp}.raw.wav`;
    try {
      await run('espeak-ng', ['-v', VOICE, '-w', raw, text]);
      await toTelephoneWav(raw, tmp);
    } finally {
      rmSync(raw, { force: true });
    }
  });
  return join(paths.asteriskDir, base);
}

/** Prepares every prompt of a catalogue; returns name → Asterisk media path. */
export async function prepareCatalog(paths: PromptPaths, catalog: PromptCatalog): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  for (const [name, text] of Object.entries(catalog)) resolved.set(name, await preparePrompt(paths, name, text));
  return resolved;
}

async function produce(target: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(target)) return;
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp.wav`;
  try {
    await make(tmp);
    renameSync(tmp, target); // atomic: Asterisk never opens a half-written file
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const hint = e.code === 'ENOENT' ? ' (is espeak-ng and sox installed? apt-get install espeak-ng sox)' : '';
    throw new RexianError('REXIAN_PROMPT_SYNTHESIS', { target }, `${e.stderr?.trim() || e.message}${hint}`);
  }
}

async function toTelephoneWav(input: string, output: string): Promise<void> {
  // 8 kHz, mono, 16-bit: what format_wav plays without transcoding. -G guards against clipping.
  await run('sox', ['-G', input, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', output]);
}

function sha(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Turns prompt references into media paths Asterisk can play, synthesizing on first use. */
export class PromptResolver {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(
    private readonly paths: PromptPaths,
    private readonly catalog: PromptCatalog,
  ) {}

  resolve(ref: PromptRef): Promise<string> {
    const key = typeof ref === 'string' ? `name:${ref}` : `text:${ref.text}`;
    let media = this.cache.get(key);
    if (!media) {
      media =
        typeof ref === 'string'
          ? preparePrompt(this.paths, ref, this.catalog[ref] ?? ref)
          : preparePrompt(this.paths, undefined, ref.text);
      media.catch(() => this.cache.delete(key));
      this.cache.set(key, media);
    }
    return media;
  }
}
