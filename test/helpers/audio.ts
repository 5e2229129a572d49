// What a party heard, proved with sound: Asterisk records the audio going to a channel
// (an ARI snoop, spy "out"); a tone injected as if spoken by another party (a snoop,
// whisper "in", playing tone:F) is then looked for with a Goertzel filter.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { WebSocket } from 'ws';

import { repoRoot } from '../../src/asterisk/instance.js';
import type { Lab } from './lab.js';
import { sleep, until } from './lab.js';
import { scratchDir } from './scratch.js';

/** Reads an 8 kHz, 16-bit mono WAV (what Asterisk writes for format=wav). */
/** Where a WAV's data chunk starts and how many bytes its header says it holds. */
function dataChunk(buf: Buffer, file: string): { start: number; size: number } {
  let offset = 12;
  while (offset < buf.length - 8) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'data') return { start: offset + 8, size };
    offset += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** A WAV's 16-bit samples. */
export function readWav(file: string): Int16Array {
  const buf = readFileSync(file);
  const { start, size } = dataChunk(buf, file);
  return new Int16Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + (size & ~1)));
}

/**
 * A WAV's samples once its writer has closed it, else undefined. Asterisk writes the header's
 * sizes only on close: until then the data chunk says it holds nothing.
 */
export function finishedWav(file: string): Int16Array | undefined {
  const buf = readFileSync(file);
  if (buf.length < 44) return undefined;
  const { start, size } = dataChunk(buf, file);
  return size > 0 && start + size <= buf.length ? readWav(file) : undefined;
}

export interface ToneReport {
  /** Share of 100 ms windows in which the tone carries a quarter or more of the energy (two voices may mix). */
  toneWindows: number;
  /** Root mean square level of the whole recording (0–32767). */
  rms: number;
  windows: number;
}

export function toneReport(samples: Int16Array, frequency: number, rate = 8000): ToneReport {
  const n = rate / 10;
  // The frequency itself, not the nearest bin: 1004 Hz sits between 100 ms bins.
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let toneWindows = 0;
  let windows = 0;
  let total = 0;
  for (let start = 0; start + n <= samples.length; start += n) {
    let s1 = 0;
    let s2 = 0;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const x = samples[start + i]!;
      energy += x * x;
      const s0 = x + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    total += energy;
    windows++;
    // Goertzel power relative to the window's energy: near 1 for a pure tone.
    const power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((n / 2) * Math.max(energy, 1));
    if (energy > n * 100 * 100 && power > 0.25) toneWindows++;
  }
  return {
    toneWindows: windows ? toneWindows / windows : 0,
    rms: Math.sqrt(total / Math.max(1, samples.length)),
    windows,
  };
}

export interface ProbeApp {
  app: string;
  /** Channels that have entered the probe app (StasisStart seen). */
  started: Set<string>;
  close(): void;
}

/** A test-side ARI app, so snoop channels have somewhere to live. */
export async function testApp(lab: Lab, app = 'rexian-probe'): Promise<ProbeApp> {
  const url = `${lab.asterisk.ariUrl.replace('http', 'ws')}/ari/events?app=${app}&api_key=${encodeURIComponent(`${lab.env.REXIAN_ARI_USERNAME}:${lab.env.REXIAN_ARI_PASSWORD}`)}`;
  const ws = new WebSocket(url);
  const started = new Set<string>();
  ws.on('message', (data) => {
    const event = JSON.parse(String(data)) as { type: string; channel?: { id: string } };
    if (event.type === 'StasisStart' && event.channel) started.add(event.channel.id);
  });
  await new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  return { app, started, close: () => ws.close() };
}

/**
 * Records for `ms` what the channel hears, while `during` may inject sound; returns the
 * recording's tone report for `frequency`.
 */
export async function listen(
  lab: Lab,
  probe: ProbeApp,
  channelId: string,
  name: string,
  ms: number,
  frequency: number,
): Promise<ToneReport> {
  const snoopId = `${name}-ear`;
  await lab.ariPost(`/channels/${channelId}/snoop/${snoopId}?app=${probe.app}&spy=out`);
  // Media operations need the channel in the app first.
  await until(`${snoopId} in the probe app`, () => probe.started.has(snoopId), 5_000, 20);
  await lab.ariPost(`/channels/${snoopId}/record?name=${name}&format=wav&ifExists=overwrite`);
  await sleep(ms);
  await lab.ariPost(`/recordings/live/${name}/stop`);
  await lab.ari('DELETE', `/channels/${snoopId}`);
  const file = join(lab.asterisk.hostDir, 'spool/recording', `${name}.wav`);
  // Stopping a live recording returns before Asterisk closes the file; read before the close
  // and the recording is empty, which scores as silence.
  const samples = await until(
    `recording ${name} written`,
    () => (existsSync(file) ? finishedWav(file) : undefined),
    5_000,
  );
  return toneReport(samples, frequency);
}

/** A minute of a sine tone, made with sox where Asterisk can play it. */
function toneFile(lab: Lab, frequency: number): string {
  const name = `test-tone-${frequency}`;
  const file = join(lab.asterisk.prompts.dir, `${name}.wav`);
  if (!existsSync(file))
    execFileSync('sox', [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-b',
      '16',
      file,
      'synth',
      '60',
      'sine',
      String(frequency),
      'vol',
      '0.5',
    ]);
  return `${lab.asterisk.prompts.asteriskDir}/${name}`;
}

