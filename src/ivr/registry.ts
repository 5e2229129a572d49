// The flows in service. Loads ivr-flows/, lints them together, and on every change swaps in
// only files that pass: a broken edit keeps the last good version serving and its errors are
// kept for the API. Every version ever served stays reachable by id@version, so a call keeps
// the flow it started with; versions are also stored in Redis for a controller that restarts.
// Whatever one file does (too large, too deep, a loader or linter that throws) costs that file
// only: a reload never throws, so neither startup nor the file watcher can be taken down by it.
// A file deleted from the directory stops answering new calls and leaves the status list.
import { existsSync, type FSWatcher, readdirSync, readFileSync, watch } from 'node:fs';
import { basename, join } from 'node:path';

import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';

import { LogEvent } from '../events/log-events.js';
import { Calendar, loadCalendar } from './calendar.js';
import type { FlowRef } from './interpreter.js';
import { type LintContext, lintFlows } from './lint.js';
import { type FlowIssue, flowVersion, formatIssue, type LoadedFlow, parseFlow, readFlowSource } from './loader.js';
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

/** What the registry knows of one file (paths in full; flow-status.ts shapes it for the API). */
export interface FlowFileDetails {
  file: string;
  serving?: LoadedFlow;
  loadedAt?: string;
  diskVersion?: string;
  history: Array<{ version: string; loadedAt: string }>;
  errors: FlowIssue[];
  warnings: FlowIssue[];
}

/** Versions listed per file in the ops page's history. */
const HISTORY = 10;

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
export function checkFlowFiles(
  files: string[],
  sources: FlowSources,
  calendar: Calendar | undefined,
): { loaded: LoadedFlow[]; issues: FlowIssue[] } {
  const loaded: LoadedFlow[] = [];
  const issues: FlowIssue[] = [];
  for (const file of files) {
    const parsed = loadFlowFile(file);
    for (const found of parsed.issues) issues.push(found);
    if (parsed.loaded) loaded.push(parsed.loaded);
  }
  for (const found of lintFlows(loaded, lintContextFor(sources, calendar))) issues.push(found);
  return { loaded, issues };
}

/**
 * Reads and parses one flow file; never throws (whatever it would throw is the file's error).
 * `version` is the hash of the text on disk, parsed or not: ops compare it with the one serving.
 */
type ParsedFile = { loaded?: LoadedFlow; issues: FlowIssue[]; version?: string };

/**
 * Reads and parses one flow file. `cache` keeps each file's last result by the hash of its text:
 * a reload after one edit parses that file only (a pathological file takes the parser hundreds
 * of ms, and a reload runs on the event loop that carries every call and the ARI lease).
 */
export function loadFlowFile(file: string, cache?: Map<string, ParsedFile>): ParsedFile {
  const read = readFlowSource(file);
  if (read.issue) return { issues: [read.issue] };
  const version = flowVersion(read.source!);
  const cached = cache?.get(file);
  if (cached?.version === version) return cached;
  const parsed = parseFlowText(file, read.source!, version);
  cache?.set(file, parsed);
  return parsed;
}

