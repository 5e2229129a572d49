// The flow interpreter: a pure state machine. Given the saved state and one event (a prompt
// ended, a key, a timer, an HTTP answer) it returns the new state and the actions to take.
// It never touches Asterisk, so the simulator and the ARI runner share it, and the state it
// returns is all a new controller process needs to carry a call on after a crash.
import type { Calendar } from './calendar.js';
import { FLOW_LIMITS } from './flow-limits.js';
import type { Condition, FlowDefinition, FlowNode, PromptRef } from './flow-schema.js';

export interface FlowRef {
  id: string;
  version: string;
  flow: FlowDefinition;
}

export interface IvrContext {
  did: string;
  caller: string;
  now(): Date;
  calendar: Calendar;
  /** Another flow by id, for subflow nodes. */
  flow(id: string): FlowRef | undefined;
}

export interface IvrState {
  flowId: string;
  version: string;
  node: string;
  /** What the call waits for now. */
  waiting: 'prompt' | 'input' | 'http' | 'recording' | 'queue' | 'done';
  /** After the current prompt: go to this node instead of waiting for input. */
  afterPrompt?: string;
  attempt: number;
  digits: string;
  /** Keys pressed during a skippable prompt, handed to the next node that reads keys. */
  typeahead: string;
  vars: Record<string, string>;
  path: string[];
  stack: Array<{ flowId: string; version: string; next: string }>;
  outcome?: Outcome;
}

export type IvrEvent =
  | { type: 'playbackFinished' }
  | { type: 'dtmf'; digit: string }
  | { type: 'timeout' }
  | { type: 'httpResult'; ok: boolean; data?: unknown; error?: string }
  | { type: 'recordingFinished'; recording: string }
  | { type: 'queueResult'; result: 'timeout' | 'noAgents' };

export type IvrAction =
  | { type: 'play'; prompts: PromptRef[]; bargeIn: boolean }
  | { type: 'stopPlayback' }
  | { type: 'waitForInput'; seconds: number }
  | { type: 'http'; url: string; method: 'GET' | 'POST'; body?: Record<string, string>; timeoutMs: number }
  | { type: 'record'; maxSeconds: number; reason: string }
  | { type: 'queue'; queue: string; skills: string[]; priority: number; maxWait?: number }
  | { type: 'transfer'; kind: 'internal' | 'external' | 'emergency'; number: string }
  | { type: 'hangup' };

export type Outcome =
  | { type: 'queue'; queue: string; skills: string[]; priority: number }
  | { type: 'transfer'; kind: 'internal' | 'external' | 'emergency'; number: string }
  | { type: 'hangup' }
  | { type: 'voicemail'; recording: string; reason: string };

export interface Step {
  state: IvrState;
  actions: IvrAction[];
}

const DEFAULT_TIMEOUT_S = 5;
const DEFAULT_RETRIES = 2;
const MAX_INSTANT_STEPS = 200;

export function startFlow(ref: FlowRef, context: IvrContext): Step {
  const state: IvrState = {
    flowId: ref.id,
    version: ref.version,
    node: ref.flow.start,
    waiting: 'prompt',
    attempt: 0,
    digits: '',
    typeahead: '',
    vars: {},
    path: [],
    stack: [],
  };
  return new Machine(ref, state, context).enter(ref.flow.start);
}

/** Feeds one event to a call's flow. Events that do not fit the state are ignored. */
export function advance(ref: FlowRef, state: IvrState, event: IvrEvent, context: IvrContext): Step {
  return new Machine(ref, structuredClone(state), context).handle(event);
}

class Machine {
  private readonly actions: IvrAction[] = [];
  private instantSteps = 0;

  constructor(
    private ref: FlowRef,
    private readonly state: IvrState,
    private readonly context: IvrContext,
  ) {}

  private get node(): FlowNode {
    const node = this.ref.flow.nodes[this.state.node];
    if (!node) throw new Error(`flow "${this.ref.id}" has no node "${this.state.node}"`);
    return node;
  }

  private result(): Step {
    return { state: this.state, actions: this.actions };
  }

  enter(id: string): Step {
    this.goTo(id);
    return this.result();
  }

