// Watches a lab's Asterisk through AMI, as the test (not as the controller): what Asterisk
// itself says happened is the evidence for dialplan and app_queue behaviour.
import { pino } from 'pino';

import { AmiClient } from '../../src/asterisk/ami.js';
import type { Lab } from './lab.js';
import { until } from './lab.js';

export type AmiEvent = Record<string, string>;

export interface AmiObservation {
  /** Every event, with receivedAt (ms) added when it arrived. */
  events: Array<AmiEvent & { receivedAt: number }>;
  waitFor(
    label: string,
    p: (e: AmiEvent) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<AmiEvent & { receivedAt: number }>;
  action(action: Record<string, string>): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function observeAmi(lab: Pick<Lab, 'ports' | 'env'>): Promise<AmiObservation> {
  const client = new AmiClient({
    host: '127.0.0.1',
    port: lab.ports.ami,
    username: lab.env.REXIAN_AMI_USERNAME!,
    password: lab.env.REXIAN_AMI_PASSWORD!,
    logger: pino({ level: 'silent' }),
  });
  const events: AmiObservation['events'] = [];
  client.on('event', (e: AmiEvent) => events.push(Object.assign(e, { receivedAt: Date.now() })));
  client.start();
  await until('AMI observer connected', () => client.connected, 10_000);
  return {
    events,
    waitFor: (label, p, timeoutMs = 20_000, from = 0) => until(label, () => events.slice(from).find(p), timeoutMs, 5),
    action: (a) => client.action(a),
    close: () => client.stop(),
  };
}
