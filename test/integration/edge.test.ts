// The SIP edge (issue 16): Kamailio in front of two Asterisk nodes. Citizens' calls reach the
// edge and are spread over the nodes; agents register once at the edge and are rung by
// either node; a node that refuses or ignores a call makes the edge fail it over; a node
// killed with -9 is marked inactive within 6 s and new calls go to the other.
import t from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { maskNumber } from '../../src/calls/privacy.js';
import { edgeAgentContact, edgeSeatContact } from '../../src/edge/render.js';
import { edgeSeatToken } from '../../src/edge/seat-client.js';
import { LogEvent } from '../../src/events/log-events.js';
import {
  edgeCitizen,
  type EdgeLab,
  edgePort,
  edgeRpcPort,
  edgeSlots,
  registeredAgent,
  sipCallId,
  startEdgeLab,
} from '../helpers/edge.js';
import { labPorts, sleep, until } from '../helpers/lab.js';
import { type RunningSipp, runSipp, type SippResult, startLine } from '../helpers/sipp.js';

let lab: EdgeLab;
const phones: RunningSipp[] = [];
const figures = {
  placed: 0,
  answered: 0,
  failedOver: 0,
  inactiveMs: 0,
  perNode: { 'node-a': 0, 'node-b': 0 } as Record<string, number>,
};

t.before(async () => {
  lab = await startEdgeLab([
    { id: 'e1', skills: { general: 5 } },
    { id: 'e2', skills: { general: 5 } },
  ]);
  for (const [i, id] of ['e1', 'e2'].entries()) phones.push((await registeredAgent(lab, id, i)).phone);
});

t.teardown(async () => {
  for (const p of phones) p.kill();
  await lab?.close();
  t.comment(
    `edge figures: calls placed ${figures.placed}, answered ${figures.answered}, ` +
      `per node ${JSON.stringify(figures.perNode)}, failed over ${figures.failedOver}, ` +
      `node marked inactive ${figures.inactiveMs} ms after kill -9`,
  );
});

/** Which node's controller saw the citizen's call enter (by masked caller number). */
function nodeOfCaller(caller: string): string | undefined {
  const masked = maskNumber(caller);
  for (const n of lab.nodes)
    if (n.controller.logs.some((l) => l.event === LogEvent.callEntered && l.caller === masked)) return n.node.name;
  return undefined;
}

/** Agents who took the caller's call, with the node whose controller connected them. */
function connectionsOf(caller: string): Array<{ node: string; agentId: string }> {
  const masked = maskNumber(caller);
  const out: Array<{ node: string; agentId: string }> = [];
  for (const n of lab.nodes) {
    const entered = n.controller.logs.find((l) => l.event === LogEvent.callEntered && l.caller === masked);
    if (!entered) continue;
    for (const l of n.controller.logs)
      if (l.event === LogEvent.callConnectedToAgent && l.callId === entered.callId)
        out.push({ node: n.node.name, agentId: String(l.agentId) });
  }
  return out;
}

function firstSent(r: SippResult): string {
  return r.messages.find((m) => m.direction === 'sent')?.text ?? '';
}

let callerSeq = 0;
async function placeCalls(count: number, gapMs = 200): Promise<Array<{ caller: string; result: SippResult }>> {
  const calls = [];
  for (let i = 0; i < count; i++) {
    const caller = `139${String(10_000_000 + callerSeq++).padStart(8, '0')}`;
    calls.push({ caller, sipp: edgeCitizen('7001', caller) });
    figures.placed++;
    await sleep(gapMs);
  }
  const out = [];
  for (const c of calls) {
    const result = await c.sipp.done;
    if (result.exitCode === 0) figures.answered++;
    const node = nodeOfCaller(c.caller);
    if (node) figures.perNode[node]!++;
    out.push({ caller: c.caller, result });
  }
  return out;
}

t.test('agents registered once at the edge are in its location table', async (t) => {
  const regs = await lab.edge.registrations();
  for (const [i, id] of ['e1', 'e2'].entries())
    t.same(
      regs.get(`agent-${id}`),
      [`sip:agent-${id}@127.0.0.1:${labPorts(edgeSlots.edge).sipp + i}`],
      `agent-${id} registered with its phone's contact`,
    );
});

