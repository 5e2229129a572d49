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
  t.equal(checkDestination('emergency', '120').number, '120');
  t.equal(checkDestination('internal', '1001').number, '1001');
});

t.test('forged dial strings and costly numbers are refused, naming the field', async (t) => {
  t.match(
    refused('external', '13800138000&PJSIP/agent-1001'),
    /^REXIAN_BAD_DIAL_STRING: target\.number "13800138000&PJSIP\/agent-1001" may hold only digits/,
  );
  t.match(refused('external', '13800138000@emergency'), /only digits/);
  t.match(refused('external', '138,t'), /only digits/);
  t.match(refused('external', ''), /only digits/);
  t.match(refused('external', '00441632960000'), /international/);
  t.match(refused('external', '+441632960000'), /international/);
  t.equal(refused('external', '+441632960000', { allowInternational: true }), '', 'unless the policy allows it');
  t.match(refused('external', '1795113800138000'), /carrier access or carrier-selection code/);
  t.match(refused('external', '110'), /emergency number: use an emergency transfer/);
  t.match(refused('external', '123'), /not a number we may call/);
  t.match(refused('external', '1380013800012345'), /not a number we may call/);
  t.match(refused('emergency', '112'), /not an emergency number \(110, 119, 120, 122\)/);
  t.match(refused('internal', '13800138000'), /not an internal extension/);
});

function reason(value: string): unknown {
  try {
    checkDestination('external', value, 'number');
  } catch (err) {
    if (isRexianError(err, 'REXIAN_BAD_DIAL_STRING')) return err.details.reason;
    throw err;
  }
  return 'passed';
}

t.test('mobiles of every range the MIIT allocated for voice pass', async (t) => {
  const ranges = [
    '130',
    '131',
    '132',
    '133',
    '134',
    '135',
    '136',
    '137',
    '138',
    '139',
    '145',
    '147',
    '149',
    '150',
    '151',
    '152',
    '153',
    '155',
    '156',
    '157',
    '158',
    '159',
    '162',
    '165',
    '166',
    '167',
    '170',
    '171',
    '173',
    '175',
    '176',
    '177',
    '178',
    '180',
    '181',
    '182',
    '183',
    '184',
    '185',
    '186',
    '187',
    '188',
    '189',
    '190',
    '191',
    '192',
    '193',
    '195',
    '196',
    '197',
    '198',
    '199',
  ];
  for (const r of ranges) t.equal(checkDestination('external', `${r}00138000`).number, `${r}00138000`, `${r}…`);
  t.equal(checkDestination('external', '+8619200138000').number, '19200138000', '+86 and a China Broadnet mobile');
});

t.test('eleven-digit numbers that look like mobiles but are not are refused, saying why', async (t) => {
  t.match(
    refused('external', '16812345678'),
    /^REXIAN_BAD_DIAL_STRING: target\.number "16812345678" is a premium-rate information-service number/,
  );
  t.match(refused('external', '16912345678'), /premium-rate information-service number/);
  t.match(refused('external', '16012345678'), /premium-rate information-service number/);
  t.match(refused('external', '+8616812345678'), /premium-rate information-service number/, 'with +86 too');
  t.match(refused('external', '008616912345678'), /premium-rate information-service number/, 'with 0086 too');
  t.match(refused('external', '12590123456'), /premium-rate information-service number/, '1259x voice information');
  t.match(refused('external', '12593'), /premium-rate information-service number/);
  t.match(refused('external', '15412345678'), /not a mobile range: 154/);
  t.match(refused('external', '16312345678'), /not a mobile range: 163/);
  t.match(refused('external', '19412345678'), /not a mobile range: 194/);
  t.match(refused('external', '14112345678'), /IoT-only/);
  t.match(refused('external', '14812345678'), /IoT-only/);
  t.match(refused('external', '17212345678'), /IoT-only/);
  t.match(refused('external', '17400012345'), /satellite phone number/);
  t.match(refused('external', '13492345678'), /satellite phone number/);
  t.match(refused('external', '16190012345'), /satellite phone number/);
  t.match(
    refused('external', '17951138001'),
    /carrier access or carrier-selection code/,
    'an IP-dialling prefix of mobile length',
  );
  t.match(refused('external', '10193138001'), /carrier access or carrier-selection code/);
  t.match(refused('external', '10086'), /carrier access/);
});

t.test('service numbers and information services behind an area code are refused', async (t) => {
  t.match(refused('external', '95588'), /95xxx\/96xxx service number/);
  t.match(refused('external', '9510512345'), /95xxx\/96xxx service number/);
  t.match(refused('external', '96166'), /95xxx\/96xxx service number/);
  t.match(refused('external', '01096166'), /95xxx\/96xxx service number after area code 010/);
  t.match(refused('external', '0231681234'), /premium-rate information-service number \(168… after area code 023\)/);
  t.match(refused('external', '01016012345'), /premium-rate information-service number/);
  t.match(
    refused('external', '02112345678'),
    /not a landline: after area code 021 a subscriber number has 7 or 8 digits and does not start with 0 or 1/,
  );
  t.match(refused('external', '010888866'), /not a landline/, 'six digits after 010');
  t.match(refused('external', '011888866661'), /not a landline: 0118… is not an area code/);
  t.equal(reason('16812345678'), 'information-service', 'the reason is machine-readable too');
  t.equal(reason('95588'), 'service-number');
  t.equal(reason('15412345678'), 'not-mobile-range');
});

t.test('real landlines and the 12345 family still pass', async (t) => {
  t.equal(checkDestination('external', '02367720001').number, '02367720001', 'Chongqing, 8 digits');
  t.equal(checkDestination('external', '075588886666').number, '075588886666', 'Shenzhen');
  t.equal(checkDestination('external', '08712345678').number, '08712345678', 'Kunming');
  t.equal(checkDestination('external', '05718123456').number, '05718123456', 'Hangzhou, 7-digit subscriber');
  t.match(refused('external', '+86571812345678'), /not a landline/, 'a nine-digit subscriber number is refused');
  for (const line of ['12345', '12315', '12329', '12333', '12366', '12348'])
    t.equal(checkDestination('external', line).number, line, line);
  for (const line of ['110', '119', '120', '122'])
    t.equal(checkDestination('emergency', line).number, line, `${line} as an emergency transfer`);
});
