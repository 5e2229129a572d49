// The web pages (/agent, /supervisor, /ops), built by Vite from web/ into web/dist. The files
// themselves need no token: they hold no data, and the API calls they make need the session.
// Files are sent by @fastify/static (the fastify team's plugin, already here for the API
// docs): it refuses path traversal, sets ETag and Last-Modified, answers ranges and picks the
// content type, which a hand-written handler would have to get right again. If the pages
// were never built, each page answers 503 with the command that builds them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const PAGES = ['agent', 'supervisor', 'ops'] as const;

// Scripts and styles only from this controller; the event stream over ws/wss to it; no
// framing by other sites. Element Plus sets inline style attributes, hence style 'unsafe-inline'.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

export async function registerPages(app: FastifyInstance, distDir: string): Promise<void> {
  await app.register(fastifyStatic, { root: distDir, serve: false });
  const notBuilt = (reply: FastifyReply) =>
    reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send(`the web pages are not built: run \`npm run build:web\` (expected ${distDir})\n`);

  for (const page of PAGES) {
    const send = async (_req: unknown, reply: FastifyReply) => {
      if (!existsSync(join(distDir, page, 'index.html'))) return notBuilt(reply);
      reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
      return reply.sendFile(join(page, 'index.html'), { cacheControl: false });
    };
    app.get(`/${page}`, { schema: { hide: true } }, send);
    app.get(`/${page}/`, { schema: { hide: true } }, send);
  }
  // Vite names assets by their content hash: a name never changes meaning, so cache for good.
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (req, reply) => {
    if (!existsSync(join(distDir, 'assets'))) return notBuilt(reply);
    reply.header('x-content-type-options', 'nosniff');
    return reply.sendFile(req.params['*'], join(distDir, 'assets'), { maxAge: 31_536_000_000, immutable: true });
  });
}
