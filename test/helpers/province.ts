// The province on one machine (issue 16), built by its test: Kamailio at the edge, two
// Asterisk nodes, a controller pair per node (ARI lease), Redis master + replica + three
// sentinels, one PostgreSQL database, SIPp agents registered at the edge and SIPp citizens
// dialling it. Lab slots 46 (node A), 47 (node B), 48 (edge, agents' phones, node A's
// standby), 49 (citizens, node B's standby); Redis ports 26801-26813.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { agentSipPassword } from '../../src/acd/roster.js';
import { hotlineNumbers, repoRoot } from '../../src/asterisk/instance.js';
import { EdgeInstance } from '../../src/edge/instance.js';
import { edgeAgentContact, type EdgeNode } from '../../src/edge/render.js';
import { acdFlow, acdQueues } from './acd-lab.js';
import { ControllerProcess } from './controller.js';
import { sipCallId } from './edge.js';
import { type Lab, labPorts, startLab, until } from './lab.js';
import { scratchDir } from './scratch.js';
import { SentinelRedis } from './sentinel.js';
import { type RunningSipp, runSipp } from './sipp.js';

export const provinceSlots = { nodeA: 46, nodeB: 47, edge: 48, peers: 49 } as const;
const edgePort = labPorts(provinceSlots.edge).sip;

/**
 * The ARI lease must outlast a Redis failover (sentinels' down-after 700 ms + election +
 * reconnect, about 2.5 s) and still let a standby take over within 5 s of a kill: a 4 s lease
 * renewed every 0.5 s is taken over 3.5-4 s after the holder's death, and a holder fences
 * itself only after 3.6 s without a renewal.
 */
const HA = { ttlMs: 4_000, renewEveryMs: 500, retryEveryMs: 200 };

export interface ProvinceNode {
  name: 'node-a' | 'node-b';
  lab: Lab;
  /** Every controller process this node has had (a killed one stays, with its logs). */
  controllers: ControllerProcess[];
  standbyPort: number;
  edgeNode: EdgeNode;
}

export interface Province {
  edge: EdgeInstance;
  redis: SentinelRedis;
  nodes: [ProvinceNode, ProvinceNode];
  databaseUrl: string;
  prefix: string;
  phones: RunningSipp[];
  /** A controller of the node, started anew (a killed one's replacement), on the given port. */
  startController(node: ProvinceNode, port: number): ControllerProcess;
  close(): Promise<void>;
}

