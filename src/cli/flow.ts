// `rexian flow lint|simulate|graph|schema`: checks and tries flows before they reach a citizen.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { repoRoot } from '../asterisk/instance.js';
import { type Calendar, loadCalendar } from '../ivr/calendar.js';
import { flowSchema } from '../ivr/flow-schema.js';
import { flowToDot } from '../ivr/graph.js';
import type { FlowRef } from '../ivr/interpreter.js';
import { formatIssue } from '../ivr/loader.js';
import { CALENDAR_FILE, checkFlowFiles, flowFilesIn, type FlowSources } from '../ivr/registry.js';
import { simulate } from '../ivr/simulator.js';

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(args: string[], valued: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      if (valued.includes(a)) flags.set(a, args[++i] ?? '');
      else flags.set(a, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

function sourcesFor(dir: string, flags: Map<string, string | true>): FlowSources {
  const str = (k: string): string | undefined =>
    typeof flags.get(k) === 'string' ? (flags.get(k) as string) : undefined;
  return {
    flowsDir: dir,
    queuesFile: str('--queues') ?? join(repoRoot, 'sip-config/queues.yaml'),
    promptCatalog: str('--catalog') ?? join(repoRoot, 'prompts/catalog.yaml'),
    recordedDir: str('--recorded') ?? join(repoRoot, 'prompts/recorded'),
  };
}

function calendarFor(dir: string, flags: Map<string, string | true>): Calendar {
  const given = flags.get('--calendar');
  const file =
    typeof given === 'string'
      ? given
      : existsSync(join(dir, CALENDAR_FILE))
        ? join(dir, CALENDAR_FILE)
        : join(repoRoot, 'ivr-flows', CALENDAR_FILE);
  return loadCalendar(file);
}

function expand(paths: string[]): string[] {
  return paths.flatMap((p) => (statSync(p).isDirectory() ? flowFilesIn(p) : [p]));
}

export async function flowCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'lint':
      return lint(rest);
    case 'simulate':
      return simulateCommand(rest);
    case 'graph':
      return graph(rest);
    case 'schema':
      return schema(rest);
    default:
      console.error(
        'usage: rexian flow lint [paths…] | simulate FILE --did N [--dtmf KEYS] [--at ISO] [--caller N] [--json] [--offline] | graph FILE -o OUT.svg | schema [-o FILE]',
      );
      return 2;
  }
}

function lint(args: string[]): number {
  const { positional, flags } = parseArgs(args, ['--queues', '--catalog', '--recorded', '--calendar']);
  const paths = positional.length > 0 ? positional : [join(repoRoot, 'ivr-flows')];
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    console.error(`rexian: no such file or directory: ${missing.join(', ')}`);
    return 2;
  }
  const files = expand(paths);
  if (files.length === 0) {
    console.error('rexian: no flow files found');
    return 1;
  }
  const dir = statSync(paths[0]!).isDirectory() ? paths[0]! : dirname(paths[0]!);
  const calendar = calendarFor(dir, flags);
  const { loaded, issues } = checkFlowFiles(files, sourcesFor(dir, flags), calendar);
  for (const issue of issues) console.log(formatIssue(issue));
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (errors > 0) {
    console.error(`${errors} error${errors === 1 ? '' : 's'} in ${new Set(issues.map((i) => i.file)).size} file(s)`);
    return 1;
  }
  console.log(
    `ok: ${loaded.length} flow${loaded.length === 1 ? '' : 's'} (${loaded.map((l) => l.flow.id).join(', ')})`,
  );
  return 0;
}

async function simulateCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, [
    '--did',
    '--dtmf',
    '--at',
    '--caller',
    '--queues',
    '--catalog',
    '--recorded',
    '--calendar',
  ]);
  const file = positional[0];
  if (!file) {
    console.error('usage: rexian flow simulate FILE --did N [--dtmf KEYS] [--at ISO] [--caller N] [--json]');
    return 2;
  }
  const dir = dirname(resolve(file));
  const calendar = calendarFor(dir, flags);
  const files = [...new Set([resolve(file), ...flowFilesIn(dir)])];
  const { loaded, issues } = checkFlowFiles(files, sourcesFor(dir, flags), calendar);
  const own = issues.filter((i) => resolve(i.file) === resolve(file) && i.severity === 'error');
  if (own.length > 0) {
    for (const issue of own) console.error(formatIssue(issue));
    return 1;
  }
  const target = loaded.find((l) => resolve(l.file) === resolve(file))!;
  const refs = new Map<string, FlowRef>(
    loaded.map((l) => [l.flow.id, { id: l.flow.id, version: l.version, flow: l.flow }]),
  );
  const at = typeof flags.get('--at') === 'string' ? new Date(flags.get('--at') as string) : new Date();
  if (Number.isNaN(at.getTime())) {
    console.error(
      `rexian: --at "${String(flags.get('--at'))}" is not a date and time (e.g. 2026-11-23T20:00:00+08:00)`,
    );
    return 2;
  }
  const dtmf = typeof flags.get('--dtmf') === 'string' ? (flags.get('--dtmf') as string) : '';
  if (!/^[0-9*#]*$/.test(dtmf)) {
    console.error(`rexian: --dtmf "${dtmf}" may hold only 0-9, * and #`);
    return 2;
  }
  const did =
    typeof flags.get('--did') === 'string' ? (flags.get('--did') as string) : (target.flow.numbers?.[0] ?? '12345');
  const result = await simulate({
    flow: refs.get(target.flow.id)!,
    flows: (id) => refs.get(id),
    calendar,
    did,
    caller: typeof flags.get('--caller') === 'string' ? (flags.get('--caller') as string) : '13800000000',
    at,
    dtmf,
    http: flags.has('--offline') ? 'fail' : 'real',
  });
  if (flags.has('--json')) {
    console.log(
      JSON.stringify({
        path: result.path,
        outcome: result.outcome,
        vars: result.vars,
        flowVersion: result.flowVersion,
      }),
    );
  } else {
    console.log(`path:    ${result.path.join(' → ')}`);
    console.log(`outcome: ${JSON.stringify(result.outcome)}`);
    if (Object.keys(result.vars).length > 0) console.log(`vars:    ${JSON.stringify(result.vars)}`);
  }
  return result.outcome.type === 'stuck' ? 1 : 0;
}

function graph(args: string[]): number {
  const { positional, flags } = parseArgs(args, ['-o']);
  const file = positional[0];
  const out = flags.get('-o');
  if (!file || typeof out !== 'string') {
    console.error('usage: rexian flow graph FILE -o OUT.svg|OUT.dot');
    return 2;
  }
  const parsed = checkFlowFiles([file], sourcesFor(dirname(file), flags), undefined);
  const loaded = parsed.loaded[0];
  if (!loaded) {
    for (const i of parsed.issues) console.error(formatIssue(i));
    return 1;
  }
  const dot = flowToDot(loaded.flow);
  if (out.endsWith('.dot')) writeFileSync(out, dot);
  else execFileSync('dot', [`-T${out.split('.').pop() ?? 'svg'}`, '-o', out], { input: dot });
  console.log(`wrote ${out}`);
  return 0;
}

function schema(args: string[]): number {
  const { flags } = parseArgs(args, ['-o']);
  const text = `${JSON.stringify(flowSchema, null, 2)}\n`;
  const out = flags.get('-o');
  if (typeof out === 'string') writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}
