// The pure parts of Redis under Sentinel: the configuration (sentinels from the environment,
// refused without a master name), the ioredis options it makes (sentinels, READONLY handling,
// how long a command waits through a failover), and the retry protocol of scripts that declare
// the keys they touch (src/store/declared-keys.ts).
import t from 'tap';

import { loadConfig, parseHostPorts } from '../../src/config/index.js';
import { isRexianError } from '../../src/errors/index.js';
import { KeysKeptChanging, NEED, neededKeys, runDeclared, uniqueKeys } from '../../src/store/declared-keys.js';
import { DEFAULT_FAILOVER_WAIT_MS, isReadOnlyError, redisOptions, retriesFor } from '../../src/store/redis.js';

const secrets = { REXIAN_ARI_PASSWORD: 'ari-secret-1', REXIAN_AMI_PASSWORD: 'ami-secret-1' };

t.test('sentinels come from REXIAN_REDIS_SENTINELS as host:port pairs', async (t) => {
  const c = loadConfig({
    env: {
      ...secrets,
      REXIAN_REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26379,sentinel-c:26380',
      REXIAN_REDIS_MASTER_NAME: 'rexian',
      REXIAN_REDIS_WAIT_REPLICAS: '1',
      REXIAN_REDIS_WAIT_TIMEOUT_MS: '250',
    },
  });
  t.same(c.redis.sentinels, [
    { host: '10.0.0.1', port: 26379 },
    { host: '10.0.0.2', port: 26379 },
    { host: 'sentinel-c', port: 26380 },
  ]);
  t.equal(c.redis.masterName, 'rexian');
  t.equal(c.redis.waitReplicas, 1);
  t.equal(c.redis.waitTimeoutMs, 250);
});

t.test('a sentinel list that is not host:port pairs, or no master name, is refused by name', async (t) => {
  t.equal(parseHostPorts('a:1,b'), 'a:1,b', 'left as written for the schema to name');
  const refuse = (env: Record<string, string>): string => {
    try {
      loadConfig({ env: { ...secrets, ...env } });
    } catch (err) {
      if (isRexianError(err, 'REXIAN_CONFIG_INVALID')) return err.message;
      throw err;
    }
    return 'accepted';
  };
  t.match(
    refuse({ REXIAN_REDIS_SENTINELS: 'a:1,b', REXIAN_REDIS_MASTER_NAME: 'm' }),
    /redis\.sentinels.*REXIAN_REDIS_SENTINELS/,
  );
  t.match(refuse({ REXIAN_REDIS_SENTINELS: 'a:1' }), /masterName/);
  t.match(refuse({ REXIAN_REDIS_WAIT_REPLICAS: '-1' }), /redis\.waitReplicas/);
});

t.test('the ioredis options: a URL alone, or the sentinels with the URL giving password and db', async (t) => {
  const plain = redisOptions({ url: 'redis://127.0.0.1:6379', prefix: 'p' });
  t.equal(plain.url, 'redis://127.0.0.1:6379');
  t.equal(plain.options.sentinels, undefined);
  t.equal(plain.options.maxRetriesPerRequest, 2, 'without sentinels a command fails fast, as before');

  const s = redisOptions({
    url: 'redis://:s3cret@ignored:6379/2',
    prefix: 'p',
    sentinels: [{ host: '127.0.0.1', port: 26701 }],
    masterName: 'rexian',
  });
  t.equal(s.url, undefined, 'the master is the sentinels’ answer, not the URL’s host');
  t.match(s.options, { sentinels: [{ host: '127.0.0.1', port: 26701 }], name: 'rexian', password: 's3cret', db: 2 });
  t.equal(s.options.failoverDetector, true);
  t.equal(s.options.maxRetriesPerRequest, retriesFor(DEFAULT_FAILOVER_WAIT_MS));
  const reconnect = s.options.reconnectOnError!;
  t.equal(
    reconnect(new Error("READONLY You can't write against a read only replica.")),
    2,
    'READONLY: reconnect, resend',
  );
  t.equal(reconnect(new Error('ERR wrong number of arguments')), false, 'anything else: the caller’s');
  t.ok(isReadOnlyError(new Error('READONLY x')));
});

t.test('a command waits through a failover: retries of 0.2, 0.4, then 0.5 s fill the wait', async (t) => {
  t.equal(retriesFor(0), 1);
  t.equal(retriesFor(600), 2, '0.2 + 0.4 s');
  t.equal(retriesFor(10_000), 21, '0.2 + 0.4 + 19 × 0.5 s');
});

t.test('a script that needs keys it was not given is called again with them', async (t) => {
  const calls: string[][] = [];
  const { reply, keys, attempts } = await runDeclared(
    'demo',
    ['k:a', 'k:a'],
    async (keys) => {
      calls.push(keys);
      if (!keys.includes('k:b')) return [NEED, 'k:b'];
      if (!keys.includes('k:c')) return [NEED, 'k:c'];
      return 'done';
    },
    { expand: (k) => (k === 'k:b' ? ['k:b:ready'] : []) },
  );
  t.equal(reply, 'done');
  t.equal(attempts, 3);
  t.same(calls[0], ['k:a', 'k:a'], 'the first call sends the guess as it is');
  t.same(keys, ['k:a', 'k:b', 'k:b:ready', 'k:c'], 'asked-for keys and what follows from them are added');
});

t.test('a script that keeps needing new keys gives up; one that asks again for what it has is a bug', async (t) => {
  let n = 0;
  await t.rejects(
    runDeclared('restless', [], async () => [NEED, `k:${n++}`], { attempts: 4 }).catch((err: unknown) => {
      throw err instanceof KeysKeptChanging ? new Error(`kept changing: ${err.attempts}`) : err;
    }),
    /kept changing: 4/,
  );
  t.equal(n, 4);
  await t.rejects(
    runDeclared('confused', ['k:a'], async () => [NEED, 'k:a']),
    /asked again for keys it was given/,
  );
  t.equal(neededKeys(['match', 'c1']), undefined, 'a real answer is not a request');
  t.equal(neededKeys(null), undefined);
  t.same(uniqueKeys(['a', 'b'], ['b', 'c']), ['a', 'b', 'c']);
});