function parseFlowText(file: string, source: string, version: string): ParsedFile {
  try {
    return { ...parseFlow(file, source), version };
  } catch (err) {
    return {
      version,
      issues: [
        {
          code: 'REXIAN_FLOW_LINT_FAILED',
          message: `the loader could not read this flow (${(err as Error)?.message ?? String(err)}); it is refused`,
          file,
          line: 1,
          col: 1,
          severity: 'error',
        },
      ],
    };
  }
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
  private readonly errors = new Map<string, FlowIssue[]>(); // file → errors now
  private readonly warnings = new Map<string, FlowIssue[]>(); // file → the lint's warnings now
  private readonly onDiskVersion = new Map<string, string>(); // file → hash of its text on disk
  private readonly parsedFiles = new Map<string, ParsedFile>(); // file → its last parse, by that hash
  private readonly lastRejection = new Map<string, string>(); // file → the errors last logged for it
  private readonly served = new Map<string, Array<{ version: string; loadedAt: string }>>(); // newest first
  private readonly loadedAt = new Map<string, string>();
  private reloadedAt: string | undefined;
  private calendarNow: Calendar | undefined;
  private calendarError: string | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: FlowSources,
    private readonly logger: Logger,
    private readonly store?: VersionStore,
  ) {}

  get calendar(): Calendar {
    if (!this.calendarNow) throw new Error(`no working calendar: ${this.calendarError ?? 'not loaded'}`);
    return this.calendarNow;
  }

  /** (Re)loads everything from disk. Never throws: a bad file keeps its old version, if any. */
  reload(): void {
    try {
      this.reloadNow();
    } catch (err) {
      // A fault of ours, not of a file (each file's own faults are caught where it is read and
      // linted): what served before keeps serving, and the next change tries again.
      this.logger.error(
        { err: (err as Error)?.stack ?? String(err), flowsDir: this.sources.flowsDir },
        'flow reload failed; the flows in service are unchanged',
      );
    }
  }

  private reloadNow(): void {
    const calendarPath = join(this.sources.flowsDir, CALENDAR_FILE);
    try {
      this.calendarNow = loadCalendar(calendarPath);
      this.calendarError = undefined;
    } catch (err) {
      this.calendarError = (err as Error).message;
      this.logger.error(
        { file: calendarPath, err: this.calendarError },
        'calendar not loaded; the previous one stays in service',
      );
    }

    let files: string[];
    try {
      files = flowFilesIn(this.sources.flowsDir);
    } catch (err) {
      this.logger.error(
        { flowsDir: this.sources.flowsDir, err: (err as Error).message },
        'cannot list the flows directory; flows unchanged',
      );
      return;
    }
    const onDisk = new Set(files);
    const candidates = new Map<string, LoadedFlow>();
    const problems = new Map<string, FlowIssue[]>();
    const warnings = new Map<string, FlowIssue[]>();
    for (const file of this.parsedFiles.keys()) if (!onDisk.has(file)) this.parsedFiles.delete(file);
    for (const file of files) {
      const parsed = loadFlowFile(file, this.parsedFiles);
      if (parsed.loaded) candidates.set(file, parsed.loaded);
      if (parsed.version) this.onDiskVersion.set(file, parsed.version);
      else this.onDiskVersion.delete(file);
      if (parsed.issues.length > 0) problems.set(file, [...parsed.issues]);
    }
    // Lint the new versions together with the last good version of files that did not parse.
    // Files already in service go first: when a new file claims a number (or id) another one
    // serves, the newcomer is the one refused, not the flow citizens are reaching now.
    const mix = new Map<string, LoadedFlow>();
    for (const [file, good] of this.serving) if (onDisk.has(file)) mix.set(file, candidates.get(file) ?? good);
    for (const [file, candidate] of candidates) if (!mix.has(file)) mix.set(file, candidate);
    let context: LintContext;
    try {
      context = lintContextFor(this.sources, this.calendarNow);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'cannot read queues or prompt catalogue; flows unchanged');
      return;
    }
    for (const issue of lintFlows([...mix.values()], context)) {
      const into = issue.severity === 'error' ? problems : warnings;
      const list = into.get(issue.file);
      if (list) list.push(issue);
      else into.set(issue.file, [issue]);
    }

    const now = new Date().toISOString();
    this.reloadedAt = now;
    for (const file of files) {
      const errors = problems.get(file) ?? [];
      this.errors.set(file, errors);
      this.warnings.set(file, warnings.get(file) ?? []);
      const candidate = candidates.get(file);
      if (errors.length === 0) this.lastRejection.delete(file);
      if (errors.length === 0 && candidate) {
        const previous = this.serving.get(file);
        if (previous?.version !== candidate.version) {
          this.serving.set(file, candidate);
          this.loadedAt.set(file, now);
          this.served.set(file, [
            { version: candidate.version, loadedAt: now },
            ...(this.served.get(file) ?? []).slice(0, HISTORY - 1),
          ]);
          this.remember(candidate);
          this.logger.info(
            {
              event: LogEvent.flowInService,
              file,
              flowId: candidate.flow.id,
              version: candidate.version,
              previous: previous?.version,
            },
            'flow in service',
          );
        }
      } else if (errors.length > 0) {
        // Once per file and set of errors: every other file's edit reloads the directory.
        const said = errors.map(formatIssue).join('\n');
        if (this.lastRejection.get(file) === said) continue;
        this.lastRejection.set(file, said);
        const kept = this.serving.get(file);
        this.logger.error(
          { event: LogEvent.flowRejected, file, errors: errors.map(formatIssue), serving: kept?.version ?? null },
          kept ? 'flow edit rejected; the last good version keeps serving' : 'flow rejected',
        );
      }
    }
    // A deleted file leaves everything: it stops answering new calls (ops delete a file to take
    // a flow out of service; keeping it would leave a number answered by a file nobody can see),
    // and its status and errors go, so GET /api/flows lists only files that exist. Calls already
    // in it keep their version (versions stay by id@version), and a flow that still calls it as
    // a subflow is now reported by the lint above.
    for (const file of new Set([...this.serving.keys(), ...this.errors.keys(), ...this.loadedAt.keys()])) {
      if (onDisk.has(file)) continue;
      const served = this.serving.get(file);
      this.serving.delete(file);
      this.errors.delete(file);
      this.warnings.delete(file);
      this.onDiskVersion.delete(file);
      this.lastRejection.delete(file);
      this.served.delete(file);
      this.loadedAt.delete(file);
      if (served)
        this.logger.warn(
          { file, flowId: served.flow.id, version: served.version },
          'flow file removed; it no longer answers new calls',
        );
      else this.logger.info({ file }, 'rejected flow file removed');
    }
  }

  private remember(loaded: LoadedFlow): void {
    this.versions.set(`${loaded.flow.id}@${loaded.version}`, {
      id: loaded.flow.id,
      version: loaded.version,
      flow: loaded.flow,
    });
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
    // An 'error' event with no listener would be thrown, and end the process (the directory
    // removed or remounted): log it; the flows in service stay as they are.
    this.watcher.on('error', (err) => {
      this.logger.error(
        { flowsDir: this.sources.flowsDir, err: err.message },
        'cannot watch the flows directory any more; flow edits are not picked up until a restart',
      );
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
    let parsed: ReturnType<typeof parseFlow>;
    try {
      parsed = parseFlow(stored.file, stored.source);
    } catch (err) {
      this.logger.error({ flowId: id, version, err: (err as Error)?.message }, 'stored flow version cannot be read');
      return undefined;
    }
    if (!parsed.loaded || parsed.loaded.flow.id !== id) return undefined;
    const ref = { id, version, flow: parsed.loaded.flow };
    this.versions.set(`${id}@${version}`, ref);
    return ref;
  }

  status(): FlowFileStatus[] {
    const files = new Set([...this.errors.keys(), ...this.serving.keys()]);
    return [...files].sort().map((file) => {
      const good = this.serving.get(file);
      return {
        file: basename(file),
        flowId: good?.flow.id,
        version: good?.version,
        loadedAt: this.loadedAt.get(file),
        errors: (this.errors.get(file) ?? []).map(formatIssue),
      };
    });
  }

  /**
   * Everything known about each file, for the ops page: what serves (and since when), the
   * numbers it answers, whether the text on disk is what serves, the versions served before,
   * and the errors and warnings as positions (see flow-status.ts for the shape on the wire).
   */
  fileDetails(): FlowFileDetails[] {
    const files = new Set([...this.errors.keys(), ...this.serving.keys()]);
    return [...files].sort().map((file) => ({
      file,
      serving: this.serving.get(file),
      loadedAt: this.loadedAt.get(file),
      diskVersion: this.onDiskVersion.get(file),
      history: [...(this.served.get(file) ?? [])],
      errors: [...(this.errors.get(file) ?? [])],
      warnings: [...(this.warnings.get(file) ?? [])],
    }));
  }

  /** The flows in service now, in the order a reload lints them (for checking an edit against them). */
  servingFlows(): LoadedFlow[] {
    return [...this.serving.values()];
  }

  /** The linter's view of queues, schedules and prompts as they are now (throws if unreadable). */
  lintContext(): LintContext {
    return lintContextFor(this.sources, this.calendarNow);
  }

  get flowsDir(): string {
    return this.sources.flowsDir;
  }

  /** When the directory was last read (at start, and after each change the watcher saw). */
  get lastReload(): string | undefined {
    return this.reloadedAt;
  }

  get calendarProblem(): string | undefined {
    return this.calendarError;
  }
}
