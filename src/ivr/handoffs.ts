// Where a call leaves its IVR flow or comes back to it (runner.ts runs the flow itself). Out:
// to a queue (the ACD), to a transfer (emergency, internal, external: the dialplan carries it),
// and to the dialplan fallback when there is no flow to go on with or an action failed, since a
// citizen is never dropped nor left in silence. Back in: from the ACD (out of a queue unserved,
// or the after-call flow once the agent hung up) and from masking (a virtual number that is not
// the caller's: the divert prompt says why, then the 12345 flow). It drives the flow only
// through FlowSteps, so it never imports the runner.
import type { AcdService } from '../acd/service.js';
import type { AriEvent } from '../asterisk/ari.js';
import { divertPlayback } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import type { CallEventHandler, CallHandoffs, QueueExitResult } from '../calls/event-path.js';
import { LogEvent } from '../events/log-events.js';
import type { PromptRef } from './flow-schema.js';
import type { FlowRef, IvrAction, IvrEvent, IvrState } from './interpreter.js';
import type { PromptResolver } from './prompts.js';
import type { FlowRegistry } from './registry.js';

/** A flow the caller went through before the current one (kept for the record). */
export interface PreviousFlow {
  flowId: string;
  version: string;
  path: string[];
  outcome: IvrState['outcome'] | null;
}

declare module '../calls/call.js' {
  /** What the hand-offs keep in the call's saved state. */
  interface CallSlots {
    /** The playback id of the "not for you" prompt of a refused virtual-number call. */
    divert?: string | undefined;
    previousFlows?: PreviousFlow[] | undefined;
  }
}

/** How the hand-offs drive the flow (the runner). */
export interface FlowSteps {
  /** Starts the flow `ref` on the call from its first node. */
  begin(call: Call, ref: FlowRef): Promise<void>;
  /** Feeds the call's running flow an event. */
  feed(call: Call, event: IvrEvent): Promise<void>;
}

export interface IvrHandoffsDeps {
  registry: Pick<FlowRegistry, 'forNumber' | 'current'>;
  prompts: Pick<PromptResolver, 'resolve'>;
  acd: Pick<AcdService, 'enqueue' | 'onEnd'>;
  flow: FlowSteps;
}

export class IvrHandoffs implements CallHandoffs {
  /** The divert check, a member of the event path of its own (before the ACD). */
  readonly divert: CallEventHandler = { onEvent: (call, event) => this.onDivertEvent(call, event) };

  constructor(private readonly deps: IvrHandoffsDeps) {}

  /** The agent hung up: the after-call flow (a survey) starts; false when it is not loaded. */
  async agentLeft(call: Call, flowId: string): Promise<boolean> {
    const ref = this.deps.registry.current(flowId);
    if (!ref) return false;
    // The flow that brought the caller here is kept, for the record, before the next one starts.
    const ivr = call.flow.ivr;
    const before = call.flow.previousFlows ?? [];
    await call.updateFlow({
      previousFlows: ivr
        ? [...before, { flowId: ivr.flowId, version: ivr.version, path: ivr.path, outcome: ivr.outcome ?? null }]
        : before,
    });
    await call.note(
      'after-call-flow',
      { event: LogEvent.afterCallFlowStarted, flowId: ref.id, flowVersion: ref.version },
      'after-call flow started',
    );
    await this.deps.flow.begin(call, ref);
    return true;
  }

  /** The caller left the queue without an agent: the flow goes on from its queue node. */
  async queueExit(call: Call, result: QueueExitResult): Promise<void> {
    if (!call.flow.ivr) {
      // A caller put back in the queue after Redis lost its data: the flow that queued them
      // is not known, so there is no "next" in it. The dialplan fallback queues them natively.
      call.log.warn(
        { result },
        'left the queue with no flow to go on with (rebuilt after Redis lost its data); sending the call to the dialplan fallback',
      );
      await this.toFallback(call);
      return;
    }
    await call.note('flow-continues', { result }, 'left the queue; the flow goes on');
    await this.deps.flow.feed(call, { type: 'queueResult', result });
  }

  /** Says why, then hands the caller to the 12345 flow (a call to a virtual number not theirs). */
  async toHotline(call: Call, prompt: PromptRef): Promise<void> {
    const media = await this.deps.prompts.resolve(prompt);
    const playbackId = divertPlayback(call.id);
    await call.updateFlow({ divert: playbackId });
    await call.ari.channels.play(call.channelId, playbackId, `sound:${media}`);
  }

  /** The divert prompt ended: the caller goes on to the 12345 flow (or is hung up if none answers). */
  private async onDivertEvent(call: Call, event: AriEvent): Promise<boolean> {
    if (event.type !== 'PlaybackFinished' || !call.flow.divert || event.playback?.id !== call.flow.divert) return false;
    await call.updateFlow({ divert: undefined });
    const ref = this.deps.registry.forNumber('12345');
    if (!ref) {
      await call.hangup();
      return true;
    }
    await call.note('flow', { event: LogEvent.flowStarted, flowId: ref.id, flowVersion: ref.version }, 'flow started');
    await this.deps.flow.begin(call, ref);
    return true;
  }

  /** The flow reached a queue node: the ACD takes the call (its result comes back as queueExit). */
  async toQueue(call: Call, state: IvrState, action: Extract<IvrAction, { type: 'queue' }>): Promise<void> {
    await this.deps.acd.enqueue(call, {
      queue: action.queue,
      skills: action.skills,
      priority: action.priority,
      maxWait: action.maxWait,
      context: { path: state.path, flowVersion: state.version },
      ivr: { flowId: state.flowId, path: state.path, vars: state.vars },
    });
  }

  /** The flow reached a transfer node: the dialplan context of its kind dials the number. */
  async transfer(call: Call, state: IvrState, action: Extract<IvrAction, { type: 'transfer' }>): Promise<void> {
    const context =
      action.kind === 'emergency'
        ? 'rexian-emergency'
        : action.kind === 'internal'
          ? 'rexian-internal'
          : 'rexian-transfer';
    const log = { kind: action.kind, number: action.number, path: state.path };
    if (action.kind === 'emergency') call.log.warn({ event: LogEvent.emergencyTransfer, ...log }, 'emergency transfer');
    else call.log.info(log, 'transfer');
    await call.ari.channels.continueInDialplan(call.channelId, { context, extension: action.number });
  }

  /** The dialplan fallback apologises and queues the citizen natively (to a general agent). */
  toFallback(call: Call): Promise<void> {
    return call.ari.channels.continueInDialplan(call.channelId, {
      context: 'rexian-fallback',
      extension: call.state.did,
    });
  }

  /**
   * An action failed (Asterisk refused a request, a prompt could not be made). The citizen
   * must not be left in silence: the dialplan fallback apologises and queues them natively.
   */
  async rescue(call: Call, state: IvrState, err: unknown): Promise<void> {
    call.log.error(
      { err, node: state.node, flowId: state.flowId },
      'flow action failed; sending the call to the dialplan fallback',
    );
    await this.deps.acd.onEnd(call).catch(() => undefined);
    await call.updateFlow({ ivr: { ...state, waiting: 'done' }, acd: undefined });
    await this.toFallback(call).catch((e: unknown) => call.log.error({ err: e }, 'fallback failed too; hanging up'));
  }
}
