// A flow's picture as SVG: the digraph `rexian flow graph` draws (graph.ts), laid out by
// Graphviz `dot`. The SVG goes into the ops page's DOM, so it is cut down to the few elements
// and attributes dot draws shapes and text with: no script, no link, no foreignObject, no
// event attribute survives, whatever a flow's labels hold (dot escapes them; this is the
// second guard). dot runs as a child with a time limit; pictures are kept by flow version,
// which is the hash of the text, so a version is drawn once.
import { spawn } from 'node:child_process';

import { RexianError } from '../errors/index.js';
import type { FlowDefinition } from './flow-schema.js';
import { flowToDot } from './graph.js';
import { SVG_ATTRIBUTES, SVG_ELEMENTS, SVG_NAMESPACE } from './svg-allow-list.js';

const DOT_TIMEOUT_MS = 10_000;
const MAX_SVG_BYTES = 8 * 1024 * 1024;
const CACHE_SIZE = 64;

// Compared in lower case (SVG is XML, but a hostile file may try <SCRIPT>); written as SVG spells them.
const ATTRIBUTE_SPELLING = new Map([...SVG_ATTRIBUTES].map((name) => [name.toLowerCase(), name]));

/**
 * Keeps only the whitelisted elements and attributes of an SVG (dot's output is one tag per
 * line, never CDATA): a tag not on the list is dropped with its attributes, and the text of a
 * dropped element stays text (XML-escaped, as dot wrote it). Comments, the XML declaration and
 * the DOCTYPE go.
 */
export function sanitizeSvg(svg: string): string {
  const withoutMarkup = svg
    .replace(/<\?[\s\S]*?\?>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!DOCTYPE[\s\S]*?>/gi, '')
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  // Script-like elements are dropped with their content, not only their tags.
  const withoutScripts = withoutMarkup.replace(
    /<(script|style|foreignObject|iframe|object|embed)\b[\s\S]*?(<\/\1\s*>|$)/gi,
    '',
  );
  return withoutScripts
    .replace(/<(\/?)([A-Za-z][\w:.-]*)([^<>]*?)(\/?)>/g, (_all, close: string, name: string, rest: string, self) => {
      const element = name.toLowerCase();
      if (!SVG_ELEMENTS.has(element)) return '';
      if (close) return `</${element}>`;
      const kept: string[] = [];
      for (const m of rest.matchAll(/([A-Za-z][\w:.-]*)\s*=\s*("[^"]*"|'[^']*')/g)) {
        const attribute = ATTRIBUTE_SPELLING.get(m[1]!.toLowerCase());
        const value = m[2]!.slice(1, -1);
        if (attribute === undefined) continue;
        // Only plain values: no url(), no javascript:, no entity tricks in presentation attributes.
        if (/[<>"'`]|url\s*\(|script:|&#/i.test(value) && attribute !== 'id' && attribute !== 'class') continue;
        if (attribute === 'xmlns' && value !== SVG_NAMESPACE) continue;
        kept.push(`${attribute}="${value.replace(/[<>"'`&]/g, '')}"`);
      }
      return `<${element}${kept.length > 0 ? ` ${kept.join(' ')}` : ''}${self ? '/' : ''}>`;
    })
    .trim();
}

/** Runs `dot -Tsvg` on a graph; a missing dot, a crash or a stall becomes one clear error. */
export function renderDot(dot: string, timeoutMs = DOT_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('dot', ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new RexianError('REXIAN_NOT_READY', {}, `the flow's picture cannot be drawn: ${why}`));
    };
    const timer = setTimeout(() => fail(`Graphviz dot took longer than ${timeoutMs} ms`), timeoutMs);
    child.on('error', (err) =>
      fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'Graphviz dot is not installed' : err.message),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SVG_BYTES) fail('the picture is too large');
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString('utf8');
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else if (code !== null) fail(`Graphviz dot exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`);
    });
    child.stdin.on('error', () => undefined); // dot gone early: its exit code says why
    child.stdin.end(dot);
  });
}

const cache = new Map<string, Promise<string>>();

/** The sanitized SVG of a flow version, drawn once per version. */
export function flowPicture(flow: FlowDefinition, version: string): Promise<string> {
  const key = `${flow.id}@${version}`;
  const known = cache.get(key);
  if (known) return known;
  const drawing = renderDot(flowToDot(flow)).then(sanitizeSvg);
  cache.set(key, drawing);
  drawing.catch(() => cache.delete(key)); // a failure is tried again next time
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return drawing;
}
