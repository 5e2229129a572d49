// Supervisors on live calls: monitor (listen to both sides), whisper (only the agent hears
// the supervisor), barge (everyone hears everyone), switch between them during the call,
// and take over (the agent drops, the supervisor stays with the citizen).
//
// The supervisor's phone is a roster seat given by id (a desk phone), or else their own browser
// seat (./seats.ts, `sup-<name>`), which answers by itself (Call-Info answer-after=0): the page
// asked for this call. Either way the dial string is checked before it reaches Asterisk.
//
// Built from ARI pieces: the supervisor's phone is rung with a channel id of our own; for
// monitor and whisper it meets, in a private mixing bridge, a snoop channel on the agent's
// leg (spy both ways; whisper "out" sends the supervisor's voice to the agent only). Barge
// moves the supervisor's channel into the call's talk bridge. A snoop's directions are fixed
// when it is made, so switching mode replaces the snoop. Every action is audited.
//
// The live-calls list shows each call's number as src/calls/privacy.ts decides: a masked call
// (AXB, a masked queue, a caller who asked for privacy) only masked, unless the token may
// reveal numbers (`revealNumbers`); every number so revealed is audited with who and the call.
import type { Logger } from 'pino';

import type { AcdService } from '../acd/service.js';
import { mayActForAgent, type Principal } from '../api/auth.js';
import type { AriClient, AriEvent } from '../asterisk/ari.js';
import { agentEndpoint, snoopLeg, supervisionBridge, supervisorLeg } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { endpointDialString } from '../calls/dial-string.js';
import { isMasked, type PrivacyPolicy, visibleNumber } from '../calls/privacy.js';
import type { CallService } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';
import type { SupervisorSeats } from './seats.js';

export type SupervisionMode = 'monitor' | 'whisper' | 'barge';

interface SupervisionState {
  supervisor: string;
  phone: string;
  leg: string;
  mode: SupervisionMode;
  bridge: string;
  snoop?: string;
  joined: boolean;
  count: number;
  takenOver?: boolean;
}

export interface SupervisionDeps {
  ari: AriClient;
  calls: CallService;
  acd: AcdService;
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** Which calls are masked (the virtual pool, the queues' callerNumber policy). */
  privacy?: PrivacyPolicy;
  /** Supervisors' own browser seats; without them a phone must be given. */
  seats?: SupervisorSeats;
}

/** One live call as the list shows it. */
export interface LiveCallView {
  callId: string;
  did: string;
  caller: string;
  callerMasked: boolean;
  startedAt: string;
  queue: string | null;
  phase: string;
  agentId: string | null;
  team: string | null;
  supervised: boolean;
  controller: string | null;
}

export class SupervisionService {
  constructor(private readonly deps: SupervisionDeps) {}

