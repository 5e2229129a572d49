// The SIP edge's rendered files: deterministic, the probing that marks a dead node inactive
// within seconds, no 408 among accepted probe replies, the passwords only in the 0600 table,
// and bad input refused with the key named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { repoRoot } from '../../src/asterisk/instance.js';
import { edgeAgentContact, type EdgeRenderOptions, renderEdge } from '../../src/edge/render.js';

const template = readFileSync(join(repoRoot, 'sip-config/kamailio.cfg.tmpl'), 'utf8');
const secret = 'unit-test-master-secret';
const base: EdgeRenderOptions = {
  host: '10.0.0.5',
  port: 5060,
  nodes: [
    { name: 'node-a', host: '10.0.1.1', port: 5060 },
    { name: 'node-b', host: '10.0.1.2', port: 5080 },
  ],
  carriers: ['192.0.2.10', '2001:db8::7'],
  agents: ['a1', 'b2', '0c'].map((id) => ({ id, password: agentSipPassword(secret, id) })),
  realm: 'hotline.example',
  dir: '/var/lib/rexian/edge/main',
};

t.test('the same options render the same bytes, whatever order the agents come in', async (t) => {
  const once = renderEdge(template, base);
  const again = renderEdge(template, { ...base, agents: [...base.agents].reverse() });
  t.same(again, once);
  t.notMatch(once['kamailio.cfg'], /\{\{/, 'no placeholder left');
  t.same(
    once['db/agents'].split('\n').slice(1, -1),
    ['0c', 'a1', 'b2'].map((id) => `agent-${id}:0:0:${agentSipPassword(secret, id)}:0`),
    'one row per agent, sorted, with its derived password',
  );
});

t.test('nodes are probed every second, 1.5 s per probe, and 408 is never an accepted reply', async (t) => {
  const cfg = renderEdge(template, base)['kamailio.cfg'];
  t.match(cfg, /modparam\("dispatcher", "ds_ping_interval", 1\)/);
  t.match(cfg, /modparam\("dispatcher", "ds_probing_mode", 1\)/);
  t.match(cfg, /modparam\("dispatcher", "ds_probing_threshold", 2\)/);
  t.match(cfg, /modparam\("tm", "fr_timer", 1500\)/);
  const codes = /"ds_ping_reply_codes", "([^"]*)"/.exec(cfg)?.[1] ?? '';
  t.notMatch(codes, /408|class=4/, `accepted probe replies (${codes}) leave out 408`);
  t.match(cfg, /failure_route\[NODE_FAILED\][\s\S]*ds_next_dst\(\)/, 'a refused call fails over to the next node');
  const slower = renderEdge(template, { ...base, pingIntervalSeconds: 3, frTimerMs: 2000 })['kamailio.cfg'];
  t.match(slower, /"ds_ping_interval", 3\)/);
  t.match(slower, /"fr_timer", 2000\)/);
});

t.test('the node list names every node in set 1, IPv6 in brackets', async (t) => {
  const files = renderEdge(template, {
    ...base,
    nodes: [...base.nodes, { name: 'node-c', host: '2001:db8::9', port: 5060 }],
  });
  t.same(
    files['dispatcher.list'].split('\n').filter((l) => !l.startsWith('#') && l),
    [
      '1 sip:10.0.1.1:5060 0 0 duid=node-a',
      '1 sip:10.0.1.2:5080 0 0 duid=node-b',
      '1 sip:[2001:db8::9]:5060 0 0 duid=node-c',
    ],
  );
});

t.test('the configuration holds no password, only the path of the table', async (t) => {
  const files = renderEdge(template, base);
  for (const a of base.agents) t.notOk(files['kamailio.cfg'].includes(a.password), `${a.id}'s password stays out`);
  t.match(files['kamailio.cfg'], 'modparam("htable", "db_url", "text:///var/lib/rexian/edge/main/db")');
  t.match(files['kamailio.cfg'], 'listen=udp:10.0.0.5:5060');
  t.match(files['kamailio.cfg'], 'auth_challenge("hotline.example", "1")');
  t.match(files['kamailio.cfg'], '($si == "192.0.2.10" || $si == "2001:db8::7")', 'only the carriers start calls');
});

t.test('an agent rung through the edge keeps its endpoint name', async (t) => {
  t.equal(edgeAgentContact('a1', { host: '10.0.0.5', port: 5060 }), 'sip:agent-a1@10.0.0.5:5060');
  t.equal(edgeAgentContact('a1', { host: '2001:db8::5', port: 5070 }), 'sip:agent-a1@[2001:db8::5]:5070');
});

t.test("browsers' phones register over the edge's WebSocket only when it has a wsPort", async (t) => {
  const cfg = renderEdge(template, { ...base, wsPort: 8080 })['kamailio.cfg'];
  t.match(cfg, 'listen=tcp:10.0.0.5:8080', 'a TCP listener on the WebSocket port');
  t.match(cfg, /loadmodule "websocket\.so"/);
  t.match(cfg, /event_route\[xhttp:request\][\s\S]*if \(\$Rp != 8080\)[\s\S]*ws_handle_handshake\(\)/);
  t.match(
    cfg,
    /route\[WEBSOCKET\][\s\S]*nat_uac_test\("64"\)[\s\S]*add_contact_alias\(\)/,
    "a browser's Contact gets ;alias",
  );
  t.match(cfg, /onreply_route\[FROM_PHONE\][\s\S]*add_contact_alias\(\)/, "and its 200 OK's Contact too");
  t.match(cfg, /loose_route\(\)\) \{[\s\S]*handle_ruri_alias\(\)/, 'in-dialog requests go down its WebSocket');
  t.match(cfg, /tcp_connection_lifetime=3605/, 'an idle WebSocket is not closed after 120 s');
  const none = renderEdge(template, base)['kamailio.cfg'];
  t.notMatch(none, /listen=tcp:10\.0\.0\.5:8080/, 'no wsPort, no WebSocket listener');
  t.match(none, /if \(\$Rp != 0\)/, 'and every HTTP request is refused');
  t.throws(() => renderEdge(template, { ...base, wsPort: 5060 }), { message: /wsPort 5060 must differ/ });
  t.throws(() => renderEdge(template, { ...base, wsPort: 0 }), { message: /edge wsPort 0 is not a port/ });
});

t.test('bad options are refused, naming what is wrong', async (t) => {
  const bad: Array<[Partial<EdgeRenderOptions>, RegExp]> = [
    [{ nodes: [] }, /at least one Asterisk node/],
    [{ nodes: [{ name: 'Node A', host: '10.0.1.1', port: 5060 }] }, /node name "Node A"/],
    [{ nodes: [{ name: 'a', host: '10.0.1.1', port: 70_000 }] }, /node a port 70000/],
    [{ carriers: ['carrier.example'] }, /carrier address "carrier.example"/],
    [{ carriers: [] }, /at least one carrier/],
    [{ agents: [{ id: 'a b', password: 'x' }] }, /agent id "a b"/],
    [{ agents: [{ id: 'a1', password: 'with:colon' }] }, /agent a1: the SIP password must be base64url/],
    [
      {
        agents: [
          { id: 'a1', password: 'x' },
          { id: 'a1', password: 'y' },
        ],
      },
      /appears twice/,
    ],
    [{ realm: 'a realm' }, /realm "a realm"/],
    [{ host: 'bad host' }, /edge host "bad host"/],
  ];
  for (const [change, message] of bad) t.throws(() => renderEdge(template, { ...base, ...change }), { message });
  t.throws(() => renderEdge(`${template}\n{{nope}}`, base), { message: /unknown placeholder \{\{nope\}\}/ });
});
