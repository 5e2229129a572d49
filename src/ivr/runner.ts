// Runs IVR flows on live calls: starts and resumes them (the calls domain's CallFlow), is the
// last member of a call's event path (calls/event-path.ts: `ivr`, with `divert` before the ACD),
// and takes calls the ACD hands back (CallHandoffs: out of a queue unserved, after the agent).
// It feeds ARI events to the interpreter and carries out the actions it returns; where a call
// leaves the flow or comes back to it (queue, transfer, fallback, divert) is handoffs.ts. Before
// every side effect the interpreter's state is saved with the call, with the playback id, the
// input deadline and the queue deadline, so a new controller process can resume any call
// exactly where it was.
import type { Logger } from 'pino';

import type { AcdService } from '../acd/service.js';
import type { AriEvent } from '../asterisk/ari.js';
import { ivrPlayback, voicemailRecording } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import type { CallEventHandler, CallHandoffs, QueueExitResult } from '../calls/event-path.js';
import type { CallFlow, LostState } from '../calls/service.js';
import { LogEvent } from '../events/log-events.js';
import type { CallbackTasks } from './callbacks.js';
import type { PromptRef } from './flow-schema.js';
import { IvrHandoffs } from './handoffs.js';
import {
  advance,
  type FlowRef,
  type IvrAction,
  type IvrContext,
  type IvrEvent,
  type IvrState,
  startFlow,
  type Step,
} from './interpreter.js';
import type { PromptResolver } from './prompts.js';
import type { FlowRegistry } from './registry.js';
import { performHttp } from './simulator.js';
import type { SurveyAnswers } from './surveys.js';

/** What Asterisk tells of a finished recording (ARI LiveRecording); durations in seconds. */
interface RecordingFacts {
  name?: string;
  duration?: number;
  /** Present when the recording was made with maxSilenceSeconds (ours always are). */
  talking_duration?: number;
  silence_duration?: number;
}

declare module '../calls/call.js' {
  /** What the runner keeps in the call's saved state. */
  interface CallSlots {
    ivr?: IvrState | undefined;
    playbackId?: string | undefined;
    playCount?: number | undefined;
    inputToken?: number | undefined;
    inputDeadline?: number | undefined;
    httpToken?: number | undefined;
    /** The voicemail being recorded (a masked call keeps its talk recording's name here too). */
    recording?: string | undefined;
    /** The dialer's task a citizen reached by the dialer was called for (set as the call begins). */
    dialerTask?: string | undefined;
  }
}

export interface IvrRunnerDeps {
  registry: Pick<FlowRegistry, 'forNumber' | 'current' | 'version' | 'calendar'>;
  prompts: Pick<PromptResolver, 'resolve'>;
  /** What the flow asks of the ACD (its events reach the ACD along the path, not through here). */
  acd: Pick<AcdService, 'enqueue' | 'resume' | 'recover' | 'onEnd'>;
  callbacks: Pick<CallbackTasks, 'add'>;
  surveys: Pick<SurveyAnswers, 'add'>;
  /** The flow a citizen reached by the dialer goes through. */
  outboundFlow?: string;
  /** Calls to virtual numbers (they run no flow unless refused). */
  masking?: { serves(did: string): boolean; start(call: Call): Promise<void> };
  logger: Logger;
}

export class IvrRunner implements CallFlow, CallEventHandler, CallHandoffs {
  /** Where calls leave the flow and come back to it. */
  private readonly handoffs: IvrHandoffs;
  /** The divert check, a member of the event path of its own (before the ACD). */
  readonly divert: CallEventHandler;

  constructor(private readonly deps: IvrRunnerDeps) {
    this.handoffs = new IvrHandoffs({
      registry: deps.registry,
      prompts: deps.prompts,
      acd: deps.acd,
      flow: { begin: (call, ref) => this.begin(call, ref), feed: (call, event) => this.feed(call, event) },
    });
    this.divert = this.handoffs.divert;
  }

  /** The agent hung up: the after-call flow (a survey) starts; false when it is not loaded. */
  agentLeft(call: Call, flowId: string): Promise<boolean> {
    return this.handoffs.agentLeft(call, flowId);
  }