  /**
   * The live calls of the whole platform a principal may list (a supervisor: their teams'
   * agents' calls), oldest first, each number as the principal may see it.
   */
  async liveCalls(p: Principal, teamOf: (agentId: string) => string | undefined): Promise<LiveCallView[]> {
    const reveal = p.revealNumbers === true;
    const hidden = new Set<string>();
    const list = (await this.deps.calls.store.allLive())
      .map((state): LiveCallView => {
        const acd = state.flow.acd;
        const masked = isMasked(state, this.deps.privacy);
        if (masked) hidden.add(state.callId);
        return {
          callId: state.callId,
          did: state.did,
          caller: visibleNumber(state.caller, masked, reveal),
          callerMasked: masked && !reveal,
          startedAt: state.startedAt,
          queue: acd?.queue ?? null,
          phase: acd?.phase ?? 'ivr',
          agentId: acd?.agentId ?? null,
          team: acd?.agentId ? (teamOf(acd.agentId) ?? null) : null,
          supervised: Boolean(state.flow.supervision),
          controller: state.owner ?? null,
        };
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const visible =
      p.role === 'supervisor'
        ? list.filter((c) => c.agentId && mayActForAgent(p, c.agentId, c.team ?? undefined))
        : list;
    if (reveal)
      for (const c of visible) if (hidden.has(c.callId)) await this.auditReveal(p.name, c.callId, 'GET /api/calls');
    return visible;
  }

  /** A masked number was shown to someone allowed to see it: who, which call, where. */
  async auditReveal(who: string, callId: string, surface: string): Promise<void> {
    await appendToStream(this.deps.redis, `${this.deps.prefix}:audit`, {
      who,
      action: 'reveal-number',
      callId,
      surface,
      at: new Date().toISOString(),
    });
    this.deps.logger.warn({ who, callId, surface }, 'masked number revealed');
  }

  private state(call: Call): SupervisionState | undefined {
    return call.flow.supervision as SupervisionState | undefined;
  }

  private async save(call: Call, patch: Partial<SupervisionState> | undefined): Promise<void> {
    await call.updateFlow({ supervision: patch === undefined ? undefined : { ...this.state(call), ...patch } });
  }

  private async audit(
    who: string,
    action: string,
    call: Call,
    details: Record<string, string | undefined>,
  ): Promise<void> {
    const at = new Date().toISOString();
    const record = Object.fromEntries(
      Object.entries({ who, action, callId: call.id, at, ...details }).map(([k, v]) => [k, v ?? '']),
    );
    await appendToStream(this.deps.redis, `${this.deps.prefix}:audit`, record);
    await call.note('supervision', { supervisor: who, action, ...details }, 'supervision', 'warn');
  }

  /** Whether a supervisor without a phone given can be rung on a browser seat of their own. */
  get hasSeats(): boolean {
    return this.deps.seats !== undefined;
  }

  /**
   * Rings the supervisor's phone (a roster id; undefined: their own browser seat); they join
   * in `mode` when they answer.
   */
  start(
    callId: string,
    supervisor: string,
    phone: string | undefined,
    mode: SupervisionMode,
  ): Promise<Record<string, unknown>> {
    return this.deps.calls.within(callId, async (call) => {
      const seats = this.deps.seats;
      if (phone === undefined && !seats)
        throw new RexianError('REXIAN_BAD_REQUEST', { field: 'phone' }, 'no phone: give "phone"');
      const ownSeat = phone === undefined ? (await seats!.seat(supervisor)).endpoint : undefined;
      const endpoint = endpointDialString(ownSeat ?? agentEndpoint(phone!));
      const talk = this.deps.acd.talkOf(call);
      if (!talk) throw new RexianError('REXIAN_AGENT_STATE', { callId }, `call ${callId} is not connected to an agent`);
      if (this.state(call))
        throw new RexianError(
          'REXIAN_CALL_STATE',
          { callId },
          `call ${callId} is already supervised by ${this.state(call)!.supervisor}`,
        );
      const leg = supervisorLeg(callId);
      await this.save(call, {
        supervisor,
        phone: phone ?? ownSeat!,
        leg,
        mode,
        bridge: supervisionBridge(callId),
        joined: false,
        count: 1,
      });
      await this.deps.calls.attachLeg(call, leg, { role: 'supervisor', party: supervisor });
      await this.audit(supervisor, 'start', call, { mode, agentId: talk.agentId, phone: phone ?? ownSeat });
      this.deps.logger.info({ callId, channelId: leg, supervisor, endpoint, mode }, "ringing the supervisor's phone");
      await this.deps.ari.originate({
        channelId: leg,
        endpoint,
        callerId: `"监听" <${call.state.did}>`,
        timeout: 30,
        appArgs: `agent-leg,${callId}`,
        // The browser seat answers by itself: its owner just asked for this call.
        ...(ownSeat ? { variables: { 'PJSIP_HEADER(add,Call-Info)': '<sip:rexian>;answer-after=0' } } : {}),
      });
      return { callId, supervisorChannel: leg, mode, phone: phone ?? ownSeat };
    });
  }

  setMode(callId: string, supervisor: string, mode: SupervisionMode): Promise<Record<string, unknown>> {
    return this.deps.calls.within(callId, async (call) => {
      const s = this.mine(call, supervisor);
      await this.audit(supervisor, 'mode', call, { from: s.mode, mode, agentId: this.deps.acd.talkOf(call)?.agentId });
      await this.save(call, { mode });
      if (s.joined) await this.place(call, { ...s, mode });
      return { callId, mode };
    });
  }

  /** The supervisor takes the call: into the talk bridge, then the agent's leg is dropped. */
  takeOver(callId: string, supervisor: string): Promise<Record<string, unknown>> {
    return this.deps.calls.within(callId, async (call) => {
      const s = this.mine(call, supervisor);
      if (!s.joined) throw new RexianError('REXIAN_CALL_STATE', { callId }, 'the supervisor has not answered yet');
      const talk = this.deps.acd.talkOf(call)!;
      await this.audit(supervisor, 'take-over', call, { agentId: talk.agentId });
      await this.place(call, { ...s, mode: 'barge' });
      await this.save(call, { mode: 'barge', takenOver: true });
      await this.deps.acd.releaseAgent(call);
      return { callId, takenOverFrom: talk.agentId };
    });
  }

  stop(callId: string, supervisor: string): Promise<Record<string, unknown>> {
    return this.deps.calls.within(callId, async (call) => {
      const s = this.mine(call, supervisor);
      await this.audit(supervisor, 'stop', call, { mode: s.mode });
      await this.teardown(call, s);
      return { callId, stopped: true };
    });
  }

  private mine(call: Call, supervisor: string): SupervisionState {
    const s = this.state(call);
    if (!s) throw new RexianError('REXIAN_NOT_FOUND', { callId: call.id }, `call ${call.id} is not being supervised`);
    if (s.supervisor !== supervisor)
      throw new RexianError(
        'REXIAN_FORBIDDEN',
        { callId: call.id },
        `call ${call.id} is supervised by ${s.supervisor}`,
      );
    return s;
  }

  /** Puts the supervisor's channel where its mode wants it. */
  private async place(call: Call, s: SupervisionState): Promise<void> {
    const talk = this.deps.acd.talkOf(call);
    if (!talk) return;
    const ari = call.ari;
    if (s.snoop) {
      await ari.hangupChannel(s.snoop);
      await this.save(call, { snoop: undefined });
    }
    if (s.mode === 'barge') {
      await ari.bridges.removeIfPresent(s.bridge, s.leg);
      await ari.bridges.add(talk.bridgeId, s.leg);
      return;
    }
    await ari.bridges.removeIfPresent(talk.bridgeId, s.leg);
    await ari.ensureBridge(s.bridge, 'mixing', `supervise ${call.id}`);
    const count = s.count + 1;
    const snoop = snoopLeg(call.id, count);
    await this.save(call, { snoop, count });
    await this.deps.calls.attachLeg(call, snoop);
    // spy both: the supervisor hears citizen and agent. whisper out: what the supervisor
    // says is mixed into what the agent hears, and only that.
    await ari.channels.snoop(talk.agentLeg, snoop, {
      appArgs: `agent-leg,${call.id}`,
      spy: 'both',
      whisper: s.mode === 'whisper' ? 'out' : 'none',
    });
    await ari.bridges.add(s.bridge, s.leg);
  }

  private async teardown(call: Call, s: SupervisionState): Promise<void> {
    await this.save(call, undefined);
    if (s.snoop) {
      await this.deps.calls.detachLeg(call, s.snoop);
      await call.ari.hangupChannel(s.snoop);
    }
    await this.deps.calls.detachLeg(call, s.leg);
    await call.ari.hangupChannel(s.leg);
    await call.ari.bridges.destroyIfPresent(s.bridge);
  }

  /** ARI events of the supervisor's and the snoop's channels; true when handled. */
  async onEvent(call: Call, event: AriEvent): Promise<boolean> {
    const s = this.state(call);
    const channelId = event.channel?.id;
    if (!s || !channelId) return false;
    if (channelId === s.snoop) {
      if (event.type === 'StasisStart') await call.ari.bridges.add(s.bridge, s.snoop);
      return true;
    }
    if (channelId !== s.leg) return false;
    if (event.type === 'StasisStart' && !s.joined) {
      await this.save(call, { joined: true });
      await call.note(
        'supervisor-joined',
        { event: LogEvent.supervisorJoined, supervisor: s.supervisor, mode: s.mode },
        'supervisor joined',
      );
      await this.place(call, { ...s, joined: true });
    } else if (event.type === 'ChannelDestroyed' || event.type === 'StasisEnd') {
      await this.teardown(call, s);
      await call.note(
        'supervisor-left',
        { supervisor: s.supervisor, takenOver: s.takenOver ?? false },
        'supervisor left',
      );
      // After a take-over the supervisor was the citizen's last party.
      if (s.takenOver) await call.hangup();
    }
    return true;
  }

  async onEnd(call: Call): Promise<void> {
    const s = this.state(call);
    if (s) await this.teardown(call, s);
  }
}
