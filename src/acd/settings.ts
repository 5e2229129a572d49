// The ACD's live configuration: queues (flows.queues), the roster (acd.agents, plus the agents
// added through the API) and the service-centre windows (acd.windows). A broken file is refused
// at start (the constructor throws with file:line:col); on SIGHUP the edit is parsed first and
// applied only if every file of every domain parsed (server.ts), so the last good version keeps
// serving. Readers take the current value each time (`settings.queues`), never a copy.
import type { Config } from '../config/index.js';
import { parseQueueConfig, type QueueConfig } from './queue-config.js';
import { type AgentDefinition, mergeRoster, parseRoster, type Roster } from './roster.js';
import { parseWindows, type WindowDirectory } from './windows.js';

export class AcdSettings {
  private parsedQueues: QueueConfig;
  private parsedFileRoster: Roster;
  private parsedWindows: WindowDirectory;
  private api: AgentDefinition[] = [];
  private merged: Roster;

  constructor(private readonly files: { queues: string; roster: string; windows: string }) {
    this.parsedQueues = parseQueueConfig(files.queues);
    this.parsedFileRoster = parseRoster(files.roster);
    this.parsedWindows = parseWindows(files.windows);
    this.merged = this.parsedFileRoster;
  }

  static fromConfig(config: Config): AcdSettings {
    return new AcdSettings({ queues: config.flows.queues, roster: config.acd.agents, windows: config.acd.windows });
  }

  get queues(): QueueConfig {
    return this.parsedQueues;
  }

  /** The roster file's agents and the API's, merged (the file wins for its own ids). */
  get roster(): Roster {
    return this.merged;
  }

  /** The roster file's agents only (the API may not change or remove them). */
  get fileRoster(): Roster {
    return this.parsedFileRoster;
  }

  get windows(): WindowDirectory {
    return this.parsedWindows;
  }

  get apiAgents(): readonly AgentDefinition[] {
    return this.api;
  }

  /** The agents added through the API, as read from Redis now. */
  setApiAgents(agents: AgentDefinition[]): void {
    this.api = agents;
    this.merged = mergeRoster(this.parsedFileRoster, agents);
  }

  /** Parses the three files again (throws on a broken one); the returned change applies them. */
  prepareReload(): () => void {
    const queues = parseQueueConfig(this.files.queues);
    const fileRoster = parseRoster(this.files.roster);
    const windows = parseWindows(this.files.windows);
    return () => {
      this.parsedQueues = queues;
      this.parsedFileRoster = fileRoster;
      this.parsedWindows = windows;
      this.merged = mergeRoster(fileRoster, this.api);
    };
  }
}
