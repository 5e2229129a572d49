// The controller serves the built pages without a token, answers 503 with the build command
// when they were never built, and caches only content-hashed assets for good.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Fastify from 'fastify';
import t from 'tap';

import { registerPages } from '../../src/pages/module.js';

async function serve(dir: string) {
  const app = Fastify();
  await registerPages(app, dir);
  await app.ready();
  return app;
}

t.test('without web/dist, /agent answers 503 saying to run npm run build:web', async (t) => {
  const app = await serve(join(tmpdir(), 'rexian-no-such-dist'));
  t.teardown(() => app.close());
  for (const path of ['/agent', '/supervisor/', '/ops', '/assets/x.js']) {
    const res = await app.inject({ method: 'GET', url: path });
    t.equal(res.statusCode, 503, path);
    t.match(res.body, /run `npm run build:web`/);
  }
});

t.test('a built page is served with its security headers; assets are cached for good; nothing outside', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-dist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const page of ['agent', 'supervisor', 'ops']) {
    mkdirSync(join(dir, page));
    writeFileSync(join(dir, page, 'index.html'), `<!doctype html><title>${page}</title>`);
  }
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'agent-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not for the web');
  const app = await serve(dir);
  t.teardown(() => app.close());

  for (const path of ['/agent', '/agent/']) {
    const page = await app.inject({ method: 'GET', url: path });
    t.equal(page.statusCode, 200, path);
    t.match(page.body, /<title>agent<\/title>/);
    t.match(page.headers['content-type'], /^text\/html/);
    t.equal(page.headers['cache-control'], 'no-cache', 'a new build shows at the next load');
    t.match(page.headers['content-security-policy'], /script-src 'self';.*frame-ancestors 'none'/);
  }
  const asset = await app.inject({ method: 'GET', url: '/assets/agent-abc123.js' });
  t.equal(asset.statusCode, 200);
  t.match(asset.headers['content-type'], /javascript/);
  t.match(asset.headers['cache-control'], /max-age=31536000, immutable/);
  t.equal((await app.inject({ method: 'GET', url: '/assets/../secret.txt' })).statusCode, 404, 'no way out of assets/');
  t.equal((await app.inject({ method: 'GET', url: '/assets/%2e%2e/secret.txt' })).statusCode, 404, 'not even encoded');
  t.equal((await app.inject({ method: 'GET', url: '/secret.txt' })).statusCode, 404, 'only the pages and their assets');
});
