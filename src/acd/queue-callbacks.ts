// Callbacks that keep the caller's place: a caller who pressed 1 hangs up and their entry
// waits on in the queue; when it reaches the head, the agent is rung first and, once they
// answer, the citizen is dialled. The dialer's agent-first tasks enter the queue the same way.
// A queue callback is a call of its own (kind 'callback'), whose first channel is the agent's.
import type { AriEvent } from '../asterisk/ari.js';
import {
  agentEndpoint,
  callbackAgentLeg,
  callbackCallId,
  callbackCitizenLeg,
  callbackConfirmPlayback,
  talkBridge,
} from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { checkDestination } from '../calls/dial-string.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, acdState, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';
import type { Match } from './router.js';
import { screenPop } from './screen-pop.js';
import { runSteps } from './steps.js';

/** A number we may call back (the caller's own, as the network gave it). */
export const CALLBACK_NUMBER = /^\+?\d{3,20}$/;

type CallbackNeeds = Pick<
  AcdWiring,
  'deps' | 'log' | 'calls' | 'queue' | 'wake' | 'route' | 'record' | 'wrapUp' | 'dialerResult'
>;

export class QueueCallbacks {
  constructor(private readonly acd: CallbackNeeds) {}

  private get deps() {
    return this.acd.deps;
  }

  /** The caller pressed 1: we call back when their turn comes; the entry keeps its place. */
  async request(call: Call): Promise<void> {
    const state = acdState(call)!;
    const playbackId = callbackConfirmPlayback(call.id);
    await saveAcd(call, { phase: 'callback-requested', playbackId });
    await this.deps.waiting.updateEntry(call.id, { owner: '', callback: call.state.caller });
    await this.deps.stats.count(state.origin, 'callbacksRequested');
    await this.deps.callbacks.add({
      callId: call.id,
      did: call.state.did,
      caller: call.state.caller,
      reason: 'queue-callback',
    });
    await call.note(
      'callback-chosen',
      { event: LogEvent.callbackChosen, queue: state.queue },
      'caller chose a callback; their place in the queue is kept',
    );
    const media = await this.deps.speak('已为您登记回拨，轮到您时我们会来电，请挂机等候。');
    await call.ari.channels.play(call.channelId, playbackId, `sound:${media}`);
  }

  /**
   * The dialer's agent-first callback: an entry in the queue that the first free agent takes;
   * the agent is rung first, then the citizen (as for a queue callback).
   */
  async enqueue(entryId: string, c: { queue: string; number: string; did: string; dialerTask: string }): Promise<void> {
    const now = Date.now();
    await this.deps.waiting.join(entryId, {
      queue: c.queue,
      origin: c.queue,
      priority: 9,
      enqueuedAt: now,
      owner: '',
      did: c.did,
      caller: c.number,
      callback: c.number,
      dialerTask: c.dialerTask,
    });
    this.acd.log.info(
      { entry: entryId, queue: c.queue, task: c.dialerTask },
      'dialer callback queued for the first free agent',
    );
    await this.acd.wake();
    void this.acd.route();
  }

  /** A callback entry reached the head: ring the agent first, then the citizen. */
  async offer(match: Match): Promise<void> {
    const info = await this.deps.waiting.entry(match.callId);
    if (!info.callback || !CALLBACK_NUMBER.test(info.callback))
      throw new Error(`queue entry ${match.callId} is neither a live call here nor a callback`);
    const callId = callbackCallId(match.callId, Date.now());
    const leg = callbackAgentLeg(callId);
    const state: AcdCallState = {
      queue: match.queue,
      origin: info.origin ?? match.queue,
      phase: 'offering',
      priority: Number(info.priority ?? 0),
      enqueuedAt: Number(info.enqueuedAt),
      legCount: 1,
      agentId: match.agentId,
      agentLeg: leg,
      offeredAt: Date.now(),
      originCallId: match.callId,
      callbackNumber: info.callback,
      ...(info.dialerTask ? { dialerTask: info.dialerTask } : {}),
    };
    const call = await this.acd.calls.open({
      callId,
      channelId: leg,
      did: info.did ?? '12345',
      caller: info.callback,
      startedAt: new Date().toISOString(),
      asteriskStartup: '',
      flow: { acd: state },
      kind: 'callback',
    });
    call.log.info(
      { event: LogEvent.queueCallbackRinging, agentId: match.agentId, originCallId: match.callId, queue: match.queue },
      'queue callback: ringing the agent first',
    );
    const pop = screenPop({
      did: call.state.did,
      caller: info.callback,
      waitMs: Date.now() - state.enqueuedAt,
      policy: this.acd.queue(match.queue).callerNumber,
    });
    this.deps.notifier.agentOffer({
      agentId: match.agentId,
      callId,
      queue: match.queue,
      tags: [],
      callback: true,
      ...pop,
    });
    this.acd.calls.run(callId, async () => {
      await this.deps.ari.originate({
        channelId: leg,
        endpoint: `PJSIP/${agentEndpoint(match.agentId)}`,
        callerId: `"回拨" <${info.callback}>`,
        timeout: this.acd.queue(match.queue).ringSeconds,
        appArgs: `agent-leg,${callId}`,
      });
    });
  }

