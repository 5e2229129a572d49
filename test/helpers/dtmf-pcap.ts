// SIPp's RFC 2833 pcaps are cut from one recording: one SSRC, and sequence numbers rising
// from key 0 to key 9. Played as they are, "9 then 1" sends 1 with an older sequence number
// and Asterisk drops it as a stale packet. This rewrites a key's pcap for the n-th press of a
// call so sequence numbers and timestamps only ever go up.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { scratchDir } from './scratch.js';

const dir = scratchDir('dtmf');

export function dtmfPcap(key: string, pressIndex: number): string {
  const name = key === '*' ? 'star' : key === '#' ? 'pound' : key;
  const pcap = Buffer.from(readFileSync(`/usr/share/sip-tester/dtmf_2833_${name}.pcap`));
  if (pcap.readUInt32LE(0) !== 0xa1b2c3d4 || pcap.readUInt32LE(20) !== 1)
    throw new Error('expected a little-endian Ethernet pcap');
  let offset = 24;
  let firstSeq: number | undefined;
  let firstTs: number | undefined;
  while (offset + 16 <= pcap.length) {
    const captured = pcap.readUInt32LE(offset + 8);
    const frame = offset + 16;
    const ip = frame + 14;
    const udp = ip + (pcap[ip]! & 0x0f) * 4;
    const rtp = udp + 8;
    const seq = pcap.readUInt16BE(rtp + 2);
    const ts = pcap.readUInt32BE(rtp + 4);
    firstSeq ??= seq;
    firstTs ??= ts;
    pcap.writeUInt16BE((1000 + pressIndex * 100 + (seq - firstSeq)) & 0xffff, rtp + 2);
    pcap.writeUInt32BE((100_000 + pressIndex * 80_000 + (ts - firstTs)) >>> 0, rtp + 4);
    pcap.writeUInt16BE(0, udp + 6); // no UDP checksum (valid over IPv4)
    offset = frame + captured;
  }
  const file = join(dir, `dtmf-${name}-${pressIndex}.pcap`);
  writeFileSync(file, pcap);
  return file;
}
