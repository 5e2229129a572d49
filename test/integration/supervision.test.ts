// Supervisors on a live call, proved with sound: the citizen's phone "speaks" 440 Hz and the
// supervisor's 697 Hz; what the citizen and the supervisor hear is recorded by Asterisk (a
// snoop), what the agent hears is received as RTP by the test itself (a whisper is mixed
// in after Asterisk's spies look, so only the agent's own RTP can show it). Monitor: the supervisor hears
// the agent, nobody hears the supervisor. Whisper: only the agent hears the supervisor.
// Barge: everyone hears everyone. Take over: the agent drops, the supervisor stays.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import {
  agentListeningScenario,
  agentSpeakingScenario,
  listen,
  type ProbeApp,
  rtpEar,
  testApp,
  tonePcap,
} from '../helpers/audio.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, streamEntries, until } from '../helpers/lab.js';

const tokens = {
  boss: 'supervisor-boss-token-0123456789',
  other: 'supervisor-other-token-0123456789',
  agent: 'agent-g1-token-0123456789',
};
const CITIZEN_HZ = 440;
const EAR_PORT = 51_480;
const SUPERVISOR_HZ = 697;
let acdLab: AcdLab;
let controller: ControllerProcess;
let probe: ProbeApp;
let agentEar: Awaited<ReturnType<typeof rtpEar>>;