/** A REGISTER at the edge as `user` with `password` from a phone on `port`; true if it was taken. */
async function registersAtEdge(user: string, password: string, port: number): Promise<boolean> {
  const r = await runSipp({
    scenario: 'agent-registers.xml',
    remote: `127.0.0.1:${edgePort}`,
    service: user,
    localPort: port,
    mediaPort: labPorts(edgeSlots.edge).sippMedia + 20,
    extraArgs: ['-au', user, '-ap', password],
  }).done;
  return r.exitCode === 0;
}

/** The contact a node's AOR for `name` rings (the pushed object's `contact`). */
async function aorContact(node: 0 | 1, name: string): Promise<string | undefined> {
  const r = await lab.nodes[node].lab.ari<Array<{ attribute: string; value: string }>>(
    'GET',
    `/asterisk/config/dynamic/res_pjsip/aor/${name}`,
  );
  return r.status === 200 ? r.body.find((f) => f.attribute === 'contact')?.value : undefined;
}

t.test('an agent added through the API registers at the edge at once; removed, it is refused', async (t) => {
  const port = labPorts(edgeSlots.edge).sipp + 5;
  const password = agentSipPassword(lab.sipSecret, 'e9');
  t.notOk(await registersAtEdge('agent-e9', password, port), 'not yet a seat: refused');
  const put = await lab.nodes[0].controller.api<{ sipPassword?: string }>('PUT', '/api/agents/e9', {
    name: '临时坐席',
    skills: { general: 5 },
    device: 'sip',
  });
  t.equal(put.status, 200, 'ops add the seat through node A');
  t.equal(put.body.sipPassword, password, 'its password is the derived one');
  await until('node A told the edge', async () =>
    lab.nodes[0].controller.logs.some((l) => l.event === LogEvent.edgeSeatUpdated && l.user === 'agent-e9'),
  );
  t.notOk(await registersAtEdge('agent-e9', `${password}x`, port), 'a wrong password is refused');
  t.ok(await registersAtEdge('agent-e9', password, port), 'the right one registers, with no edge restart');
  t.same((await lab.edge.registrations()).get('agent-e9'), [`sip:agent-e9@127.0.0.1:${port}`]);
  t.equal(
    await aorContact(0, 'agent-e9'),
    edgeAgentContact('e9', { host: '127.0.0.1', port: edgePort }),
    'node A rings it through the edge',
  );

  t.equal((await lab.nodes[0].controller.api('DELETE', '/api/agents/e9')).status, 204, 'the seat is removed');
  await until('node A told the edge the seat is gone', async () =>
    lab.nodes[0].controller.logs.some(
      (l) => l.event === LogEvent.edgeSeatUpdated && l.user === 'agent-e9' && l.change === 'remove',
    ),
  );
  t.notOk(await registersAtEdge('agent-e9', password, port), 'its phone can no longer register');
});

t.test("a supervisor's browser seat registers at the edge, and the node rings it there", async (t) => {
  const res = await fetch(`${lab.nodes[1].controller.url}/api/session/phone`, {
    headers: { authorization: `Bearer ${lab.supervisorToken}` },
  });
  t.equal(res.status, 200, '张班长 asks node B for their phone');
  const phone = (await res.json()) as { authUser: string; password: string };
  t.match(phone.authUser, /^sup-x[0-9a-f]{20}$/, 'a seat name safe for SIP, from a Chinese name');
  await until('node B told the edge', async () =>
    lab.nodes[1].controller.logs.some((l) => l.event === LogEvent.edgeSeatUpdated && l.user === phone.authUser),
  );
  const port = labPorts(edgeSlots.edge).sipp + 6;
  t.notOk(await registersAtEdge(phone.authUser, `${phone.password}x`, port), 'a wrong password is refused');
  t.ok(await registersAtEdge(phone.authUser, phone.password, port), 'the seat registers at the edge');
  t.same((await lab.edge.registrations()).get(phone.authUser), [`sip:${phone.authUser}@127.0.0.1:${port}`]);
  const atEdge = edgeSeatContact(phone.authUser, { host: '127.0.0.1', port: edgePort });
  t.equal(await aorContact(1, phone.authUser), atEdge, 'node B rings the seat through the edge');
});