  /** The caller left the queue without an agent: the flow goes on from its queue node. */
  queueExit(call: Call, result: QueueExitResult): Promise<void> {
    return this.handoffs.queueExit(call, result);
  }

  /** Says why, then hands the caller to the 12345 flow (a call to a virtual number not theirs). */
  toHotline(call: Call, prompt: PromptRef): Promise<void> {
    return this.handoffs.toHotline(call, prompt);
  }

  private context(call: Call): IvrContext {
    return {
      did: call.state.did,
      caller: call.state.caller,
      now: () => new Date(),
      calendar: this.deps.registry.calendar,
      flow: (id) => this.deps.registry.current(id),
    };
  }

  async start(call: Call): Promise<void> {
    if (call.state.kind === 'outbound') return this.startOutbound(call);
    if (this.deps.masking?.serves(call.state.did)) return this.deps.masking.start(call);
    const ref = this.deps.registry.forNumber(call.state.did);
    if (!ref) {
      // No flow answers this number (all its versions broken or removed): never drop the
      // citizen; the dialplan fallback queues them to a general agent.
      call.log.error({ did: call.state.did }, 'no flow answers this number; sending the call to the dialplan fallback');
      await this.handoffs.toFallback(call);
      return;
    }
    await call.answer();
    const step = startFlow(ref, this.context(call));
    await call.note('flow', { event: LogEvent.flowStarted, flowId: ref.id, flowVersion: ref.version }, 'flow started');
    await this.apply(call, step);
  }

  /** A citizen the dialer reached (already answered): the dialer's flow, or an apology if it is gone. */
  private async startOutbound(call: Call): Promise<void> {
    const ref = this.deps.outboundFlow ? this.deps.registry.current(this.deps.outboundFlow) : undefined;
    if (!ref) {
      call.log.error({ flowId: this.deps.outboundFlow }, "the dialer's flow is not loaded; hanging up the callback");
      await call.hangup();
      return;
    }
    await call.note(
      'flow',
      { event: LogEvent.callbackFlowStarted, flowId: ref.id, flowVersion: ref.version, task: call.flow.dialerTask },
      'callback answered; flow started',
    );
    await this.begin(call, ref);
  }

  async resume(call: Call): Promise<void> {
    const saved = call.flow;
    if (call.state.kind === 'callback') return this.deps.acd.resume(call);
    // A call rebuilt from Asterisk after Redis lost its data has queue state and no flow state:
    // it resumes in its queue; starting it would greet the citizen again.
    if (!saved.ivr) return call.flow.acd ? this.deps.acd.resume(call) : this.start(call);
    const ivr = saved.ivr;
    call.log.info(
      { flowId: ivr.flowId, flowVersion: ivr.version, node: ivr.node, waiting: ivr.waiting },
      'flow resumed',
    );
    switch (ivr.waiting) {
      case 'prompt':
        if (saved.playbackId && (await call.isPlaying(saved.playbackId))) {
          call.log.info(
            { event: LogEvent.promptStillPlaying, node: ivr.node, playbackId: saved.playbackId },
            'prompt still playing; waiting for its end',
          );
          return; // its end will come as an event
        }
        return this.feed(call, { type: 'playbackFinished' });
      case 'input': {
        const left = (saved.inputDeadline ?? 0) - Date.now();
        return this.armInputTimer(call, Math.max(0, left), saved.inputToken ?? 0);
      }
      case 'http': {
        // The answer was lost with the old process; ask again (lookups are reads).
        const action = (await this.refFor(call)).flow.nodes[ivr.node];
        if (action?.type === 'http')
          return this.apply(call, { state: ivr, actions: [] }, [
            { type: 'http', url: action.url, method: action.method ?? 'GET', timeoutMs: action.timeout },
          ]);
        return;
      }
      case 'recording':
        if (saved.recording && !(await this.isRecording(call, saved.recording)))
          return this.finishRecording(call, saved.recording);
        return;
      case 'queue':
        return this.deps.acd.resume(call);
      case 'done':
        return;
    }
  }