  /** ARI events of a queue callback's legs (the agent's, then the citizen's); always handled. */
  async onEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<boolean> {
    const channelId = event.channel?.id;
    if (event.type === 'StasisStart' && channelId === state.agentLeg && state.phase === 'offering') {
      const citizenLeg = callbackCitizenLeg(call.id);
      await saveAcd(call, { phase: 'dialing-citizen', citizenLeg, answeredAt: Date.now() });
      await this.deps.router.setAgentState(state.agentId!, 'on-call', '', call.id, Date.now(), {
        expect: ['reserved'],
      });
      await this.deps.router.clearOffer(state.originCallId!);
      await this.acd.calls.attachLeg(call, citizenLeg, { role: 'citizen', party: 'caller' });
      await call.note(
        'agent-answered',
        { agentId: state.agentId, citizenChannel: citizenLeg },
        'queue callback: agent answered; calling the citizen',
      );
      await this.deps.ari.originate({
        channelId: citizenLeg,
        endpoint: `PJSIP/${checkDestination('external', state.callbackNumber!, 'callbackNumber').number}@${this.deps.pstnEndpoint ?? 'pstn'}`,
        callerId: call.state.did,
        timeout: 40,
        appArgs: `agent-leg,${call.id}`,
      });
      return true;
    }
    if (channelId === state.citizenLeg) await this.onCitizenLeg(call, state, event);
    return true;
  }

  private async onCitizenLeg(call: Call, state: AcdCallState, event: AriEvent): Promise<void> {
    if (event.type === 'StasisStart' && state.phase === 'dialing-citizen') {
      const bridgeId = talkBridge(call.id);
      await call.ari.ensureBridge(bridgeId, 'mixing', `callback ${call.id}`);
      await call.ari.bridges.add(bridgeId, [state.agentLeg!, state.citizenLeg!]);
      await saveAcd(call, { phase: 'connected', bridgeId });
      await this.deps.waiting.leave(state.originCallId!, state.queue);
      await call.note(
        'answered',
        { event: LogEvent.queueCallbackConnected, agentId: state.agentId },
        'queue callback connected',
      );
      if (state.dialerTask) this.acd.dialerResult({ task: state.dialerTask, reached: true, callId: call.id });
      await this.acd.record(call, bridgeId, state.agentId!, state.queue);
      return;
    }
    if (event.type !== 'ChannelDestroyed' || (state.phase !== 'dialing-citizen' && state.phase !== 'connected')) return;
    if (state.phase === 'dialing-citizen' && state.dialerTask) {
      // The dialer's own task: it settles the attempt and retries by its rules.
      await call.note(
        'citizen-no-answer',
        { cause: String(event.cause_txt ?? ''), task: state.dialerTask },
        'callback: the citizen did not answer',
      );
      this.acd.dialerResult({
        task: state.dialerTask,
        reached: false,
        cause: Number(event.cause ?? 0),
        causeText: event.cause_txt as string | undefined,
        callId: call.id,
      });
      await this.deps.waiting.leave(state.originCallId!, state.queue);
      await saveAcd(call, { phase: 'done', answeredAt: undefined, firstAnsweredAt: undefined });
    } else if (state.phase === 'dialing-citizen') {
      call.log.warn(
        { cause: event.cause_txt },
        'queue callback: the citizen did not answer; left to the outbound dialer',
      );
      await this.deps.callbacks.add({
        callId: state.originCallId!,
        did: call.state.did,
        caller: state.callbackNumber!,
        reason: 'queue-callback-unreached',
      });
      await this.deps.waiting.leave(state.originCallId!, state.queue);
      await saveAcd(call, { phase: 'done' });
    }
    await call.hangup(); // the agent's leg; the call ends and the agent goes to wrap-up
  }

  /** A queue callback ended: an unanswered agent's entry keeps its place; a talk ends in wrap-up. */
  async end(call: Call, state: AcdCallState): Promise<void> {
    const now = Date.now();
    if (state.citizenLeg) await this.deps.ari.hangupChannel(state.citizenLeg);
    if (state.phase === 'offering') {
      // The agent did not answer: the entry goes back to its place, the agent steps out.
      await runSteps(call, [
        ['return the entry', () => this.deps.router.returnCall(state.originCallId!)],
        [
          'the agent steps out',
          async () => {
            const rule = this.deps.roster().ringNoAnswer;
            await this.deps.router.setAgentState(
              state.agentId!,
              rule.state,
              rule.state === 'ready' ? '' : rule.reason,
              '',
              now,
              { expect: ['reserved'] },
            );
          },
        ],
      ]);
      call.log.info({ agentId: state.agentId }, 'queue callback: agent did not answer; the entry keeps its place');
      void this.acd.route();
      return;
    }
    if (state.phase === 'connected' || state.phase === 'dialing-citizen' || state.phase === 'done') {
      await runSteps(call, [
        [
          'leave the queue',
          async () => {
            if (state.phase === 'dialing-citizen') await this.deps.waiting.leave(state.originCallId!, state.queue);
          },
        ],
        ['wrap-up', () => this.acd.wrapUp(call, state.agentId!, state.origin, now - (state.answeredAt ?? now))],
      ]);
    }
  }
}