t.test('the seat listener takes only seat updates, only with the token', async (t) => {
  const rpc = (body: unknown, token = edgeSeatToken(lab.sipSecret), path = '/seats') =>
    fetch(`http://127.0.0.1:${edgeRpcPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));
  // Shaped like a seat update (table, then a seat's key), so the method is what is refused.
  const dump = { jsonrpc: '2.0', method: 'htable.dump', params: ['agents', 'agent-e1'], id: 1 };
  t.equal((await rpc(dump)).status, 403, 'htable.dump (every password) is refused');
  t.equal((await rpc({ ...dump, method: 'core.kill' })).status, 403, 'core.* is refused');
  t.equal((await rpc({ jsonrpc: '2.0', method: 'htable.dump', id: 1 })).status, 400, 'no table and key: refused');
  const set = { jsonrpc: '2.0', method: 'htable.sets', params: ['agents', 'agent-z1', 'pw'], id: 2 };
  t.equal((await rpc(set, 'not-the-token-000000')).status, 401, 'a wrong token is refused');
  t.equal((await rpc({ ...set, params: ['agents', 'admin', 'pw'] })).status, 403, 'a key that is no seat');
  t.equal((await rpc({ ...set, params: ['other', 'agent-z1', 'pw'] })).status, 403, 'another table');
  t.equal((await rpc(set, undefined, '/RPC')).status, 404, 'another path');
  const ok = await rpc(set);
  t.equal(ok.status, 200, 'a seat update is taken');
  t.notMatch(ok.text, /"error"/, ok.text);
  const del = await rpc({ jsonrpc: '2.0', method: 'htable.delete', params: ['agents', 'agent-z1'], id: 3 });
  t.equal(del.status, 200, 'and its removal');
});

t.test('citizens calling the edge are spread over both nodes, and either node rings agents at the edge', async (t) => {
  for (const id of ['e1', 'e2'])
    t.equal(
      (await lab.nodes[0].controller.api('POST', `/api/agents/${id}/login`, { ready: true })).status,
      200,
      `${id} logs in`,
    );
  const calls = await placeCalls(6, 300);
  const byNode: Record<string, number> = {};
  const agentsByNode: Record<string, Set<string>> = {};
  for (const c of calls) {
    t.equal(c.result.exitCode, 0, `the call from ${c.caller} was answered and ended by the hotline`);
    const node = nodeOfCaller(c.caller);
    t.ok(node, `the call from ${c.caller} entered a node`);
    byNode[node!] = (byNode[node!] ?? 0) + 1;
    const connected = await until(`${c.caller} connected to an agent`, () => {
      const x = connectionsOf(c.caller);
      return x.length > 0 ? x : undefined;
    });
    t.equal(connected.length, 1, `the call from ${c.caller} was connected to one agent`);
    (agentsByNode[connected[0]!.node] ??= new Set()).add(connected[0]!.agentId);
  }
  t.comment(`calls per node: ${JSON.stringify(byNode)}`);
  t.ok((byNode['node-a'] ?? 0) >= 2 && (byNode['node-b'] ?? 0) >= 2, 'both nodes carried calls (round robin)');
  t.ok(agentsByNode['node-a']?.size && agentsByNode['node-b']?.size, 'agents at the edge were rung from both nodes');
});

t.test('a node that refuses a call (503) or never answers it makes the edge fail the call over', async (t) => {
  const peers = labPorts(edgeSlots.edge).sipp;
  const refusing = runSipp({
    scenario: 'edge-node-refuses.xml',
    localPort: peers + 10,
    mediaPort: labPorts(edgeSlots.edge).sippMedia + 60,
    calls: 100_000,
    timeoutSec: 300,
  });
  const silent = runSipp({
    scenario: 'edge-node-silent.xml',
    localPort: peers + 11,
    mediaPort: labPorts(edgeSlots.edge).sippMedia + 64,
    calls: 100_000,
    timeoutSec: 300,
  });
  try {
    // The fakes go in front of the list; dispatcher.reload keeps registrations.
    const real = lab.edge.options.nodes;
    lab.edge.options.nodes = [
      { name: 'refuses', host: '127.0.0.1', port: peers + 10 },
      { name: 'silent', host: '127.0.0.1', port: peers + 11 },
      ...real,
    ];
    await lab.edge.render();
    await lab.edge.reloadNodes();
    await until('four nodes active', async () => (await lab.edge.nodes()).filter((n) => n.active).length === 4);
    const calls = await placeCalls(6, 400);
    for (const c of calls) t.equal(c.result.exitCode, 0, `the call from ${c.caller} was still answered`);
    refusing.kill();
    silent.kill();
    // Count calls by SIP Call-ID (the edge keeps it): retransmissions of one INVITE are one call.
    const callIds = (r: SippResult, direction: 'sent' | 'received', line: RegExp): Set<string> =>
      new Set(
        r.messages
          .filter((m) => m.direction === direction && line.test(startLine(m.text)))
          .map((m) => sipCallId(m.text)),
      );
    const refused = callIds(await refusing.done, 'sent', /^SIP\/2\.0 503/);
    const ignored = callIds(await silent.done, 'received', /^INVITE /);
    const silentAnswered = callIds(await silent.done, 'sent', /^SIP\/2\.0 [1-6]\d\d/);
    t.ok(refused.size >= 1, `the refusing node answered ${refused.size} call(s) with 503`);
    t.ok(ignored.size >= 1, `the silent node was offered ${ignored.size} call(s)`);
    t.equal([...silentAnswered].filter((id) => ignored.has(id)).length, 0, 'and answered none of them (probes only)');
    const answered = new Set(calls.filter((c) => c.result.exitCode === 0).map((c) => sipCallId(firstSent(c.result))));
    t.ok(
      [...refused].every((id) => answered.has(id)),
      'every call the refusing node turned away was answered by another node',
    );
    t.ok(
      [...ignored].every((id) => answered.has(id)),
      'every call the silent node ignored was answered by another node',
    );
    figures.failedOver = refused.size + ignored.size;
    lab.edge.options.nodes = real;
    await lab.edge.render();
    await lab.edge.reloadNodes();
    t.equal((await lab.edge.nodes()).length, 2, 'back to the two real nodes');
  } finally {
    refusing.kill();
    silent.kill();
  }
});

t.test('kill -9 of one Asterisk: the edge marks it inactive within 6 s and new calls go to the other', async (t) => {
  const [a, b] = lab.nodes;
  const pid = a.lab.asterisk.pid();
  t.ok(pid, 'node A runs');
  const killedAt = Date.now();
  process.kill(pid!, 'SIGKILL');
  const uri = `sip:127.0.0.1:${a.node.port}`;
  await until(
    'node A inactive at the edge',
    async () => (await lab.edge.nodes()).find((n) => n.uri === uri)?.active === false,
    15_000,
    100,
  );
  const inactiveMs = Date.now() - killedAt;
  figures.inactiveMs = inactiveMs;
  t.comment(`node A marked inactive ${inactiveMs} ms after kill -9`);
  t.ok(inactiveMs <= 6_000, `marked inactive within 6 s (${inactiveMs} ms)`);
  t.ok((await lab.edge.nodes()).find((n) => n.uri === `sip:127.0.0.1:${b.node.port}`)?.active, 'node B still active');

  const calls = await placeCalls(4, 300);
  for (const c of calls) {
    t.equal(c.result.exitCode, 0, `the call from ${c.caller} was answered`);
    t.equal(nodeOfCaller(c.caller), 'node-b', `the call from ${c.caller} went to node B`);
    const connected = await until(`${c.caller} connected`, () => connectionsOf(c.caller)[0]);
    t.equal(connected.node, 'node-b', 'and node B rang an agent at the edge');
  }
  t.comment(`after the kill: ${calls.length} calls, all on node B`);
});
