// The flows in service. Loads ivr-flows/, lints them together, and on every change swaps in
// only files that pass: a broken edit keeps the last good version serving and its errors are
// kept for the API. Every version ever served stays reachable by id@version, so a call keeps
// the flow it started with; versions are also stored in Redis for a controller that restarts.
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { Calendar, loadCalendar } from './calendar.js';
import type { FlowRef } from './interpreter.js';
import { lintFlows, type LintContext } from './lint.js';
import { formatIssue, parseFlow, type FlowIssue, type LoadedFlow } from './loader.js';
import { loadPromptCatalog } from './prompts.js';

export const CALENDAR_FILE = 'calendar.yaml';

export interface FlowSources {
  flowsDir: string;
  queuesFile: string;
  promptCatalog: string;
  recordedDir: string;
}

export interface FlowFileStatus {
  file: string;
  flowId?: string;
  /** The version serving calls now (the last good one). */
  version?: string;
  loadedAt?: string;
  /** Errors of the file as it is on disk now; empty when it serves as written. */
  errors: string[];
}

export interface VersionStore {
  saveVersion(version: string, file: string, source: string): Promise<void>;
  loadVersion(version: string): Promise<{ file: string; source: string } | undefined>;
}

/** What the linter needs to know besides the flows: queues, schedules, prompts. */
export function lintContextFor(sources: FlowSources, calendar: Calendar | undefined): LintContext {
  const queuesDoc = parseYaml(readFileSync(sources.queuesFile, 'utf8')) as { queues?: Record<string, unknown> } | null;
  const catalog = loadPromptCatalog(sources.promptCatalog);
  return {
    queues: new Set(Object.keys(queuesDoc?.queues ?? {})),
    schedules: new Set(calendar?.scheduleNames ?? []),
    hasPrompt: (name) => name in catalog || existsSync(join(sources.recordedDir, `${name}.wav`)),
    promptText: (name) => catalog[name],
  };
}

/** Loads and lints a set of flow files the way the service would (for `rexian flow lint`). */
export function checkFlowFiles(files: string[], sources: FlowSources, calendar: Calendar | undefined): { loaded: LoadedFlow[]; issues: FlowIssue[] } {
  const loaded: LoadedFlow[] = [];
  const issues: FlowIssue[] = [];
  for (const file of files) {
    const parsed = parseFlow(file, readFileSync(file, 'utf8'));
    issues.push(...parsed.issues);
    if (parsed.loaded) loaded.push(parsed.loaded);
  }
  issues.push(...lintFlows(loaded, lintContextFor(sources, calendar)));
  return { loaded, issues };
}

export function flowFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== CALENDAR_FILE && !f.startsWith('.'))
    .sort()
    .map((f) => join(dir, f));
}

export class FlowRegistry {
  private readonly serving = new Map<string, LoadedFlow>(); // file → good version
  private readonly versions = new Map<string, FlowRef>(); // id@version → flow
  private readonly errors = new Map<string, string[]>(); // file → errors now
  private readonly loadedAt = new Map<string, string>();
  private calendarNow: Calendar | undefined;
  private calendarError: string | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(private readonly sources: FlowSources, private readonly logger: Logger, private readonly store?: VersionStore) {}

  get calendar(): Calendar {
    if (!this.calendarNow) throw new Error(`no working calendar: ${this.calendarError ?? 'not loaded'}`);
    return this.calendarNow;
  }