  /** The flow's own events, last on the path; true when the flow took the event. */
  async onEvent(call: Call, event: AriEvent): Promise<boolean> {
    const saved = call.flow;
    switch (event.type) {
      case 'PlaybackFinished':
        if (!saved.playbackId || event.playback?.id !== saved.playbackId) return false; // a stopped or older prompt
        await call.updateFlow({ playbackId: undefined });
        call.log.info(
          { event: LogEvent.promptFinished, node: saved.ivr?.node, playbackId: event.playback.id },
          'prompt finished',
        );
        await this.feed(call, { type: 'playbackFinished' });
        return true;
      case 'ChannelDtmfReceived':
        if (typeof event.digit !== 'string') return false;
        call.log.debug({ digit: event.digit }, 'key pressed');
        await call.updateFlow({ inputToken: (saved.inputToken ?? 0) + 1 }); // a pending no-input timer is void
        await this.feed(call, { type: 'dtmf', digit: event.digit });
        return true;
      case 'RecordingFinished':
      case 'RecordingFailed': {
        const recording = event.recording as RecordingFacts | undefined;
        if (!recording?.name || recording.name !== saved.recording) return false;
        await this.finishRecording(call, recording.name, recording);
        return true;
      }
      default:
        return false;
    }
  }

  /** After Redis lost its data: the ACD rebuilds the calls it can from Asterisk. */
  recover(lost: LostState): Promise<Set<string>> {
    return this.deps.acd.recover(lost);
  }

  /** The call is over (the path ended every domain before this one): the flow's summary goes to the log. */
  async onEnd(call: Call): Promise<void> {
    const ivr = call.flow.ivr;
    if (!ivr) return;
    call.log.info(
      {
        event: LogEvent.flowEnded,
        flowId: ivr.flowId,
        flowVersion: ivr.version,
        path: ivr.path,
        outcome: ivr.outcome ?? null,
        vars: ivr.vars,
        previousFlows: call.flow.previousFlows,
      },
      'flow ended',
    );
  }

  private async refFor(call: Call): Promise<FlowRef> {
    const ivr = call.flow.ivr!;
    const ref = await this.deps.registry.version(ivr.flowId, ivr.version);
    if (ref) return ref;
    // The exact version is gone (never stored): continue on the current one rather than drop.
    const current = this.deps.registry.current(ivr.flowId);
    if (!current) throw new Error(`flow ${ivr.flowId} is no longer available`);
    call.log.warn(
      { flowId: ivr.flowId, wanted: ivr.version, using: current.version },
      'flow version not found; continuing on the current one',
    );
    return current;
  }

  /** Starts the flow `ref` on the call from its first node. */
  private begin(call: Call, ref: FlowRef): Promise<void> {
    return this.apply(call, startFlow(ref, this.context(call)));
  }

  private async feed(call: Call, event: IvrEvent): Promise<void> {
    const ivr = call.flow.ivr;
    if (!ivr) return;
    const step = advance(await this.refFor(call), ivr, event, this.context(call));
    await this.apply(call, step);
  }

  private async apply(call: Call, step: Step, extra: IvrAction[] = []): Promise<void> {
    const answerBefore = call.flow.ivr?.vars.survey;
    await call.updateFlow({ ivr: step.state });
    if (step.state.vars.survey !== undefined && step.state.vars.survey !== answerBefore)
      await this.keepSurveyAnswer(call, step.state);
    try {
      for (const action of [...step.actions, ...extra]) await this.perform(call, step.state, action);
    } catch (err) {
      await this.handoffs.rescue(call, step.state, err);
    }
  }

