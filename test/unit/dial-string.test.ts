// Only numbers of a known shape reach a dial string: no toll fraud through the hotline.
import t from 'tap';
import { checkDestination } from '../../src/calls/dial-string.js';
import { isRexianError } from '../../src/errors/index.js';

function refused(kind: 'external' | 'emergency' | 'internal', value: string, policy = {}): string {
  try {
    checkDestination(kind, value, 'target.number', policy);
  } catch (err) {
    if (isRexianError(err, 'REXIAN_BAD_DIAL_STRING')) return err.message;
    throw err;
  }
  return '';
}

t.test('domestic numbers pass, normalised', async (t) => {
  t.equal(checkDestination('external', '13800138000').number, '13800138000', 'mobile');
  t.equal(checkDestination('external', '+8613800138000').number, '13800138000', '+86 mobile');
  t.equal(checkDestination('external', '01088886666').number, '01088886666', 'Beijing landline');
  t.equal(checkDestination('external', '+861088886666').number, '01088886666', '+86 landline gets its trunk 0 back');
  t.equal(checkDestination('external', '008657188886666').number, '057188886666', '0086 landline');
  t.equal(checkDestination('external', '88886666').number, '88886666', 'local landline');
  t.equal(checkDestination('external', '12315').number, '12315', 'a merged government line');
  t.equal(checkDestination('external', '95588').number, '95588', 'a public service number');
  t.equal(checkDestination('emergency', '120').number, '120');
  t.equal(checkDestination('internal', '1001').number, '1001');
});

t.test('forged dial strings and costly numbers are refused, naming the field', async (t) => {
  t.match(refused('external', '13800138000&PJSIP/agent-1001'), /^REXIAN_BAD_DIAL_STRING: target\.number "13800138000&PJSIP\/agent-1001" may hold only digits/);
  t.match(refused('external', '13800138000@emergency'), /only digits/);
  t.match(refused('external', '138,t'), /only digits/);
  t.match(refused('external', ''), /only digits/);
  t.match(refused('external', '00441632960000'), /international/);
  t.match(refused('external', '+441632960000'), /international/);
  t.equal(refused('external', '+441632960000', { allowInternational: true }), '', 'unless the policy allows it');
  t.match(refused('external', '1795113800138000'), /premium-rate or carrier-selection/);
  t.match(refused('external', '110'), /emergency number: use an emergency transfer/);
  t.match(refused('external', '123'), /not a number we may call/);
  t.match(refused('external', '1380013800012345'), /not a number we may call/);
  t.match(refused('emergency', '112'), /not an emergency number \(110, 119, 120, 122\)/);
  t.match(refused('internal', '13800138000'), /not an internal extension/);
});