  private goTo(id: string): void {
    if (++this.instantSteps > MAX_INSTANT_STEPS) {
      // The linter rejects such flows; this guards a flow that slipped through.
      this.finish({ type: 'hangup' });
      return;
    }
    const s = this.state;
    s.node = id;
    s.attempt = 0;
    s.digits = '';
    s.afterPrompt = undefined;
    s.path.push(s.stack.length > 0 ? `${this.ref.id}/${id}` : id);
    const node = this.node;
    switch (node.type) {
      case 'play':
        this.play(node.prompt, node.bargeIn ?? false);
        s.afterPrompt = node.next;
        return;
      case 'menu':
      case 'survey':
      case 'collect':
        if (this.takeTypeahead()) return;
        this.play(node.prompt, true);
        return;
      case 'branch':
        return this.goTo(node.conditions.find((c) => this.holds(c.when))?.next ?? node.otherwise);
      case 'set':
        for (const [name, template] of Object.entries(node.vars)) s.vars[name] = this.expand(template);
        return this.goTo(node.next);
      case 'http':
        s.waiting = 'http';
        this.actions.push({
          type: 'http',
          url: this.expand(node.url),
          method: node.method ?? 'GET',
          timeoutMs: node.timeout,
          body: node.body
            ? Object.fromEntries(Object.entries(node.body).map(([k, v]) => [k, this.expand(v)]))
            : undefined,
        });
        return;
      case 'queue':
        s.waiting = 'queue';
        s.outcome = { type: 'queue', queue: node.queue, skills: node.skills ?? [], priority: node.priority ?? 0 };
        this.actions.push({
          type: 'queue',
          queue: node.queue,
          skills: node.skills ?? [],
          priority: node.priority ?? 0,
          maxWait: node.maxWait,
        });
        return;
      case 'transfer':
        // With a prompt, the hand-off is announced first; the transfer follows its end.
        return this.finish({ type: 'transfer', kind: node.kind, number: node.number }, node.prompt);
      case 'voicemail':
        this.play(node.prompt, false);
        return;
      case 'goto':
        return this.goTo(node.target);
      case 'subflow': {
        const target = this.context.flow(node.flow);
        // The linter refuses subflows that call each other in a loop or nest too deep; this
        // guards a mix of versions that slipped through, before the call's saved stack grows.
        if (!target || s.stack.length >= FLOW_LIMITS.maxSubflowDepth) return this.finish({ type: 'hangup' });
        s.stack.push({ flowId: this.ref.id, version: this.ref.version, next: node.next });
        this.switchFlow(target);
        return this.goTo(target.flow.start);
      }
      case 'return': {
        const frame = s.stack.pop();
        const parent = frame ? this.context.flow(frame.flowId) : undefined;
        if (!frame || !parent) return this.finish({ type: 'hangup' });
        this.switchFlow(parent);
        return this.goTo(frame.next);
      }
      case 'hangup':
        return this.finish({ type: 'hangup' }, node.prompt);
    }
  }

  private switchFlow(ref: FlowRef): void {
    this.ref = ref;
    this.state.flowId = ref.id;
    this.state.version = ref.version;
  }

  private finish(outcome: Outcome, prompt?: PromptRef): void {
    const s = this.state;
    if (s.outcome?.type === 'voicemail' && outcome.type === 'hangup') outcome = s.outcome;
    s.outcome = outcome;
    if (prompt) {
      this.play(prompt, false);
      s.waiting = 'prompt';
      s.afterPrompt = '\u0000finish';
      return;
    }
    this.emitOutcome();
  }

  private emitOutcome(): void {
    const s = this.state;
    s.waiting = 'done';
    const o = s.outcome!;
    if (o.type === 'transfer') this.actions.push({ type: 'transfer', kind: o.kind, number: o.number });
    else this.actions.push({ type: 'hangup' });
  }

  private play(prompt: PromptRef | PromptRef[], bargeIn: boolean, before?: PromptRef): void {
    const prompts = Array.isArray(prompt) ? prompt : [prompt];
    this.state.waiting = 'prompt';
    this.actions.push({ type: 'play', prompts: before ? [before, ...prompts] : prompts, bargeIn });
  }

