// The one decision of which calls are masked, and the redaction every log line goes through.
import { pino } from 'pino';
import t from 'tap';

import { isMasked, logRedaction, logSafe, type PrivacyPolicy, visibleNumber } from '../../src/calls/privacy.js';

const policy: PrivacyPolicy = { isVirtual: (did) => did === '02367721000', queueMasks: (q) => q === 'enterprise' };
const call = (did: string, flow: Record<string, unknown>) => ({ did, flow });

t.test(
  "an AXB call, a masked queue's call and a caller who asked for privacy are masked; others are not",
  async (t) => {
    t.ok(isMasked(call('02367721000', {}), policy), 'a call to a virtual number, before its binding is even looked up');
    t.ok(isMasked(call('12345', { maskingBinding: 'bd-1' }), policy), 'a call the masking domain bound');
    t.ok(
      isMasked(call('12345', { acd: { queue: 'enterprise', origin: 'enterprise' } }), policy),
      'waiting in a masked queue, before any offer',
    );
    t.ok(
      isMasked(call('12345', { acd: { queue: 'general', origin: 'enterprise' } }), policy),
      'overflowed out of a masked queue',
    );
    t.ok(
      isMasked(call('12345', { acd: { queue: 'general', origin: 'general', callerMasked: true } }), policy),
      'offered masked once',
    );
    t.ok(
      isMasked(call('12345', { ivr: { vars: { privacy: 'yes' } } }), policy),
      'the caller asked for confidentiality',
    );
    t.ok(
      isMasked(
        call('12345', { acd: { queue: 'general', origin: 'general', ivr: { path: [], vars: { privacy: '1' } } } }),
        policy,
      ),
    );
    t.notOk(
      isMasked(call('12345', { acd: { queue: 'general', origin: 'general' } }), policy),
      'a queue that shows numbers',
    );
    t.notOk(isMasked(call('12345', {}), policy), 'a call still in the IVR of 12345');
  },
);

t.test('a reader sees the masked form unless the number is revealed', async (t) => {
  t.equal(visibleNumber('13800000111', true), '138****0111');
  t.equal(visibleNumber('13800000111', true, true), '13800000111');
  t.equal(visibleNumber('13800000111', false), '13800000111');
});

t.test('logs carry no subscriber number; service numbers stay readable', async (t) => {
  t.equal(logSafe('13800000111'), '138****0111');
  t.equal(logSafe('+8613800000111'), '138****0111');
  t.equal(logSafe('02367720001'), '023****0001');
  for (const n of ['110', '12345', '95588', '', 'bd-1']) t.equal(logSafe(n), n, `"${n}" passes`);
  t.equal(logSafe(42), 42);
  for (const f of ['caller', 'number', '*.caller']) t.ok(logRedaction.paths.includes(f), f);
});

t.test(
  'what a caller keyed into a flow (an ID number, a callback number) is masked in the "flow ended" line',
  async (t) => {
    const lines: string[] = [];
    const log = pino({ redact: logRedaction }, { write: (line: string) => void lines.push(line) });
    log.info(
      {
        callId: 'c1',
        vars: { idNumber: '11010519491231002X', callbackNumber: '13800000111', choice: '2', privacy: 'yes' },
      },
      'flow ended',
    );
    const vars = (JSON.parse(lines[0]!) as { vars: Record<string, string> }).vars;
    t.equal(vars.idNumber, '**************002X', 'the ID number keeps its last four');
    t.equal(vars.callbackNumber, '*******0111');
    t.equal(vars.choice, '2', 'a menu key passes');
    t.equal(vars.privacy, 'yes');
    t.notMatch(lines[0], /110105|13800000111/, 'nothing of either number in the line');
  },
);
