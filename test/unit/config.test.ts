import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { loadConfig } from '../../src/config/index.js';
import { isRexianError } from '../../src/errors/index.js';
import { scratchDir } from '../helpers/scratch.js';

const secrets = { REXIAN_ARI_PASSWORD: 'ari-secret-1', REXIAN_AMI_PASSWORD: 'ami-secret-1' };
const dir = scratchDir('config');
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isRexianError(err, 'REXIAN_CONFIG_INVALID') || isRexianError(err, 'REXIAN_CONFIG_UNREADABLE'))
      return err.message;
    throw err;
  }
  throw new Error('expected a configuration error');
}

t.test('defaults are the documented loopback addresses', async (t) => {
  const c = loadConfig({ env: { ...secrets } });
  t.same(c.http, { host: '127.0.0.1', port: 3000 });
  t.equal(c.ari.url, 'http://127.0.0.1:8088');
  t.same([c.ami.host, c.ami.port], ['127.0.0.1', 5038]);
  t.same(c.sip, { host: '127.0.0.1', port: 5060 });
  t.equal(c.redis.url, 'redis://127.0.0.1:6379');
  t.equal(c.postgres.url, 'postgres://postgres@127.0.0.1:5432/rexian');
});

t.test('the environment overrides the file, which overrides the defaults', async (t) => {
  const path = file('ok.yaml', 'http:\n  port: 4000\nari:\n  app: hotline\n');
  const c = loadConfig({ file: path, env: { ...secrets, REXIAN_ARI_APP: 'from-env' } });
  t.equal(c.http.port, 4000);
  t.equal(c.ari.app, 'from-env');
});

t.test('an unknown key in the file is named with its line and column', async (t) => {
  const path = file('typo.yaml', 'http:\n  port: 3001\n  hots: 0.0.0.0\n');
  const message = errorOf(() => loadConfig({ file: path, env: secrets }));
  t.match(message, /unknown key "http\.hots"/);
  t.match(message, `${path}:3:3`);
});

t.test('a port out of range is named, with where it came from', async (t) => {
  const fromFile = errorOf(() => loadConfig({ file: file('port.yaml', 'ami:\n  port: 70000\n'), env: secrets }));
  t.match(fromFile, /"ami\.port" must be <= 65535/);
  t.match(fromFile, /port\.yaml:2:3/);
  const fromEnv = errorOf(() => loadConfig({ env: { ...secrets, REXIAN_HTTP_PORT: '0' } }));
  t.match(fromEnv, /"http\.port" must be >= 1 \(from environment variable REXIAN_HTTP_PORT\)/);
});

t.test('recording retention: 180 days unless told, fractions allowed, nonsense named', async (t) => {
  t.same(loadConfig({ env: secrets }).recording, { retentionDays: 180, sweepSeconds: 3600 });
  t.equal(loadConfig({ env: { ...secrets, REXIAN_RECORDING_RETENTION_DAYS: '0.5' } }).recording.retentionDays, 0.5);
  t.match(
    errorOf(() => loadConfig({ env: { ...secrets, REXIAN_RECORDING_RETENTION_DAYS: 'forever' } })),
    /"recording\.retentionDays" must be number \(from environment variable REXIAN_RECORDING_RETENTION_DAYS\)/,
  );
  t.match(
    errorOf(() => loadConfig({ env: { ...secrets, REXIAN_RECORDING_RETENTION_DAYS: '0' } })),
    /"recording\.retentionDays" must be > 0/,
  );
});

t.test('missing secrets say which variable to set; secrets are never defaulted', async (t) => {
  const message = errorOf(() => loadConfig({ env: {} }));
  t.match(message, /"ari\.password" is required \(set REXIAN_ARI_PASSWORD/);
  t.match(message, /"ami\.password" is required \(set REXIAN_AMI_PASSWORD/);
});

t.test('broken YAML and unreadable files are reported with their position', async (t) => {
  t.match(
    errorOf(() => loadConfig({ file: file('broken.yaml', 'http:\n  port: [3000\n'), env: secrets })),
    /broken\.yaml:\d+:\d+/,
  );
  t.match(
    errorOf(() => loadConfig({ file: join(dir, 'absent.yaml'), env: secrets })),
    /cannot read config file/,
  );
});

t.test('the controller refuses to start on bad config and names the key', async (t) => {
  const path = file('start.yaml', 'http:\n  port: 99999\nredis:\n  urll: redis://x\n');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '', ...secrets, REXIAN_CONFIG: path },
  });
  t.equal(run.status, 2, 'exit status 2 for bad configuration');
  t.match(run.stderr, /REXIAN_CONFIG_INVALID/);
  t.match(run.stderr, /"http\.port" must be <= 65535/);
  t.match(run.stderr, /unknown key "redis\.urll"/);
  t.match(run.stderr, /start\.yaml:4:3/);
});

t.test("a pair's lease settings come from the environment too, and are checked", async (t) => {
  const config = loadConfig({ env: { ...secrets, REXIAN_HA_LEASE_TTL_MS: '10000', REXIAN_HA_RENEW_EVERY_MS: '2000' } });
  t.same(config.ha, { leaseTtlMs: 10_000, renewEveryMs: 2_000 });
  t.match(
    errorOf(() => loadConfig({ env: { ...secrets, REXIAN_HA_LEASE_TTL_MS: '100' } })),
    /"ha\.leaseTtlMs" must be >= 500 \(from environment variable REXIAN_HA_LEASE_TTL_MS\)/,
  );
});