  handle(event: IvrEvent): Step {
    const s = this.state;
    if (s.waiting === 'done') return this.result();
    switch (event.type) {
      case 'playbackFinished':
        if (s.waiting !== 'prompt') break;
        if (s.afterPrompt === '\u0000finish') {
          this.emitOutcome();
          break;
        }
        if (s.afterPrompt !== undefined) {
          this.goTo(s.afterPrompt);
          break;
        }
        if (this.node.type === 'voicemail') {
          const node = this.node as Extract<FlowNode, { type: 'voicemail' }>;
          s.waiting = 'recording';
          this.actions.push({ type: 'record', maxSeconds: node.maxSeconds ?? 120, reason: node.reason ?? 'voicemail' });
          break;
        }
        s.waiting = 'input';
        this.actions.push({ type: 'waitForInput', seconds: this.timeoutOf() });
        break;
      case 'dtmf':
        this.key(event.digit);
        break;
      case 'timeout':
        if (s.waiting !== 'input') break;
        this.noInput();
        break;
      case 'httpResult': {
        if (s.waiting !== 'http' || this.node.type !== 'http') break;
        const node = this.node;
        if (event.ok) {
          for (const [name, path] of Object.entries(node.assign ?? {})) {
            const value = pick(event.data, path);
            if (value !== undefined) s.vars[name] = String(value);
          }
          this.goTo(node.next);
        } else {
          s.vars.httpError = event.error ?? 'failed';
          this.goTo(node.onError);
        }
        break;
      }
      case 'recordingFinished': {
        if (s.waiting !== 'recording' || this.node.type !== 'voicemail') break;
        const node = this.node;
        s.vars.voicemail = event.recording;
        s.outcome = { type: 'voicemail', recording: event.recording, reason: node.reason ?? 'voicemail' };
        this.goTo(node.next);
        break;
      }
      case 'queueResult': {
        if (s.waiting !== 'queue' || this.node.type !== 'queue') break;
        const next = event.result === 'timeout' ? this.node.onTimeout : this.node.onNoAgents;
        if (next) {
          s.outcome = undefined;
          this.goTo(next);
        }
        break;
      }
    }
    return this.result();
  }

  private timeoutOf(): number {
    const node = this.node;
    return 'timeout' in node && typeof node.timeout === 'number' ? node.timeout : DEFAULT_TIMEOUT_S;
  }

  private takeTypeahead(): boolean {
    const s = this.state;
    if (!s.typeahead) return false;
    const digits = s.typeahead;
    s.typeahead = '';
    s.waiting = 'input';
    for (const d of digits) {
      if (this.state.waiting === 'done' || !['menu', 'survey', 'collect'].includes(this.node.type)) {
        this.state.typeahead += d;
        continue;
      }
      this.key(d);
    }
    if (this.state.waiting === 'input' && ['menu', 'survey', 'collect'].includes(this.node.type)) {
      this.actions.push({ type: 'waitForInput', seconds: this.timeoutOf() });
    }
    return true;
  }

  private key(digit: string): void {
    const s = this.state;
    const node = this.node;
    const readsKeys = node.type === 'menu' || node.type === 'collect' || node.type === 'survey';
    if (s.waiting === 'prompt') {
      if (readsKeys && s.afterPrompt === undefined) {
        this.actions.push({ type: 'stopPlayback' });
        s.waiting = 'input';
      } else if (node.type === 'play' && node.bargeIn) {
        this.actions.push({ type: 'stopPlayback' });
        s.typeahead += digit;
        this.goTo(node.next);
        return;
      } else {
        return; // not skippable: keys are ignored while it plays
      }
    }
    if (s.waiting !== 'input') return;
    switch (node.type) {
      case 'menu': {
        const target = node.options[digit];
        if (target !== undefined) return this.goTo(target);
        return this.invalid();
      }
      case 'survey': {
        const answer = node.answers[digit];
        if (answer === undefined) return this.invalid();
        s.vars.survey = answer;
        if (node.thanks) {
          this.play(node.thanks, false);
          s.afterPrompt = node.next;
          return;
        }
        return this.goTo(node.next);
      }
      case 'collect': {
        if (node.terminator !== undefined && digit === node.terminator) return this.completeCollect();
        s.digits += digit === '*' && node.starAs ? node.starAs : digit;
        if (s.digits.length >= node.maxLength) return this.completeCollect();
        this.actions.push({ type: 'waitForInput', seconds: this.timeoutOf() });
        return;
      }
      default:
    }
  }

