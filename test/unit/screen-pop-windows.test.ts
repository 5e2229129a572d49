// The agent's screen pop (line names, masking, privacy) and the service-centre window
// directory: the shipped file loads; mistakes name file:line:col.
import { join } from 'node:path';

import t from 'tap';

import { askedForPrivacy, lineName, maskNumber, screenPop } from '../../src/acd/screen-pop.js';
import { findWindow, parseWindows, windowEndpoint } from '../../src/acd/windows.js';
import { repoRoot } from '../../src/asterisk/instance.js';
import { problems } from '../helpers/problems.js';

t.test('numbers are masked keeping what an agent needs to tell callers apart', async (t) => {
  t.equal(maskNumber('13800000111'), '138****0111', 'a mobile keeps its carrier prefix and last four digits');
  t.equal(maskNumber('+8613800000111'), '138****0111', 'with or without +86');
  t.equal(maskNumber('02367720001'), '023****0001', 'a landline keeps its area code');
  t.equal(maskNumber('6772000'), '*****00', 'a short number keeps only its last two digits');
  t.equal(maskNumber('12'), '**');
});

t.test('a flow asks for privacy by setting privacy to yes, true or 1', async (t) => {
  for (const v of ['yes', 'YES', 'true', '1']) t.ok(askedForPrivacy({ privacy: v }), v);
  for (const v of ['no', '0', '', 'maybe']) t.notOk(askedForPrivacy({ privacy: v }), `"${v}"`);
  t.notOk(askedForPrivacy(undefined));
});

t.test("the screen pop follows the queue's policy, and privacy always masks", async (t) => {
  const ivr = { flowId: 'main', path: ['welcome', 'menu', 'yihaoda'], vars: { idTail: '1234' } };
  const full = screenPop({ did: '12345', caller: '13800000111', ivr, waitMs: 4260, policy: 'full' });
  t.same(full, {
    line: '12345 政务服务便民热线',
    did: '12345',
    caller: '13800000111',
    callerMasked: false,
    privacy: false,
    ivrPath: ivr.path,
    digits: ivr.vars,
    waitSeconds: 4.3,
  });
  t.match(screenPop({ did: '12345', caller: '13800000111', ivr, waitMs: 0, policy: 'masked' }), {
    caller: '138****0111',
    callerMasked: true,
    privacy: false,
  });
  t.match(
    screenPop({
      did: '12315',
      caller: '13800000111',
      ivr: { ...ivr, vars: { privacy: 'yes' } },
      waitMs: 0,
      policy: 'full',
    }),
    { line: '12315 市场监管投诉举报', caller: '138****0111', callerMasked: true, privacy: true },
  );
  t.equal(lineName('7001'), '7001', 'a number that is no known line shows as itself');
});

t.test('the shipped window directory: each window is reachable on the trunk', async (t) => {
  const dir = parseWindows(join(repoRoot, 'sip-config/windows.yaml'));
  const bdc = findWindow(dir, 'bdc');
  t.match(bdc, { name: '不动产登记窗口', centre: '市政务服务中心' });
  t.equal(windowEndpoint(bdc, 'pstn'), 'PJSIP/02367720001@pstn');
  t.equal(
    windowEndpoint({ id: 'desk', name: '窗口', endpoint: 'window-desk-1' }, 'pstn'),
    'PJSIP/window-desk-1',
    'a window with a desk phone is dialled directly',
  );
  t.throws(() => findWindow(dir, 'nowhere'), /no service-centre window "nowhere".*known: bdc/);
});

t.test('window mistakes name file:line:col', async (t) => {
  const file = 'windows.yaml';
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a: { name: 甲 }\n')),
    [/windows\.yaml:2:3: window "a" needs exactly one of number and endpoint/],
  );
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a: { name: 甲, number: "1234", endpoint: x }\n')),
    [/needs exactly one/],
  );
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a:\n    name: 甲\n    number: "16801234"\n')),
    [/windows\.yaml:4:5: .*premium-rate/],
  );
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a:\n    name: 甲\n    number: "110"\n')),
    [/emergency number/],
  );
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a: { name: 甲, endpoint: "bad endpoint&" }\n')),
    [/windows\.yaml:2:.*endpoint/],
  );
  t.match(
    problems(() => parseWindows(file, 'windows:\n  a: { name: 甲, number: "02367720001", floor: 3 }\n')),
    [/unknown key "windows\.a\.floor"/],
  );
});
