// `rexian edge up` renders the seats the controllers made (agents added through the API,
// supervisors' seats) from Redis, beside the roster's agents, so an edge restarted after they
// were made still knows them; with Redis out of reach it starts with the roster and says why.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import t from 'tap';

import { apiRosterKey } from '../../src/acd/provisioning.js';
import { agentSipPassword } from '../../src/acd/roster.js';
import { edgeFor, madeSeats } from '../../src/cli/edge.js';
import { loadConfig } from '../../src/config/index.js';
import { supervisorEndpoint, supervisorSeatsKey, supervisorSipPassword } from '../../src/supervision/seats.js';
import { deleteKeys } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';

const redis = new Redis('redis://127.0.0.1:6379');
const prefix = `rexian-test:edge-seats:${randomBytes(4).toString('hex')}`;
t.teardown(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const dir = scratchDir('edge-made-seats');
const roster = join(dir, 'agents.yaml');
writeFileSync(roster, 'agents:\n  r1: { name: 值班一, skills: { general: 5 } }\n');
const configFile = join(dir, 'rexian.yaml');
writeFileSync(configFile, 'edge: { host: 127.0.0.1, port: 5999 }\n');
const secret = 'edge-made-seats-secret';
const env = (redisUrl: string) => ({
  REXIAN_ARI_PASSWORD: 'ari-secret-1',
  REXIAN_AMI_PASSWORD: 'ami-secret-1',
  REXIAN_AGENT_SIP_SECRET: secret,
  REXIAN_AGENTS_FILE: roster,
  REXIAN_REDIS_PREFIX: prefix,
  REDIS_URL: redisUrl,
  REXIAN_CONFIG: configFile,
});

t.test('the API agents and supervisors Redis names are rendered with the roster', async (t) => {
  await redis.hset(apiRosterKey(prefix), 'api7', JSON.stringify({ id: 'api7', name: '临时', skills: {} }));
  await redis.hset(apiRosterKey(prefix), 'r1', JSON.stringify({ id: 'r1', name: 'dup', skills: {} }));
  await redis.hset(supervisorSeatsKey(prefix), '张班长', supervisorEndpoint('张班长'));
  const config = loadConfig({ env: env('redis://127.0.0.1:6379') });
  const made = await madeSeats(config);
  t.equal(made.problem, undefined);
  t.same(made.seats, [{ user: supervisorEndpoint('张班长'), password: supervisorSipPassword(secret, '张班长') }]);
  const edge = edgeFor(config, 'unit', made);
  t.same(
    edge.options.agents.map((a) => a.id).sort(),
    ['api7', 'r1'],
    'the roster agent and the API one, an id in both once',
  );
  t.same(
    edge.options.agents.find((a) => a.id === 'api7'),
    { id: 'api7', password: agentSipPassword(secret, 'api7') },
  );
  const table = edge.files()['db/agents'];
  t.match(table, `${supervisorEndpoint('张班长')}:0:0:${supervisorSipPassword(secret, '张班长')}:0`);
  t.equal(edge.options.rpc?.port, 8061, 'the seat listener is on, the token derived from the secret');
});

t.test('Redis out of reach: the roster only, and the reason', async (t) => {
  const started = Date.now();
  const made = await madeSeats(loadConfig({ env: env('redis://127.0.0.1:1') }), 2_000);
  t.ok(Date.now() - started < 2_500, 'it does not hang');
  t.same([made.agents, made.seats], [[], []]);
  t.match(made.problem, /ECONNREFUSED|connect|Connection/i, String(made.problem));
});

t.test('a Redis that takes the connection and never answers: the roster only, in bounded time', async (t) => {
  const silent = createServer(() => undefined); // accepts, reads nothing, says nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  silent.on('connection', (socket) => t.teardown(() => socket.destroy()));
  const port = (silent.address() as AddressInfo).port;
  const started = Date.now();
  const made = await madeSeats(loadConfig({ env: env(`redis://127.0.0.1:${port}`) }), 1_000);
  t.ok(Date.now() - started < 2_500, `it does not hang (${Date.now() - started} ms)`);
  t.same([made.agents, made.seats], [[], []]);
  t.match(made.problem, /timed? ?out/i, String(made.problem));
});
