// Builds flows from YAML text for unit tests, with a lint context of known queues/prompts.
import { Calendar } from '../../src/ivr/calendar.js';
import type { FlowRef, IvrContext } from '../../src/ivr/interpreter.js';
import { type LintContext, lintFlows } from '../../src/ivr/lint.js';
import { type FlowIssue, type LoadedFlow, parseFlow } from '../../src/ivr/loader.js';

export const testCalendar = new Calendar({
  timezone: 'Asia/Shanghai',
  holidays: [{ name: '国庆节', from: '2026-10-01', to: '2026-10-07' }],
  workdays: ['2026-10-10'],
  schedules: {
    office: { days: 'working', open: ['08:30-12:00', '13:30-17:30'] },
    night: { days: 'all', open: ['22:00-06:00'] },
  },
} as never);

export const lintContext: LintContext = {
  queues: new Set(['general', 'enterprise', 'talent']),
  schedules: new Set(['office', 'night']),
  hasPrompt: (name) => ['welcome', 'menu', 'bye', 'sorry'].includes(name),
  promptText: (name) => (name === 'menu' ? '企业请按1，人才请按2' : undefined),
};

export function load(yaml: string, file = 'test.yaml'): LoadedFlow {
  const { loaded, issues } = parseFlow(file, yaml);
  if (!loaded) throw new Error(`flow did not load: ${issues.map((i) => i.message).join('; ')}`);
  return loaded;
}

export function lintYaml(yaml: string, others: string[] = []): FlowIssue[] {
  const all = [load(yaml), ...others.map((o, i) => load(o, `other${i}.yaml`))];
  return lintFlows(all, lintContext).filter((i) => i.file === 'test.yaml');
}

export function refOf(yaml: string): FlowRef {
  const l = load(yaml);
  return { id: l.flow.id, version: l.version, flow: l.flow };
}

export function contextFor(refs: FlowRef[], over: Partial<IvrContext> = {}): IvrContext {
  const byId = new Map(refs.map((r) => [r.id, r]));
  return {
    did: '12345',
    caller: '13800138000',
    now: () => new Date('2026-11-23T10:00:00+08:00'),
    calendar: testCalendar,
    flow: (id) => byId.get(id),
    ...over,
  };
}