t.before(async () => {
  acdLab = await startAcdLab('supervise', 13, [
    { id: 'g1', skills: { general: 5 }, scenario: agentListeningScenario(EAR_PORT), team: 'a' },
    { id: 'boss', skills: { supervise: 1 }, scenario: agentSpeakingScenario(SUPERVISOR_HZ), team: 'lead' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 班长, role: supervisor, teams: [a], agent: boss, token: ${tokens.boss} }
    - { name: 别组班长, role: supervisor, teams: [b], agent: boss, token: ${tokens.other} }
    - { name: 坐席, role: agent, agent: g1, token: ${tokens.agent} }
`,
  );
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  probe = await testApp(acdLab.lab);
  agentEar = await rtpEar(EAR_PORT);
});

t.teardown(async () => {
  agentEar?.close();
  probe?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function as(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

t.test('monitor, whisper, barge and take-over, each heard where it should be and nowhere else', async (t) => {
  t.equal((await controller.api('POST', '/api/agents/g1/login', { ready: true })).status, 200);
  // The citizen "speaks" too (a phone sends RTP all the time; a whisper rides on it).
  const c = citizen(acdLab.lab, controller, {
    did: '7001',
    caller: '13800000131',
    steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }],
  });
  const { callId } = (await c.log(LogEvent.callConnectedToAgent)) as { callId: string };
  const supervisorLeg = `${callId}-s1`;
  const lab = acdLab.lab;
  let n = 0;
  const hears = async (channel: string, hz: number): Promise<number> =>
    (await listen(lab, probe, channel, `ear-${n++}`, 1500, hz)).toneWindows;
  const agentHears = async (hz: number): Promise<number> => (await agentEar.hear(1500, hz)).toneWindows;

  t.equal(
    (await as(tokens.agent, 'POST', `/api/calls/${callId}/supervise`, { mode: 'monitor' })).status,
    403,
    'an agent cannot listen in',
  );
  t.equal(
    (await as(tokens.other, 'POST', `/api/calls/${callId}/supervise`, { mode: 'monitor' })).status,
    403,
    "nor can another team's supervisor",
  );
  const list = await as(tokens.boss, 'GET', '/api/calls');
  t.match(list.body.calls, [{ callId, agentId: 'g1', team: 'a', supervised: false }], 'the supervisor sees the call');
  t.same((await as(tokens.other, 'GET', '/api/calls')).body.calls, [], "the other team's supervisor does not");

  t.equal((await as(tokens.boss, 'POST', `/api/calls/${callId}/supervise`, { mode: 'monitor' })).status, 200);
  await c.log(LogEvent.supervisorJoined, 15_000);
  const monitor = {
    supervisorHearsCitizen: await hears(supervisorLeg, CITIZEN_HZ),
    agentHearsCitizen: await agentHears(CITIZEN_HZ),
    agentHearsSupervisor: await agentHears(SUPERVISOR_HZ),
    citizenHearsSupervisor: await hears(callId, SUPERVISOR_HZ),
  };
  t.ok(
    monitor.supervisorHearsCitizen > 0.7,
    `monitor: the supervisor hears the call (${pct(monitor.supervisorHearsCitizen)})`,
  );
  t.ok(
    monitor.agentHearsCitizen > 0.7,
    `monitor: the agent hears the citizen as before (${pct(monitor.agentHearsCitizen)})`,
  );
  t.ok(
    monitor.agentHearsSupervisor < 0.1,
    `monitor: the agent does not hear the supervisor (${pct(monitor.agentHearsSupervisor)})`,
  );
  t.ok(
    monitor.citizenHearsSupervisor < 0.1,
    `monitor: the citizen does not hear the supervisor (${pct(monitor.citizenHearsSupervisor)})`,
  );

  t.equal((await as(tokens.boss, 'POST', `/api/calls/${callId}/supervise/mode`, { mode: 'whisper' })).status, 200);
  const whisper = {
    agentHearsSupervisor: await agentHears(SUPERVISOR_HZ),
    agentHearsCitizen: await agentHears(CITIZEN_HZ),
    citizenHearsSupervisor: await hears(callId, SUPERVISOR_HZ),
  };
  t.ok(
    whisper.agentHearsSupervisor > 0.7,
    `whisper: the agent hears the supervisor (${pct(whisper.agentHearsSupervisor)})`,
  );
  t.ok(whisper.agentHearsCitizen > 0.7, `whisper: and still the citizen (${pct(whisper.agentHearsCitizen)})`);
  t.ok(
    whisper.citizenHearsSupervisor < 0.1,
    `whisper: the citizen does not hear the supervisor (${pct(whisper.citizenHearsSupervisor)})`,
  );

  t.equal((await as(tokens.boss, 'POST', `/api/calls/${callId}/supervise/mode`, { mode: 'barge' })).status, 200);
  const barge = {
    citizenHearsSupervisor: await hears(callId, SUPERVISOR_HZ),
    agentHearsSupervisor: await agentHears(SUPERVISOR_HZ),
    supervisorHearsCitizen: await hears(supervisorLeg, CITIZEN_HZ),
  };
  t.ok(
    barge.citizenHearsSupervisor > 0.7,
    `barge: the citizen hears the supervisor (${pct(barge.citizenHearsSupervisor)})`,
  );
  t.ok(barge.agentHearsSupervisor > 0.7, `barge: so does the agent (${pct(barge.agentHearsSupervisor)})`);
  t.ok(
    barge.supervisorHearsCitizen > 0.7,
    `barge: the supervisor hears the citizen (${pct(barge.supervisorHearsCitizen)})`,
  );

  t.equal((await as(tokens.boss, 'POST', `/api/calls/${callId}/take-over`)).status, 200);
  await c.log(LogEvent.agentDroppedToSupervisor, 10_000);
  t.match((await controller.api('GET', '/api/agents/g1')).body, { state: 'wrap-up' }, 'the agent goes to wrap-up');
  const taken = {
    citizenHearsSupervisor: await hears(callId, SUPERVISOR_HZ),
    agentHearsCitizen: await agentHears(CITIZEN_HZ),
  };
  t.ok(
    taken.citizenHearsSupervisor > 0.7,
    `take-over: the citizen talks with the supervisor (${pct(taken.citizenHearsSupervisor)})`,
  );
  t.ok(taken.agentHearsCitizen < 0.1, `take-over: the agent is out of the call (${pct(taken.agentHearsCitizen)})`);

  await lab.ari('DELETE', `/channels/${supervisorLeg}`); // the supervisor hangs up
  t.equal((await c.sipp.done).exitCode, 0, 'then the call ends normally for the citizen');
  const audit = await streamEntries(lab.redis, `${lab.prefix}:audit`);
  t.same(
    audit.map((a) => [a.who, a.action, a.mode ?? '']),
    [
      ['班长', 'start', 'monitor'],
      ['班长', 'mode', 'whisper'],
      ['班长', 'mode', 'barge'],
      ['班长', 'take-over', ''],
    ],
    'every action audited: who and which mode',
  );
  t.ok(
    audit.every((a) => a.callId === callId && a.at),
    'with the call and the time',
  );
});

t.test("the taken-over call's record names the agent who answered it", async (t) => {
  const rows = await until(
    'record written',
    async () => {
      const r = await dbRows<Record<string, unknown>>(
        acdLab.lab.env.DATABASE_URL!,
        'SELECT * FROM call_records WHERE caller = $1',
        ['13800000131'],
      );
      return r.length === 1 ? r : undefined;
    },
    20_000,
  );
  t.match(rows[0], { direction: 'inbound', answered: true, agent_id: 'g1', queue: 'general' });
  t.ok(Number(rows[0]!.talk_ms) > 5000, `talk time kept (${String(rows[0]!.talk_ms)} ms)`);
});