/** Makes a channel "say" a steady tone into the call (as if its party spoke). Returns a stop. */
export async function speakTone(
  lab: Lab,
  probe: ProbeApp,
  channelId: string,
  name: string,
  frequency: number,
): Promise<() => Promise<void>> {
  const snoopId = `${name}-mouth`;
  const media = toneFile(lab, frequency);
  await lab.ariPost(`/channels/${channelId}/snoop/${snoopId}?app=${probe.app}&whisper=in`);
  await until(`${snoopId} in the probe app`, () => probe.started.has(snoopId), 5_000, 20);
  await lab.ariPost(`/channels/${snoopId}/play/${name}-tone?media=sound:${media}`);
  return async () => {
    await lab.ari('DELETE', `/channels/${snoopId}`);
  };
}

/** G.711 A-law encoding of one 16-bit sample. */
function alaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3;
  const sign = s >= 0 ? 0x80 : 0x00;
  if (s < 0) s = -s - 1;
  let exponent = 0;
  for (let v = s >> 4; v > 1 && exponent < 7; v >>= 1) exponent++;
  const mantissa = exponent === 0 ? (s >> 1) & 0x0f : (s >> exponent) & 0x0f;
  const value = exponent === 0 ? s >> 1 : (exponent << 4) | mantissa;
  return (sign | (value & 0x7f)) ^ 0x55;
}

/**
 * A pcap of RTP (PCMA, 20 ms packets) carrying a sine tone, for SIPp's play_pcap_audio: a
 * phone that "speaks" a known frequency, so a test can tell who hears whom.
 */
export function tonePcap(frequency: number, seconds: number): string {
  const file = join(scratchDir('tone'), `tone-${frequency}.pcap`);
  const packets = Math.round(seconds * 50);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // Ethernet
  const chunks = [header];
  for (let p = 0; p < packets; p++) {
    const payload = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) payload[i] = alaw(12000 * Math.sin((2 * Math.PI * frequency * (p * 160 + i)) / 8000));
    const rtp = Buffer.alloc(12);
    rtp[0] = 0x80;
    rtp[1] = 8; // PCMA
    rtp.writeUInt16BE(p & 0xffff, 2);
    rtp.writeUInt32BE((p * 160) >>> 0, 4);
    rtp.writeUInt32BE(0x1004cafe, 8);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(6000, 0);
    udp.writeUInt16BE(6002, 2);
    udp.writeUInt16BE(8 + 12 + 160, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + 12 + 160, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.writeUInt32BE(0x7f000001, 12);
    ip.writeUInt32BE(0x7f000001, 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, udp, rtp, payload]);
    const record = Buffer.alloc(16);
    const usec = p * 20_000;
    record.writeUInt32LE(Math.floor(usec / 1e6), 0);
    record.writeUInt32LE(usec % 1e6, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    chunks.push(record, frame);
  }
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

/** An agent's phone that answers and then "speaks" a steady tone until the call ends. */
export function agentSpeakingScenario(frequency: number): string {
  const base = readFileSync(join(repoRoot, 'test/sipp/agent-answers.xml'), 'utf8');
  const pcap = tonePcap(frequency, 60);
  const scenario = base.replace(
    '  <label id="in-call"/>',
    `  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>\n  <label id="in-call"/>`,
  );
  const file = join(scratchDir('scenario'), `agent-speaking-${frequency}.xml`);
  writeFileSync(file, scenario);
  return file;
}

/** G.711 A-law to a 16-bit sample. */
function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let value = (a & 0x0f) << 4;
  value = exponent === 0 ? value + 8 : (value + 0x108) << (exponent - 1);
  return a & 0x80 ? value : -value;
}

/**
 * An ear in place of a phone's speaker: a UDP socket that receives the RTP Asterisk sends
 * to a phone. Needed where a snoop cannot tell (Asterisk's spies see a channel's audio
 * before whispers are mixed in). The phone's SDP must point here and the phone must send
 * no RTP of its own (symmetric RTP would otherwise follow its source address).
 */
export async function rtpEar(
  port: number,
): Promise<{ hear(ms: number, frequency: number): Promise<ToneReport>; close(): void }> {
  const socket = createSocket('udp4');
  let collecting: number[] | undefined;
  socket.on('message', (packet) => {
    if (!collecting || packet.length <= 12 || (packet[1]! & 0x7f) !== 8) return;
    const cc = packet[0]! & 0x0f;
    for (let i = 12 + cc * 4; i < packet.length; i++) collecting.push(alawToLinear(packet[i]!));
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    async hear(ms, frequency) {
      collecting = [];
      await sleep(ms);
      const samples = Int16Array.from(collecting);
      collecting = undefined;
      return toneReport(samples, frequency);
    },
    close: () => socket.close(),
  };
}

/** An agent's phone that answers, sends nothing, and has Asterisk send its audio to `earPort`. */
export function agentListeningScenario(earPort: number): string {
  const base = readFileSync(join(repoRoot, 'test/sipp/agent-answers.xml'), 'utf8');
  const scenario = base
    .replaceAll('m=audio [media_port] RTP/AVP 8 101', `m=audio ${earPort} RTP/AVP 8 101`)
    .replaceAll('c=IN IP[media_ip_type] [media_ip]', 'c=IN IP4 127.0.0.1');
  const file = join(scratchDir('scenario'), 'agent-listening.xml');
  writeFileSync(file, scenario);
  return file;
}
