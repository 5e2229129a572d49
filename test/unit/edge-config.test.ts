// The SIP edge's rendered files: deterministic, the probing that marks a dead node inactive
// within seconds, no 408 among accepted probe replies, the passwords only in the 0600 table,
// and bad input refused with the key named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { repoRoot } from '../../src/asterisk/instance.js';
import { edgeAgentContact, type EdgeRenderOptions, edgeSeatContact, renderEdge } from '../../src/edge/render.js';
import { edgeSeatRpc, edgeSeatToken } from '../../src/edge/seat-client.js';
import { supervisorEndpoint, supervisorSipPassword } from '../../src/supervision/seats.js';

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

t.test("supervisors' seats share the table; the controllers update it over the seat listener", async (t) => {
  const seats = ['张班长', 'li.wei'].map((n) => ({
    user: supervisorEndpoint(n),
    password: supervisorSipPassword(secret, n),
  }));
  const rpc = edgeSeatRpc({ host: '10.0.0.5', port: 5060, controllers: ['10.0.2.1', '10.0.2.2'] }, secret);
  t.equal(rpc.port, 8061, 'the listener on its default port');
  const files = renderEdge(template, { ...base, seats, rpc });
  const rows = files['db/agents'].split('\n').slice(1, -1);
  t.same(
    rows.slice(3),
    [...seats].sort((a, b) => (a.user < b.user ? -1 : 1)).map((s) => `${s.user}:0:0:${s.password}:0`),
    "each seat's row after the agents', sorted",
  );
  t.same(renderEdge(template, { ...base, seats: [...seats].reverse(), rpc }), files, 'in any order, the same bytes');
  const cfg = files['kamailio.cfg'];
  t.match(cfg, 'listen=tcp:10.0.0.5:8061', 'a TCP listener on the seat port');
  t.match(cfg, /if \(\$Rp == 8061\) \{\s*route\(SEAT_RPC\)/);
  t.match(cfg, '($si == "10.0.2.1" || $si == "10.0.2.2")', 'only the controllers may update seats');
  t.match(cfg, /"htable\.sets" && \$var\(method\) != "htable\.delete"\) \|\| \$var\(table\) != "agents"/);
  t.match(cfg, 'include_file "/var/lib/rexian/edge/main/rpc-token.cfg"');
  t.notOk(cfg.includes(rpc.token), 'the token is in no line of kamailio.cfg');
  t.equal(files['rpc-token.cfg'], `#!substdef "!EDGE_SEAT_TOKEN!${edgeSeatToken(secret)}!"\n`, 'but in its own file');
  for (const s of seats) t.notOk(cfg.includes(s.password), `${s.user}'s password stays out`);
  const none = renderEdge(template, base)['kamailio.cfg'];
  t.notMatch(none, /listen=tcp:10\.0\.0\.5:8061/, 'no rpc, no seat listener');
  t.match(none, /if \(\$Rp == 0\)/, 'and no port reaches the seat route');
  t.equal(edgeSeatContact('sup-li.wei', { host: '10.0.0.5', port: 5060 }), 'sip:sup-li.wei@10.0.0.5:5060');
  const bad: Array<[Partial<EdgeRenderOptions>, RegExp]> = [
    [{ seats: [{ user: 'agent-a1', password: 'x' }] }, /seat "agent-a1" must be sup-/],
    [{ seats: [{ user: 'sup-a', password: 'a:b' }] }, /seat sup-a: the SIP password must be base64url/],
    [{ seats: [seats[0]!, seats[0]!] }, /a seat appears twice/],
    [{ rpc: { ...rpc, port: 5060 } }, /rpcPort 5060 must differ/],
    [{ rpc: { ...rpc, token: 'short' } }, /token must be 16 or more/],
    [{ rpc: { ...rpc, controllers: ['ctl.example'] } }, /controller address "ctl.example"/],
    [{ rpc: { ...rpc, controllers: [] } }, /at least one address/],
  ];
  for (const [change, message] of bad) t.throws(() => renderEdge(template, { ...base, ...change }), { message });
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
