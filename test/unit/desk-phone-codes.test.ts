// Desk-phone feature codes (src/desk-phone/codes.ts): what the dialled digits ask for, the reason
// digits, codes a phone could not tell apart, and the agent a channel's endpoint names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { defaults, loadConfig } from '../../src/config/index.js';
import {
  agentOfEndpoint,
  checkCodes,
  type DeskPhoneCodes,
  endpointOfChannel,
  parseFeatureCode,
  reasonDigits,
} from '../../src/desk-phone/codes.js';

const codes: DeskPhoneCodes = defaults.deskPhone.codes;
const roster = ['break', 'training', 'meeting', 'meal', 'no-answer'];
const byOrder = reasonDigits(undefined, roster);

t.test('the default codes: sign in, sign out, ready, end wrap-up', async (t) => {
  t.same(parseFeatureCode('*21', codes, byOrder), { ok: true, action: { kind: 'sign-in' } });
  t.same(parseFeatureCode('*29', codes, byOrder), { ok: true, action: { kind: 'sign-out' } });
  t.same(parseFeatureCode('*23', codes, byOrder), { ok: true, action: { kind: 'ready' } });
  t.same(parseFeatureCode('*24', codes, byOrder), { ok: true, action: { kind: 'end-wrap-up' } });
});

t.test("not ready: the digits after the code are the roster's reasons numbered from 1; alone, reason 1", async (t) => {
  t.same(parseFeatureCode('*221', codes, byOrder), { ok: true, action: { kind: 'not-ready', reason: 'break' } });
  t.same(parseFeatureCode('*224', codes, byOrder), { ok: true, action: { kind: 'not-ready', reason: 'meal' } });
  t.same(parseFeatureCode('*22', codes, byOrder), { ok: true, action: { kind: 'not-ready', reason: 'break' } });
  t.same(parseFeatureCode('*229', codes, byOrder), { ok: false, why: 'unknown-reason', digits: '9' });
  t.same(parseFeatureCode('*22123', codes, byOrder), { ok: false, why: 'unknown-code' }, 'at most two digits');
  t.same(parseFeatureCode('*22#', codes, byOrder), { ok: false, why: 'unknown-code' });
});

t.test('configured reason digits replace the numbering', async (t) => {
  const configured = reasonDigits({ '7': 'meal', '12': 'training' }, roster);
  t.same(parseFeatureCode('*227', codes, configured), { ok: true, action: { kind: 'not-ready', reason: 'meal' } });
  t.same(parseFeatureCode('*2212', codes, configured), {
    ok: true,
    action: { kind: 'not-ready', reason: 'training' },
  });
  t.same(parseFeatureCode('*221', codes, configured), { ok: false, why: 'unknown-reason', digits: '1' });
});

t.test('anything that is not exactly a code is unknown', async (t) => {
  for (const dialled of ['*2', '*211', '*99', '*23*', '21', '', '*21,inbound', '*2a'])
    t.same(parseFeatureCode(dialled, codes, byOrder), { ok: false, why: 'unknown-code' }, JSON.stringify(dialled));
});

t.test('codes a phone could not tell apart are refused, naming the key', async (t) => {
  t.doesNotThrow(() => checkCodes(codes), 'the defaults are distinct');
  t.throws(() => checkCodes({ ...codes, signIn: '*2' }), {
    code: 'REXIAN_CONFIG_INVALID',
    details: { key: /^deskPhone\.codes\./ },
  });
  t.throws(() => checkCodes({ ...codes, ready: '*223' }), {
    code: 'REXIAN_CONFIG_INVALID',
    details: { key: 'deskPhone.codes.ready' },
    message: /begins with deskPhone\.codes\.notReady/,
  });
  t.throws(() => checkCodes({ ...codes, ready: '*21' }), { code: 'REXIAN_CONFIG_INVALID' }, 'two actions, one code');
});

t.test("the agent is the channel's endpoint as Asterisk named it", async (t) => {
  t.equal(endpointOfChannel('PJSIP/agent-1001-0000002a'), 'agent-1001');
  t.equal(endpointOfChannel('PJSIP/agent-team-a-7-0000002a'), 'agent-team-a-7', 'ids may hold dashes');
  t.equal(agentOfEndpoint('agent-team-a-7'), 'team-a-7');
  t.equal(endpointOfChannel('PJSIP/pstn-00000001'), 'pstn');
  t.equal(agentOfEndpoint('pstn'), undefined, 'the carrier is no agent');
  t.equal(endpointOfChannel('Local/agent-1001@from-agents-00000001;1'), undefined, 'only PJSIP channels');
  t.equal(endpointOfChannel('PJSIP/agent-1001'), undefined, 'not a channel name');
  t.equal(agentOfEndpoint('agent-'), undefined);
});

t.test('the codes are configured in the config file, each checked with the key and where it was written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-desk-phone-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { REXIAN_ARI_PASSWORD: 'ari-secret-123', REXIAN_AMI_PASSWORD: 'ami-secret-123' };
  const file = join(dir, 'rexian.yaml');
  writeFileSync(file, 'deskPhone:\n  codes:\n    ready: "*31"\n  reasonDigits: { "7": meal }\n');
  t.same(loadConfig({ env, file }).deskPhone, {
    codes: { ...codes, ready: '*31' },
    reasonDigits: { '7': 'meal' },
  });
  writeFileSync(file, 'deskPhone:\n  codes:\n    ready: "23"\n');
  t.throws(() => loadConfig({ env, file }), {
    code: 'REXIAN_CONFIG_INVALID',
    message: /deskPhone\.codes\.ready.*rexian\.yaml:3:5/,
  });
});