export async function startProvince(agentIds: string[], talkMs: number): Promise<Province> {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-province-'));
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir);
  cpSync(join(repoRoot, 'test/fixtures/flows-greeting/calendar.yaml'), join(flowsDir, 'calendar.yaml'));
  writeFileSync(join(flowsDir, 'acd.yaml'), acdFlow);
  cpSync(join(repoRoot, 'ivr-flows/survey.yaml'), join(flowsDir, 'survey.yaml'));
  cpSync(join(repoRoot, 'ivr-flows/outbound-callback.yaml'), join(flowsDir, 'outbound-callback.yaml'));
  writeFileSync(join(dir, 'queues.yaml'), acdQueues);
  writeFileSync(
    join(dir, 'agents.yaml'),
    `agents:\n${agentIds.map((id) => `  ${id}: { name: 测试${id}, skills: {"general":5}, device: sip }`).join('\n')}\n`,
  );
  const sipSecret = `province-${randomBytes(8).toString('hex')}`;
  const edgeAddress = { host: '127.0.0.1', port: edgePort };
  const prefix = `rexian-test:province-a:${randomBytes(4).toString('hex')}`;
  const peers = labPorts(provinceSlots.peers);

  const redis = new SentinelRedis(
    'rexian-province',
    { nodes: [26801, 26802], sentinels: [26811, 26812, 26813] },
    { downAfterMs: 700, failoverTimeoutMs: 4_000 },
  );
  await redis.start();

  const startNode = async (name: string, slot: number): Promise<Lab> => {
    const lab = await startLab(name, slot, {
      flowsDir,
      queuesFile: join(dir, 'queues.yaml'),
      agentsFile: join(dir, 'agents.yaml'),
      prefix,
      pstnContact: `sip:127.0.0.1:${peers.sipp + 9}`,
      numbers: [...hotlineNumbers, '7001', '7002', '7003', '7004', '7005', '7006', '7007', '7008'],
      agents: agentIds.map((id) => ({
        id,
        secret: agentSipPassword(sipSecret, id),
        contact: edgeAgentContact(id, edgeAddress),
      })),
    });
    Object.assign(lab.env, {
      REXIAN_AGENT_SIP_SECRET: sipSecret,
      REXIAN_REDIS_SENTINELS: redis.sentinelList,
      REXIAN_REDIS_MASTER_NAME: redis.name,
      REXIAN_REDIS_WAIT_REPLICAS: '1',
      REXIAN_REDIS_WAIT_TIMEOUT_MS: '500',
      REXIAN_HA_LEASE_TTL_MS: String(HA.ttlMs),
      REXIAN_HA_RENEW_EVERY_MS: String(HA.renewEveryMs),
      REXIAN_HA_RETRY_EVERY_MS: String(HA.retryEveryMs),
    });
    return lab;
  };
  const labA = await startNode('province-a', provinceSlots.nodeA);
  const labB = await startNode('province-b', provinceSlots.nodeB);
  // One platform: one set of tokens, one database for the records of both nodes.
  labB.env.REXIAN_ADMIN_TOKEN = labA.env.REXIAN_ADMIN_TOKEN!;
  labB.env.DATABASE_URL = labA.env.DATABASE_URL!;

  const edgeNodeOf = (name: string, lab: Lab): EdgeNode => ({ name, host: '127.0.0.1', port: lab.ports.sip });
  const edge = new EdgeInstance({
    name: 'test-province-edge',
    host: edgeAddress.host,
    port: edgeAddress.port,
    nodes: [edgeNodeOf('node-a', labA), edgeNodeOf('node-b', labB)],
    carriers: ['127.0.0.1'],
    realm: 'rexian',
    agents: agentIds.map((id) => ({ id, password: agentSipPassword(sipSecret, id) })),
    children: 2,
  });
  await edge.stop(); // a leftover from an aborted run
  await edge.render();
  await edge.start();

  const nodes: [ProvinceNode, ProvinceNode] = [
    {
      name: 'node-a',
      lab: labA,
      controllers: [],
      standbyPort: labPorts(provinceSlots.edge).controller,
      edgeNode: edgeNodeOf('node-a', labA),
    },
    {
      name: 'node-b',
      lab: labB,
      controllers: [],
      standbyPort: labPorts(provinceSlots.peers).controller,
      edgeNode: edgeNodeOf('node-b', labB),
    },
  ];
  const startController = (node: ProvinceNode, port: number): ControllerProcess => {
    const c = new ControllerProcess({ ...node.lab.env, REXIAN_HTTP_PORT: String(port) }, port).start();
    node.controllers.push(c);
    return c;
  };
  // The actives first (each holds its node's lease), then the standbys.
  for (const n of nodes) startController(n, n.lab.ports.controller);
  await Promise.all(nodes.map((n) => n.controllers[0]!.waitReady(30_000)));
  for (const n of nodes) startController(n, n.standbyPort);
  await Promise.all(nodes.map((n) => standingBy(n.controllers[1]!)));
  await until('both nodes active at the edge', async () => (await edge.nodes()).every((n) => n.active), 15_000);

  // Agents' phones: register at the edge, then answer, talk talkMs and hang up.
  const agentScenario = join(scratchDir('province'), 'agent.xml');
  writeFileSync(
    agentScenario,
    readFileSync(join(repoRoot, 'test/sipp/edge-agent-answers.xml'), 'utf8').replace(
      'timeout="1500"',
      `timeout="${talkMs}"`,
    ),
  );
  const phones: RunningSipp[] = [];
  const agentPorts = labPorts(provinceSlots.edge);
  for (const [i, id] of agentIds.entries()) {
    const registration = await runSipp({
      scenario: 'agent-registers.xml',
      remote: `127.0.0.1:${edgePort}`,
      service: `agent-${id}`,
      localPort: agentPorts.sipp + i,
      mediaPort: agentPorts.sippMedia + 4 * i,
      extraArgs: ['-au', `agent-${id}`, '-ap', agentSipPassword(sipSecret, id)],
    }).done;
    if (registration.exitCode !== 0) throw new Error(`agent ${id} could not register: ${registration.errors}`);
    phones.push(
      runSipp({
        scenario: agentScenario,
        localPort: agentPorts.sipp + i,
        mediaPort: agentPorts.sippMedia + 4 * i,
        calls: 1000,
        timeoutSec: 900,
      }),
    );
  }

  return {
    edge,
    redis,
    nodes,
    databaseUrl: labA.env.DATABASE_URL!,
    prefix,
    phones,
    startController,
    async close() {
      for (const p of phones) p.kill();
      for (const n of nodes) for (const c of n.controllers) await c.kill('SIGKILL');
      if (process.env.REXIAN_TEST_LOGS)
        writeFileSync(join(process.env.REXIAN_TEST_LOGS, 'kamailio.log'), edge.tailLog());
      await edge.destroy();
      await labA.close();
      await labB.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Up, serving HTTP, and standing by (/readyz 503 with status standby). */
export async function standingBy(c: ControllerProcess): Promise<void> {
  await until(
    'controller standing by',
    async () => {
      if (!c.running) throw new Error(`controller exited: ${c.stderr.join('\n')}`);
      const r = await c.readyz().catch(() => undefined);
      return r?.status === 503 && r.body.status === 'standby';
    },
    30_000,
  );
}

export async function roleOf(c: ControllerProcess): Promise<string> {
  const res = await fetch(`${c.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return ((await res.json()) as { role: string }).role;
}

let citizenSeq = 0;
const busy = new Set<number>();

/** A citizen's call through the edge (edge-citizen.xml): resolves once the hotline hung up. */
export function provinceCitizen(caller: string, timeoutSec = 60): RunningSipp & { callId: Promise<string> } {
  const peers = labPorts(provinceSlots.peers);
  let k = citizenSeq++ % 24;
  for (let tries = 0; busy.has(k) && tries < 24; tries++) k = (k + 1) % 24;
  busy.add(k);
  const sipp = runSipp({
    scenario: 'edge-citizen.xml',
    remote: `127.0.0.1:${edgePort}`,
    service: '7001',
    localPort: peers.controller - 30 + k,
    mediaPort: peers.sippMedia + 4 * k,
    keys: { caller },
    timeoutSec,
  });
  void sipp.done.finally(() => busy.delete(k));
  const callId = sipp.done.then((r) => sipCallId(r.messages.find((m) => m.direction === 'sent')?.text ?? ''));
  return { ...sipp, callId };
}
