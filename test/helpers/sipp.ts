// Runs SIPp as a real SIP peer and reads back what it saw: exit status, call statistics
// and the SIP messages it exchanged, with their timestamps.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { repoRoot } from '../../src/asterisk/instance.js';
import { dtmfPcap } from './dtmf-pcap.js';
import { scratchDir } from './scratch.js';

export interface SippOptions {
  scenario: string;
  /** Where to send (UAC); omit for a UAS. */
  remote?: string;
  service?: string;
  localPort: number;
  mediaPort: number;
  keys?: Record<string, string>;
  calls?: number;
  timeoutSec?: number;
  /** More SIPp arguments, e.g. ['-d', '1500'] for the default pause. */
  extraArgs?: string[];
}

export interface SippResult {
  exitCode: number | null;
  successful: number;
  failed: number;
  messages: Array<{ at: number; direction: 'sent' | 'received'; text: string }>;
  errors: string;
}

export interface RunningSipp {
  done: Promise<SippResult>;
  kill(): void;
}

export function runSipp(options: SippOptions): RunningSipp {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-sipp-'));
  const args = [
    ...(options.remote ? [options.remote] : []),
    '-sf',
    isAbsolute(options.scenario) ? options.scenario : join(repoRoot, 'test/sipp', options.scenario),
    '-i',
    '127.0.0.1',
    '-p',
    String(options.localPort),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(options.mediaPort),
    '-m',
    String(options.calls ?? 1),
    '-nostdin',
    '-timeout',
    `${options.timeoutSec ?? 60}s`,
    '-timeout_error',
    '-trace_msg',
    '-message_file',
    join(dir, 'messages.log'),
    '-trace_stat',
    '-stf',
    join(dir, 'stats.csv'),
    '-trace_err',
    '-error_file',
    join(dir, 'errors.log'),
    ...(options.service ? ['-s', options.service] : []),
    ...Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<SippResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve({
          exitCode: code,
          ...readStats(join(dir, 'stats.csv')),
          messages: readMessages(join(dir, 'messages.log')),
          errors: readIf(join(dir, 'errors.log')) + stderr,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function readStats(file: string): { successful: number; failed: number } {
  const lines = readIf(file).trim().split('\n').filter(Boolean);
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => Number(last[header.indexOf(name)] ?? 0);
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

function readMessages(file: string): SippResult['messages'] {
  // Blocks start with "----- <date time>" then "UDP message sent|received ...".
  const out: SippResult['messages'] = [];
  const blocks = readIf(file)
    .split(/^-{10,}\s*/m)
    .filter((b) => b.trim());
  for (const block of blocks) {
    const m = /^(\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(block);
    const direction = /message sent/.test(block) ? 'sent' : /message received/.test(block) ? 'received' : undefined;
    if (!m || !direction) continue;
    out.push({ at: Date.parse(m[1]!.replace(/\s+/, 'T') + 'Z') || 0, direction, text: block });
  }
  return out;
}

/** The first line of a SIP message: "INVITE sip:…", "SIP/2.0 200 OK". */
export function startLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  return lines.find((l) => /^(SIP\/2\.0 \d{3}|[A-Z]+ sip:)/.test(l)) ?? '';
}

export type CitizenStep = { pauseMs: number } | { key: string } | { pcap: string };

/**
 * Writes a SIPp scenario for a citizen who dials, then presses keys (RFC 2833, from the
 * pcaps SIPp ships) and pauses as told, then hangs up, or waits for the hotline to hang up.
 */
export function citizenScenario(steps: CitizenStep[], end: { hangUpAfterMs: number } | 'wait-for-bye'): string {
  const base = readFileSync(join(repoRoot, 'test/sipp/citizen-waits-for-bye.xml'), 'utf8');
  const head = base.slice(0, base.indexOf('  <recv request="BYE"/>'));
  const tail = base.slice(base.indexOf('  <recv request="BYE"/>'));
  let presses = 0;
  const body = steps
    .map((s) =>
      'key' in s
        ? `  <nop><action><exec play_pcap_audio="${dtmfPcap(s.key, presses++)}"/></action></nop>\n  <pause milliseconds="300"/>\n`
        : 'pcap' in s
          ? `  <nop><action><exec play_pcap_audio="${s.pcap}"/></action></nop>\n` // plays on while the call goes on
          : `  <pause milliseconds="${s.pauseMs}"/>\n`,
    )
    .join('');
  const finish =
    end === 'wait-for-bye'
      ? tail
      : `  <pause milliseconds="${end.hangUpAfterMs}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`;
  const file = join(scratchDir('scenario'), 'citizen.xml');
  writeFileSync(file, head + body + finish);
  return file;
}

/** A SIPp citizen dialling a lab's Asterisk from the lab's first SIPp port. */
export function dialCitizen(
  lab: { ports: { sip: number; sipp: number; sippMedia: number } },
  options: { scenario: string; caller: string; service?: string; timeoutSec?: number },
): RunningSipp {
  return runSipp({
    scenario: options.scenario,
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: options.service ?? '12345',
    localPort: lab.ports.sipp,
    mediaPort: lab.ports.sippMedia,
    keys: { caller: options.caller },
    timeoutSec: options.timeoutSec ?? 60,
  });
}