  private completeCollect(): void {
    const node = this.node as Extract<FlowNode, { type: 'collect' }>;
    const s = this.state;
    const digits = s.digits;
    const longEnough = digits.length >= (node.minLength ?? 1);
    const matches = node.pattern === undefined || new RegExp(`^(?:${node.pattern})$`).test(digits);
    if (longEnough && matches) {
      s.vars[node.var] = digits;
      return this.goTo(node.next);
    }
    s.digits = '';
    this.invalid();
  }

  private noInput(): void {
    const node = this.node;
    if (node.type === 'collect' && this.state.digits.length > 0) return this.completeCollect();
    if (node.type === 'survey') return this.retryOr(undefined, node.next, node.prompt, node.retries);
    if (node.type !== 'menu' && node.type !== 'collect') return;
    this.retryOr(node.noInput.prompt, node.noInput.next, node.prompt, node.retries);
  }

  private invalid(): void {
    const node = this.node;
    if (node.type === 'survey') return this.retryOr(undefined, node.next, node.prompt, node.retries);
    if (node.type !== 'menu' && node.type !== 'collect') return;
    this.retryOr(node.invalid.prompt, node.invalid.next, node.prompt, node.retries);
  }

  /** Offers the node again (after an explanation), or gives up and moves on. */
  private retryOr(
    explain: PromptRef | undefined,
    giveUp: string,
    prompt: PromptRef | PromptRef[],
    retries = DEFAULT_RETRIES,
  ): void {
    const s = this.state;
    s.attempt += 1;
    s.digits = '';
    if (s.attempt > retries) {
      if (explain) {
        this.play(explain, false);
        s.afterPrompt = giveUp;
        return;
      }
      return this.goTo(giveUp);
    }
    s.path.push(s.stack.length > 0 ? `${this.ref.id}/${s.node}` : s.node); // the menu offered again
    this.play(prompt, true, explain);
  }

  private holds(when: Condition): boolean {
    const { calendar, did, caller } = this.context;
    const now = this.context.now();
    if (when.hours && calendar.isOpen(when.hours.schedule, now) !== (when.hours.is === 'open')) return false;
    if (when.holiday !== undefined && (calendar.holiday(now) !== undefined) !== when.holiday) return false;
    if (when.did && !when.did.includes(did)) return false;
    if (when.caller) {
      const anonymous = caller === '' || /^(anonymous|unknown|restricted)$/i.test(caller);
      if (when.caller.anonymous !== undefined && anonymous !== when.caller.anonymous) return false;
      if (when.caller.prefix && !when.caller.prefix.some((p) => caller.startsWith(p))) return false;
      if (when.caller.pattern && !new RegExp(when.caller.pattern).test(caller)) return false;
    }
    if (when.var) {
      const value = this.state.vars[when.var.name];
      if (when.var.set !== undefined && (value !== undefined) !== when.var.set) return false;
      if (when.var.equals !== undefined && value !== when.var.equals) return false;
      if (when.var.matches !== undefined && (value === undefined || !new RegExp(when.var.matches).test(value)))
        return false;
    }
    return true;
  }

  /** ${did}, ${caller} and ${var} in set values, URLs and bodies. */
  private expand(template: string): string {
    return template.replace(/\$\{([a-zA-Z][a-zA-Z0-9_]*)\}/g, (_, name: string) => {
      if (name === 'did') return this.context.did;
      if (name === 'caller') return this.context.caller;
      return this.state.vars[name] ?? '';
    });
  }
}

function pick(data: unknown, path: string): unknown {
  let cursor: unknown = data;
  for (const part of path.split('.')) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<string, unknown>)[part];
  }
  return typeof cursor === 'object' ? undefined : cursor;
}
