// A province in miniature for the SIP edge tests: Kamailio in front of two Asterisk nodes,
// each with its controller, one Redis prefix and one roster shared by both. The agents'
// AORs on both nodes point at the edge (sip:agent-<id>@edge), where the agents register.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { agentSipPassword } from '../../src/acd/roster.js';
import { hotlineNumbers, repoRoot } from '../../src/asterisk/instance.js';
import { EdgeInstance } from '../../src/edge/instance.js';
import { edgeAgentContact, type EdgeNode } from '../../src/edge/render.js';
import { edgeSeatRpc } from '../../src/edge/seat-client.js';
import { acdFlow, acdQueues } from './acd-lab.js';
import { ControllerProcess } from './controller.js';
import { type Lab, labPorts, startLab, until } from './lab.js';
import { scratchDir } from './scratch.js';
import { type RunningSipp, runSipp } from './sipp.js';

export interface EdgeLabAgent {
  id: string;
  skills: Record<string, number>;
}

export interface EdgeNodeLab {
  lab: Lab;
  controller: ControllerProcess;
  node: EdgeNode;
}

export interface EdgeLab {
  edge: EdgeInstance;
  /** A supervisor's API token (config auth.tokens: 张班长, team a). */
  supervisorToken: string;
  nodes: [EdgeNodeLab, EdgeNodeLab];
  sipSecret: string;
  dir: string;
  close(): Promise<void>;
}

export const edgeSlots = { nodeA: 20, nodeB: 21, edge: 22, peers: 23 } as const;
/** The edge listens on slot 22's SIP port. */
export const edgePort = labPorts(edgeSlots.edge).sip;
/** The edge's seat listener, which the controllers update its password table on. */
export const edgeRpcPort = labPorts(edgeSlots.edge).controller;

