// A browser's phone through the SIP edge, with real audio: the agent's /agent page registers
// its JsSIP phone over the edge's WebSocket (Kamailio's websocket module; the page gets
// ws://edge as acd.webrtcUrl), so the edge's location table holds it and the Asterisk node
// behind the edge has only the fixed AOR contact through the edge, no registration of its own.
// A SIPp citizen calls the edge, the edge hands the call to node B, node B rings
// PJSIP/agent-w1 at the edge, the edge finds the browser's WebSocket and the page rings. The
// test clicks Answer and proves sound both ways with tones (the citizen's 600 Hz in the page's
// remote stream, the page's fake 1500 Hz microphone in what Asterisk sends the citizen), and
// that the media goes browser <-> Asterisk over the veth while signalling goes through the edge.
//
// Layout as in test/browser/phone.test.ts (pjlib offers no loopback ICE candidates): Chromium
// runs in a network namespace of this test process, whose 127.0.0.1 ports for the controller
// and the edge's WebSocket are relayed to the root namespace; Asterisk offers only the veth's
// root address as its ICE candidate. Lab slots 54 (node B: Asterisk + controller) and 55 (the
// edge's SIP and WebSocket ports, the citizen's SIPp).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { hotlineNumbers, repoRoot } from '../../src/asterisk/instance.js';
import { maskNumber } from '../../src/calls/privacy.js';
import { EdgeInstance } from '../../src/edge/instance.js';
import { edgeAgentContact } from '../../src/edge/render.js';
import { LogEvent } from '../../src/events/log-events.js';
import { acdFlow, acdQueuesWith } from '../helpers/acd-lab.js';
import { listen, type ProbeApp, testApp, tonePcap } from '../helpers/audio.js';
import { ensurePagesBuilt, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { edgeCitizenScenario } from '../helpers/edge.js';
import { type Lab, labPorts, startLab, until } from '../helpers/lab.js';
import { createNetns, INNER_ADDRESS, type Netns } from '../helpers/netns.js';
import { pageHearsTone } from '../helpers/page-tone.js';
import { type RunningSipp, runSipp } from '../helpers/sipp.js';
import { browserInNetns, iceOnVeth, signInWithPhone, toneMicrophone } from '../helpers/webrtc.js';

const CITIZEN_HZ = 600;
const AGENT_HZ = 1500;
const NODE_SLOT = 54;
const EDGE_SLOT = 55;
const edgePorts = labPorts(EDGE_SLOT);
const edgeAddress = { host: '127.0.0.1', port: edgePorts.sip };
const wsPort = edgePorts.ari; // the edge's WebSocket listener (slot 55 runs no Asterisk)
const sipSecret = 'edge-phone-master-secret';

let dir: string;
let netns: Netns;
let lab: Lab;
let edge: EdgeInstance;
let controller: ControllerProcess;
let browser: TestBrowser;
let probe: ProbeApp;

t.before(async () => {
  await ensurePagesBuilt();
  netns = createNetns();
  dir = mkdtempSync(join(tmpdir(), 'rexian-edge-phone-'));
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir);
  cpSync(join(repoRoot, 'test/fixtures/flows-greeting/calendar.yaml'), join(flowsDir, 'calendar.yaml'));
  writeFileSync(join(flowsDir, 'acd.yaml'), acdFlow);
  cpSync(join(repoRoot, 'ivr-flows/survey.yaml'), join(flowsDir, 'survey.yaml'));
  cpSync(join(repoRoot, 'ivr-flows/outbound-callback.yaml'), join(flowsDir, 'outbound-callback.yaml'));
  writeFileSync(
    join(dir, 'queues.yaml'),
    acdQueuesWith(`  ringSeconds: 20
  wrapUpSeconds: 2
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
  );
  writeFileSync(
    join(dir, 'agents.yaml'),
    'agents:\n  w1: { name: 测试w1, skills: {"general":5}, device: webrtc, autoAnswer: false }\n',
  );
  // Node B: the browser agent's endpoint stays webrtc=yes; its AOR's contact is the edge.
  lab = await startLab('edgews-b', NODE_SLOT, {
    flowsDir,
    queuesFile: join(dir, 'queues.yaml'),
    agentsFile: join(dir, 'agents.yaml'),
    pstnContact: `sip:127.0.0.1:${edgePorts.sipp + 9}`,
    numbers: [...hotlineNumbers, '7001'],
    agents: [
      {
        id: 'w1',
        secret: agentSipPassword(sipSecret, 'w1'),
        webrtc: true,
        contact: edgeAgentContact('w1', edgeAddress),
      },
    ],
  });
  lab.env.REXIAN_AGENT_SIP_SECRET = sipSecret;
  lab.env.REXIAN_WEBRTC_URL = `ws://127.0.0.1:${wsPort}`; // the page's phone registers at the edge
  await iceOnVeth(lab);

  edge = new EdgeInstance({
    name: 'test-edgews',
    ...edgeAddress,
    wsPort,
    nodes: [{ name: 'node-b', host: '127.0.0.1', port: lab.ports.sip }],
    carriers: ['127.0.0.1'],
    realm: 'rexian',
    agents: [{ id: 'w1', password: agentSipPassword(sipSecret, 'w1') }],
    children: 2,
  });
  await edge.stop(); // a leftover from an aborted run
  await edge.render();
  await edge.start();

  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  await until('node B active at the edge', async () => (await edge.nodes()).every((n) => n.active), 10_000);
  const put = await controller.api('PUT', '/api/people/w1', {
    role: 'agent',
    displayName: '李娜',
    password: 'desk-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/w1: ${put.status} ${JSON.stringify(put.body)}`);
  probe = await testApp(lab);
  const wav = toneMicrophone('edge-phone', AGENT_HZ, 90);
  browser = await browserInNetns(netns, [lab.ports.controller, wsPort], wav);
});

t.teardown(async () => {
  probe?.close();
  await browser?.close();
  await controller?.kill('SIGKILL');
  if (process.env.REXIAN_TEST_LOGS && edge)
    writeFileSync(join(process.env.REXIAN_TEST_LOGS, 'kamailio-edgews.log'), edge.tailLog());
  await edge?.destroy();
  await lab?.close();
  netns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Share of 50 ms frames of the page's remote stream in which `hz` dominates. */
const remoteTone = (hz: number, ms: number): Promise<number> =>
  pageHearsTone(browser.page, '[data-test=phone-remote-audio]', hz, ms);

async function channelOf(prefix: string): Promise<string> {
  return until(
    `a channel ${prefix}…`,
    async () => {
      const { body } = await lab.ari<Array<{ id: string; name: string }>>('GET', '/channels');
      return body.find((ch) => ch.name.startsWith(prefix))?.id;
    },
    5_000,
  );
}

async function channelVariable(channelId: string, variable: string): Promise<string> {
  const { body } = await lab.ari<{ value: string }>(
    'GET',
    `/channels/${channelId}/variable?variable=${encodeURIComponent(variable)}`,
  );
  return body.value;
}

t.test(
  "a browser's phone registered at the edge over WebSocket is rung by node B, answers, and audio flows both ways",
  async (t) => {
    const { page } = browser;
    await signInWithPhone(page, `${controller.url}/agent/`, 'w1', 'desk-password-1');
    t.pass('the page says 电话：已注册');

    const registered = (await edge.registrations()).get('agent-w1') ?? [];
    t.equal(registered.length, 1, "the edge's location table holds agent-w1");
    t.match(registered[0], /;transport=ws/i, `over its WebSocket (${registered[0]})`);
    const contacts = await lab.asterisk.command('pjsip show contacts');
    t.match(
      contacts,
      `agent-w1/${edgeAgentContact('w1', edgeAddress)}`,
      "node B has only the AOR's contact through the edge",
    );
    t.notMatch(contacts, /transport=ws/i, 'and no WebSocket registration of its own');

    t.equal((await controller.api('POST', '/api/agents/w1/login', {})).status, 200, 'w1 logs in');
    const ready = await controller.api('POST', '/api/agents/w1/ready');
    t.ok(ready.status === 200 || ready.status === 409, `w1 is ready (${ready.status})`);

    const caller = '13800138000';
    const from = controller.logs.length;
    const citizen: RunningSipp = runSipp({
      scenario: edgeCitizenScenario(tonePcap(CITIZEN_HZ, 60)),
      remote: `127.0.0.1:${edgeAddress.port}`,
      service: '7001',
      localPort: edgePorts.sipp,
      mediaPort: edgePorts.sippMedia,
      keys: { caller },
      timeoutSec: 120,
    });
    const entered = await controller.waitForEvent(
      LogEvent.callEntered,
      (l) => l.caller === maskNumber(caller),
      30_000,
      from,
    );
    const call = page.locator('[data-test=phone-call]');
    await until(
      'the page shows the incoming call',
      async () => /^来电：/.test((await call.textContent()) ?? ''),
      20_000,
      100,
    );
    t.pass(`the page rings (${await call.textContent()})`);
    await page.getByRole('button', { name: '接听' }).click();
    await until('the page is talking', async () => /^通话中：/.test((await call.textContent()) ?? ''), 10_000, 100);
    await controller.waitForEvent(LogEvent.callConnectedToAgent, (l) => l.callId === entered.callId, 15_000, from);
    t.pass('the controller connected the citizen to w1');

    const citizenChannel = await channelOf('PJSIP/pstn');
    const agentChannel = await channelOf('PJSIP/agent-w1');
    t.equal(
      await channelVariable(citizenChannel, 'CHANNEL(pjsip,remote_addr)'),
      `127.0.0.1:${edgeAddress.port}`,
      "the citizen's call came through the edge",
    );
    // The browser's 200 OK reached node B through the edge: its Contact (JsSIP's, a GRUU-like
    // sip:agent-w1@<ws host>;gr=…) carries the browser's WebSocket connection at the edge
    // (;alias=<ip>~<port>~5, nathelper's add_contact_alias), which node B's ACK and BYE use.
    const answeredContact = await channelVariable(agentChannel, 'PJSIP_RESPONSE_HEADER(read,Contact)');
    t.match(
      answeredContact,
      /;alias=127\.0\.0\.1~\d+~5(;|>|$)/, // ~5: WebSocket
      `node B's call to the browser was answered through the edge (Contact ${answeredContact})`,
    );
    const rtpDest = await channelVariable(agentChannel, 'CHANNEL(rtp,dest)');
    t.match(
      rtpDest,
      new RegExp(`^${INNER_ADDRESS.replaceAll('.', '\\.')}:\\d+$`),
      `the agent's media goes straight to the browser over the veth, not through the edge (${rtpDest})`,
    );
    const inPage = await remoteTone(CITIZEN_HZ, 2_000);
    t.ok(
      inPage >= 0.5,
      `the citizen's ${CITIZEN_HZ} Hz tone is heard in the page (${(inPage * 100).toFixed(0)} % of frames)`,
    );
    const otherInPage = await remoteTone(AGENT_HZ, 1_000);
    t.ok(otherInPage < 0.2, `and not the agent's own tone (${(otherInPage * 100).toFixed(0)} %)`);
    const heard = await listen(lab, probe, citizenChannel, 'edge-citizen-hears-page', 2_000, AGENT_HZ);
    t.ok(
      heard.toneWindows >= 0.5,
      `the page's microphone (${AGENT_HZ} Hz) reaches the citizen (${(heard.toneWindows * 100).toFixed(0)} % of windows, rms ${heard.rms.toFixed(0)})`,
    );
    await browser.screenshot('agent-phone-through-edge');

    // Ending the call from the desk: node B's BYE goes through the edge, down the browser's WebSocket.
    await page.getByRole('button', { name: /^结束通话/ }).click();
    await until('the page is idle again', async () => (await call.textContent()) === '空闲，等待来电', 10_000, 100);
    await until(
      "the citizen's channel is gone",
      async () => {
        const { body } = await lab.ari<Array<{ id: string }>>('GET', '/channels');
        return !body.some((ch) => ch.id === citizenChannel);
      },
      10_000,
    );
    t.pass("结束通话 ends the call, and the page's phone got node B's BYE through the edge");
    const result = await citizen.done;
    t.equal(result.exitCode, 0, "the citizen's SIPp got the BYE along the edge's route set and ended cleanly");
    t.same(browser.errors, [], 'no console errors');
  },
);
