// Watches a lab's Asterisk through AMI, as the test (not as the controller): what Asterisk
// itself says happened is the evidence for dialplan and app_queue behaviour.
import { pino } from 'pino';
import { AmiClient } from '../../src/asterisk/ami.js';
import type { Lab } from './lab.js';
import { until } from './lab.js';

export type AmiEvent = Record<string, string>;

export async function observeAmi(lab: Lab): Promise<{ events: AmiEvent[]; waitFor(label: string, p: (e: AmiEvent) => boolean, timeoutMs?: number): Promise<AmiEvent>; close(): Promise<void> }> {
  const client = new AmiClient({
    host: '127.0.0.1', port: lab.ports.ami,
    username: lab.env.REXIAN_AMI_USERNAME!, password: lab.env.REXIAN_AMI_PASSWORD!,
    logger: pino({ level: 'silent' }),
  });
  const events: AmiEvent[] = [];
  client.on('event', (e: AmiEvent) => events.push(e));
  client.start();
  await until('AMI observer connected', () => client.connected, 10_000);
  return {
    events,
    waitFor: (label, p, timeoutMs = 20_000) => until(label, () => events.find(p), timeoutMs, 50),
    close: () => client.stop(),
  };
}