export async function startEdgeLab(agents: EdgeLabAgent[]): Promise<EdgeLab> {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-edge-'));
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir);
  cpSync(join(repoRoot, 'test/fixtures/flows-greeting/calendar.yaml'), join(flowsDir, 'calendar.yaml'));
  writeFileSync(join(flowsDir, 'acd.yaml'), acdFlow);
  cpSync(join(repoRoot, 'ivr-flows/survey.yaml'), join(flowsDir, 'survey.yaml'));
  cpSync(join(repoRoot, 'ivr-flows/outbound-callback.yaml'), join(flowsDir, 'outbound-callback.yaml'));
  writeFileSync(join(dir, 'queues.yaml'), acdQueues);
  writeFileSync(
    join(dir, 'agents.yaml'),
    `agents:\n${agents.map((a) => `  ${a.id}: { name: 测试${a.id}, skills: ${JSON.stringify(a.skills)}, device: sip }`).join('\n')}\n`,
  );
  const sipSecret = `edge-lab-${randomBytes(8).toString('hex')}`;
  const edgeAddress = { host: '127.0.0.1', port: edgePort };
  const prefix = `rexian-test:edge-a:${randomBytes(4).toString('hex')}`; // cleared with lab edge-a's leftovers
  const peers = labPorts(edgeSlots.peers);

  const startNode = async (name: string, slot: number): Promise<Lab> => {
    const lab = await startLab(name, slot, {
      flowsDir,
      queuesFile: join(dir, 'queues.yaml'),
      agentsFile: join(dir, 'agents.yaml'),
      prefix,
      pstnContact: `sip:127.0.0.1:${peers.sipp + 9}`,
      numbers: [...hotlineNumbers, '7001', '7002', '7003', '7004', '7005', '7006', '7007', '7008'],
      // Edge mode: the agent endpoint keeps its name, its AOR rings the agent through the edge.
      agents: agents.map((a) => ({
        id: a.id,
        secret: agentSipPassword(sipSecret, a.id),
        contact: edgeAgentContact(a.id, edgeAddress),
      })),
    });
    lab.env.REXIAN_AGENT_SIP_SECRET = sipSecret;
    return lab;
  };
  const labA = await startNode('edge-a', edgeSlots.nodeA);
  const labB = await startNode('edge-b', edgeSlots.nodeB);
  labB.env.REXIAN_ADMIN_TOKEN = labA.env.REXIAN_ADMIN_TOKEN!; // one platform, one set of tokens
  // Both controllers know the edge: API agents' and supervisors' seats are rung through it, and
  // the controllers tell it the seats' passwords over its seat listener.
  const edgeConfig = { host: edgeAddress.host, port: edgeAddress.port, rpcPort: edgeRpcPort };
  const supervisorToken = `edge-supervisor-${randomBytes(8).toString('hex')}`;
  const configFile = join(dir, 'rexian.yaml');
  writeFileSync(
    configFile,
    `edge: ${JSON.stringify(edgeConfig)}
` +
      `auth:
  tokens:
    - { name: 张班长, role: supervisor, teams: [a], token: ${supervisorToken} }
`,
  );
  labA.env.REXIAN_CONFIG = configFile;
  labB.env.REXIAN_CONFIG = configFile;

  const nodeOf = (name: string, lab: Lab): EdgeNode => ({ name, host: '127.0.0.1', port: lab.ports.sip });
  const nodes = [nodeOf('node-a', labA), nodeOf('node-b', labB)];
  const edge = new EdgeInstance({
    name: 'test-edge',
    host: edgeAddress.host,
    port: edgeAddress.port,
    nodes,
    carriers: ['127.0.0.1'],
    realm: 'rexian',
    agents: agents.map((a) => ({ id: a.id, password: agentSipPassword(sipSecret, a.id) })),
    rpc: edgeSeatRpc(edgeConfig, sipSecret),
    children: 2,
  });
  await edge.stop(); // a leftover from an aborted run
  await edge.render();
  await edge.start();

  const ctlA = new ControllerProcess(labA.env, labA.ports.controller).start();
  const ctlB = new ControllerProcess(labB.env, labB.ports.controller).start();
  await Promise.all([ctlA.waitReady(), ctlB.waitReady()]);
  await until(
    'both nodes active at the edge',
    async () => (await edge.nodes()).filter((n) => n.active).length === 2,
    10_000,
  );
  return {
    edge,
    supervisorToken,
    sipSecret,
    dir,
    nodes: [
      { lab: labA, controller: ctlA, node: nodes[0]! },
      { lab: labB, controller: ctlB, node: nodes[1]! },
    ],
    async close() {
      await ctlA.kill('SIGKILL');
      await ctlB.kill('SIGKILL');
      // REXIAN_TEST_LOGS=dir keeps the edge's log too, for a look after a failure.
      if (process.env.REXIAN_TEST_LOGS)
        writeFileSync(join(process.env.REXIAN_TEST_LOGS, 'kamailio.log'), edge.tailLog());
      await edge.destroy();
      await labA.close();
      await labB.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An agent's phone: registers at the edge with digest auth, then answers calls on the same port. */
export async function registeredAgent(
  edgeLab: EdgeLab,
  agentId: string,
  index: number,
): Promise<{ phone: RunningSipp; port: number }> {
  const port = labPorts(edgeSlots.edge).sipp + index;
  const registration = await runSipp({
    scenario: 'agent-registers.xml',
    remote: `127.0.0.1:${edgePort}`,
    service: `agent-${agentId}`,
    localPort: port,
    mediaPort: labPorts(edgeSlots.edge).sippMedia + 4 * index,
    extraArgs: ['-au', `agent-${agentId}`, '-ap', agentSipPassword(edgeLab.sipSecret, agentId)],
  }).done;
  if (registration.exitCode !== 0)
    throw new Error(`agent ${agentId} could not register at the edge: ${registration.errors}`);
  const phone = runSipp({
    scenario: 'edge-agent-answers.xml',
    localPort: port,
    mediaPort: labPorts(edgeSlots.edge).sippMedia + 4 * index,
    calls: 1000,
    timeoutSec: 900,
  });
  return { phone, port };
}

let citizenSeq = 0;

/** A citizen's call through the edge; resolves with SIPp's result once the hotline hung up. */
export function edgeCitizen(did: string, caller: string): RunningSipp & { callId: Promise<string> } {
  const k = citizenSeq++ % 28;
  const peers = labPorts(edgeSlots.peers);
  const sipp = runSipp({
    scenario: 'edge-citizen.xml',
    remote: `127.0.0.1:${edgePort}`,
    service: did,
    localPort: peers.controller - 30 + k,
    mediaPort: peers.sippMedia + 4 * k,
    keys: { caller },
    timeoutSec: 60,
  });
  const callId = sipp.done.then((r) => sipCallId(r.messages.find((m) => m.direction === 'sent')?.text ?? ''));
  return { ...sipp, callId };
}

/**
 * test/sipp/edge-citizen.xml with a tone played from the moment the call is answered (a pcap from
 * test/helpers/audio.ts tonePcap), for tests that prove audio through the edge. Returns the file.
 */
export function edgeCitizenScenario(pcap: string): string {
  const base = readFileSync(join(repoRoot, 'test/sipp/edge-citizen.xml'), 'utf8');
  const at = base.indexOf('  <recv request="BYE"/>');
  const file = join(scratchDir('edge-scenario'), 'edge-citizen-tone.xml');
  writeFileSync(
    file,
    `${base.slice(0, at)}  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>\n${base.slice(at)}`,
  );
  return file;
}

export function sipCallId(message: string): string {
  return /^\s*Call-ID:\s*(\S+)/im.exec(message)?.[1] ?? '';
}
