// Tokens, roles and who sees which events: pure logic.
import { createHash } from 'node:crypto';

import t from 'tap';

import { Authenticator, mayActForAgent } from '../../src/api/auth.js';
import { visibleTo } from '../../src/api/events.js';

const authn = new Authenticator({
  adminToken: 'the-admin-token-0123456789',
  tokens: [
    { name: 'a1', role: 'agent', agent: '1001', token: 'agent-1001-token-xyz' },
    {
      name: 'sup',
      role: 'supervisor',
      teams: ['a'],
      tokenSha256: createHash('sha256').update('supervisor-token-abc').digest('hex'),
    },
  ],
});

t.test('tokens map to principals; hashed tokens work; unknown ones do not', async (t) => {
  t.match(authn.fromHeader('Bearer the-admin-token-0123456789'), { role: 'admin' });
  t.match(authn.fromHeader('Bearer agent-1001-token-xyz'), { role: 'agent', agentId: '1001' });
  t.match(authn.identify('supervisor-token-abc'), { role: 'supervisor', teams: ['a'] });
  t.equal(authn.identify('agent-1001-token-xy'), undefined);
  t.equal(authn.fromHeader('agent-1001-token-xyz'), undefined, 'the Bearer scheme is required');
  t.equal(authn.fromHeader(undefined), undefined);
  t.equal(new Authenticator({}).identify(''), undefined, 'nothing configured: nobody gets in');
});

t.test('agents act for themselves, supervisors for their teams', async (t) => {
  const agent = authn.identify('agent-1001-token-xyz')!;
  const sup = authn.identify('supervisor-token-abc')!;
  t.ok(mayActForAgent(agent, '1001', 'b'));
  t.notOk(mayActForAgent(agent, '1002', 'b'));
  t.ok(mayActForAgent(sup, '1002', 'a'));
  t.notOk(mayActForAgent(sup, '1003', 'b'));
  t.notOk(mayActForAgent(sup, '1004', undefined), "an agent in no team is no supervisor's");
  t.notOk(mayActForAgent({ name: 'o', role: 'ops' }, '1001', 'a'), 'ops do not act for agents');
});

t.test('events reach whom they concern', async (t) => {
  const teamOf = (id: string): string | undefined => (({ '1001': 'a', '1002': 'b' }) as Record<string, string>)[id];
  const agent = authn.identify('agent-1001-token-xyz')!;
  const sup = authn.identify('supervisor-token-abc')!;
  const figures = { type: 'queue.figures' };
  const offer1001 = { type: 'agent.offer', agentId: '1001' };
  const offer1002 = { type: 'agent.offer', agentId: '1002' };
  t.same(
    [visibleTo(agent, figures, teamOf), visibleTo(agent, offer1001, teamOf), visibleTo(agent, offer1002, teamOf)],
    [false, true, false],
  );
  t.same(
    [visibleTo(sup, figures, teamOf), visibleTo(sup, offer1001, teamOf), visibleTo(sup, offer1002, teamOf)],
    [true, true, false],
  );
  t.ok(visibleTo({ name: 'o', role: 'ops' }, offer1002, teamOf));
});