  private async perform(call: Call, state: IvrState, action: IvrAction): Promise<void> {
    const saved = call.flow;
    switch (action.type) {
      case 'play': {
        const media = await Promise.all(action.prompts.map((p) => this.deps.prompts.resolve(p)));
        const count = (saved.playCount ?? 0) + 1;
        const playbackId = ivrPlayback(call.id, count);
        await call.updateFlow({ playbackId, playCount: count });
        await call.ari.channels.play(call.channelId, playbackId, media.map((m) => `sound:${m}`).join(','));
        call.log.info(
          {
            event: LogEvent.promptPlaying,
            node: state.node,
            playbackId,
            prompts: action.prompts.map((p) => (typeof p === 'string' ? p : p.text)),
          },
          'playing prompt',
        );
        return;
      }
      case 'stopPlayback': {
        const playbackId = saved.playbackId;
        await call.updateFlow({ playbackId: undefined });
        if (playbackId) await call.ari.playbacks.stopIfPresent(playbackId);
        return;
      }
      case 'waitForInput': {
        const token = (saved.inputToken ?? 0) + 1;
        await call.updateFlow({ inputToken: token, inputDeadline: Date.now() + action.seconds * 1000 });
        return this.armInputTimer(call, action.seconds * 1000, token);
      }
      case 'http': {
        const token = (saved.httpToken ?? 0) + 1;
        await call.updateFlow({ httpToken: token });
        call.log.info(
          { event: LogEvent.httpLookup, node: state.node, url: action.url, timeoutMs: action.timeoutMs },
          'http lookup',
        );
        // Not awaited: the call's queue must keep serving events (a hang-up) meanwhile.
        void performHttp(action).then((result) => {
          call.later(0, async () => {
            if (call.flow.httpToken !== token) return;
            call.log.info(
              { event: LogEvent.httpLookupAnswered, ok: result.ok, error: result.error },
              'http lookup answered',
            );
            await this.feed(call, result);
          });
        });
        return;
      }
      case 'record': {
        const name = voicemailRecording(call.id, Date.now());
        await call.updateFlow({ recording: name });
        await call.ari.channels.record(call.channelId, {
          name,
          format: 'wav',
          maxDurationSeconds: action.maxSeconds,
          maxSilenceSeconds: 10,
          beep: true,
          terminateOn: '#',
          ifExists: 'overwrite',
        });
        call.log.info({ recording: name, reason: action.reason }, 'recording voicemail');
        return;
      }
      case 'queue':
        return this.handoffs.toQueue(call, state, action);
      case 'transfer':
        return this.handoffs.transfer(call, state, action);
      case 'hangup':
        await call.hangup();
        return;
    }
  }

  /** The survey answer is kept with the call and the agent who served it. */
  private async keepSurveyAnswer(call: Call, state: IvrState): Promise<void> {
    const acd = call.flow.acd;
    const answer = state.vars.survey!;
    await this.deps.surveys.add({
      callId: call.id,
      agentId: acd?.agentId,
      queue: acd?.origin,
      did: call.state.did,
      answer,
      flowId: state.flowId,
    });
    await call.note('survey', { agentId: acd?.agentId, queue: acd?.origin, answer }, 'survey answered');
  }

  private armInputTimer(call: Call, delayMs: number, token: number): void {
    call.later(delayMs, async () => {
      if (call.flow.inputToken !== token) return; // a key came first
      await this.feed(call, { type: 'timeout' });
    });
  }

  private async isRecording(call: Call, name: string): Promise<boolean> {
    try {
      await call.ari.recordings.live(name);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A voicemail ended. One with no speech at all (a caller who said nothing, then pressed #
   * or hung up) is kept but makes no callback task: nobody asked for anything. Asterisk
   * measures the talking in a recording made with maxSilenceSeconds (talking_duration, in
   * whole seconds); when that is not known (the recording ended while no controller was
   * connected), the task is made, to err on the citizen's side.
   */
  private async finishRecording(call: Call, name: string, facts?: RecordingFacts): Promise<void> {
    await call.updateFlow({ recording: undefined });
    const ivr = call.flow.ivr;
    if (typeof facts?.talking_duration === 'number' && facts.talking_duration < 1) {
      await call.note(
        'voicemail-silent',
        {
          event: LogEvent.voicemailSilent,
          recording: name,
          durationS: facts.duration ?? null,
          talkingS: facts.talking_duration,
        },
        'voicemail had no speech; no callback task (the recording is kept)',
      );
      await this.feed(call, { type: 'recordingFinished', recording: name });
      return;
    }
    const id = await this.deps.callbacks.add({
      callId: call.id,
      did: call.state.did,
      caller: call.state.caller,
      reason: 'voicemail',
      recording: name,
      flowId: ivr?.flowId,
    });
    await call.note(
      'voicemail',
      { event: LogEvent.voicemailRecorded, recording: name, callbackTask: id },
      'voicemail recorded; callback task created',
    );
    await this.feed(call, { type: 'recordingFinished', recording: name });
  }
}