  /** (Re)loads everything from disk. Never throws for a bad file: it keeps the old one. */
  reload(): void {
    const calendarPath = join(this.sources.flowsDir, CALENDAR_FILE);
    try {
      this.calendarNow = loadCalendar(calendarPath);
      this.calendarError = undefined;
    } catch (err) {
      this.calendarError = (err as Error).message;
      this.logger.error({ file: calendarPath, err: this.calendarError }, 'calendar not loaded; the previous one stays in service');
    }

    const files = flowFilesIn(this.sources.flowsDir);
    const candidates = new Map<string, LoadedFlow>();
    const problems = new Map<string, string[]>();
    for (const file of files) {
      let text: string;
      try { text = readFileSync(file, 'utf8'); } catch { continue; }
      const parsed = parseFlow(file, text);
      if (parsed.loaded) candidates.set(file, parsed.loaded);
      if (parsed.issues.length > 0) problems.set(file, parsed.issues.map(formatIssue));
    }
    // Lint the new versions together with the last good version of files that did not parse.
    // Files already in service go first: when a new file claims a number (or id) another one
    // serves, the newcomer is the one refused, not the flow citizens are reaching now.
    const mix = new Map<string, LoadedFlow>();
    for (const [file, good] of this.serving) if (files.includes(file)) mix.set(file, candidates.get(file) ?? good);
    for (const [file, candidate] of candidates) if (!mix.has(file)) mix.set(file, candidate);
    let context: LintContext;
    try {
      context = lintContextFor(this.sources, this.calendarNow);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'cannot read queues or prompt catalogue; flows unchanged');
      return;
    }
    for (const issue of lintFlows([...mix.values()], context)) {
      if (issue.severity !== 'error') continue;
      problems.set(issue.file, [...(problems.get(issue.file) ?? []), formatIssue(issue)]);
    }

    for (const file of files) {
      const errors = problems.get(file) ?? [];
      this.errors.set(file, errors);
      const candidate = candidates.get(file);
      if (errors.length === 0 && candidate) {
        const previous = this.serving.get(file);
        if (previous?.version !== candidate.version) {
          this.serving.set(file, candidate);
          this.loadedAt.set(file, new Date().toISOString());
          this.remember(candidate);
          this.logger.info({ file, flowId: candidate.flow.id, version: candidate.version, previous: previous?.version }, 'flow in service');
        }
      } else if (errors.length > 0) {
        const kept = this.serving.get(file);
        this.logger.error({ file, errors, serving: kept?.version ?? null }, kept ? 'flow edit rejected; the last good version keeps serving' : 'flow rejected');
      }
    }
    for (const file of [...this.serving.keys()]) {
      if (!files.includes(file)) {
        this.serving.delete(file);
        this.errors.delete(file);
        this.logger.warn({ file }, 'flow file removed; it no longer answers new calls');
      }
    }
  }

  private remember(loaded: LoadedFlow): void {
    this.versions.set(`${loaded.flow.id}@${loaded.version}`, { id: loaded.flow.id, version: loaded.version, flow: loaded.flow });
    void this.store?.saveVersion(loaded.version, loaded.file, loaded.source).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message, version: loaded.version }, 'could not store flow version');
    });
  }

  /** Watches the flows directory; changes are picked up without a restart. */
  watch(): void {
    this.watcher = watch(this.sources.flowsDir, () => {
      clearTimeout(this.reloadTimer);
      // Editors write in several steps (truncate, write, rename): wait for them to settle.
      this.reloadTimer = setTimeout(() => this.reload(), 250);
    });
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
  }

  /** The flow answering a dialled number now. */
  forNumber(did: string): FlowRef | undefined {
    for (const loaded of this.serving.values()) {
      if (loaded.flow.numbers?.includes(did)) return this.versions.get(`${loaded.flow.id}@${loaded.version}`);
    }
    return undefined;
  }

  /** The current version of a flow by id (for subflows entered now). */
  current(id: string): FlowRef | undefined {
    for (const loaded of this.serving.values()) {
      if (loaded.flow.id === id) return this.versions.get(`${id}@${loaded.version}`);
    }
    return undefined;
  }

  /** An exact version, as a call recorded it; from Redis when this process never saw it. */
  async version(id: string, version: string): Promise<FlowRef | undefined> {
    const known = this.versions.get(`${id}@${version}`);
    if (known) return known;
    const stored = await this.store?.loadVersion(version);
    if (!stored) return undefined;
    const parsed = parseFlow(stored.file, stored.source);
    if (!parsed.loaded || parsed.loaded.flow.id !== id) return undefined;
    const ref = { id, version, flow: parsed.loaded.flow };
    this.versions.set(`${id}@${version}`, ref);
    return ref;
  }

  status(): FlowFileStatus[] {
    const files = new Set([...this.errors.keys(), ...this.serving.keys()]);
    return [...files].sort().map((file) => {
      const good = this.serving.get(file);
      return { file: basename(file), flowId: good?.flow.id, version: good?.version, loadedAt: this.loadedAt.get(file), errors: this.errors.get(file) ?? [] };
    });
  }

  get calendarProblem(): string | undefined {
    return this.calendarError;
  }
}
