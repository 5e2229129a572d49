// Agents without a screen: feature codes dialled from a SIP desk phone or headset (sign in, sign
// out, ready, not ready with a reason, end wrap-up). The agents' dialplan context [from-agents]
// sends `*…` to Stasis(<app>,feature,<digits>); this domain takes those channels straight from
// the ARI client (the calls domain ignores a StasisStart whose first argument is not inbound or
// outbound), answers, applies the change through the agent desk (the same compare-and-set as the
// API), plays a confirmation or an error tone and hangs up.
// Authorization: the phone's endpoint is the agent. Only a channel that Asterisk placed in the
// agents' context, on an endpoint `agent-<id>` of the roster, may change that agent; the endpoint
// is read from the channel's name as Asterisk made it, never from a caller id the phone sent.
import type { Logger } from 'pino';

import type { AgentView } from '../acd/agents.js';
import type { AriChannel, AriClient, AriEvent } from '../asterisk/ari.js';
import { isInApp } from '../asterisk/ari.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import {
  agentOfEndpoint,
  checkCodes,
  type DeskPhoneAction,
  type DeskPhoneCodes,
  endpointOfChannel,
  parseFeatureCode,
  reasonDigits,
} from './codes.js';

/** The dialplan context of agents' phones (sip-config/pjsip.conf, src/acd/provisioning.ts). */
const AGENT_CONTEXT = 'from-agents';

/**
 * What the phone hears: China's tones (indications.conf [cn]), so no sound file is needed. The
 * confirmation is the 950 Hz "record" beep, once; the error is the 450 Hz busy cadence, three
 * times. Indication tones repeat until stopped: hanging up after `ms` ends them.
 */
const TONES = {
  confirm: { media: 'tone:record;tonezone=cn', ms: 700 },
  error: { media: 'tone:busy;tonezone=cn', ms: 2100 },
} as const;

/** Media may start a moment after the answer: the tone waits so its start is heard. */
const AFTER_ANSWER_MS = 150;

export interface DeskPhoneConfig {
  codes: DeskPhoneCodes;
  /** Digits after the not-ready code → roster reason code; absent: the roster's reasons numbered from 1. */
  reasonDigits?: Record<string, string>;
}

/** What the desk phone does to an agent's state: the agent desk (src/acd/agents.ts) does it. */
export interface AgentStateActions {
  login(agentId: string, ready?: boolean): Promise<AgentView>;
  logout(agentId: string): Promise<AgentView>;
  ready(agentId: string): Promise<AgentView>;
  notReady(agentId: string, reason: string): Promise<AgentView>;
  endWrapUp(agentId: string): Promise<AgentView>;
}

export interface DeskPhoneDeps {
  ari: AriClient;
  agents: AgentStateActions;
  /** The roster as it is now (it reloads): who is an agent, and the reasons in their order. */
  roster: () => { agents: Map<string, unknown>; notReadyReasons: Record<string, string> };
  config: DeskPhoneConfig;
  /** The ARI app: channels of ours found at a (re)connect are hung up (their code cannot be resumed). */
  app: string;
  logger: Logger;
}

/** Our playback id for a feature channel's tone (a retried play cannot play twice). */
function tonePlayback(channelId: string): string {
  return `${channelId}-feature-tone`;
}

export class DeskPhoneFeatures {
  private readonly log: Logger;
  /** Channels being served now (a reconnect's clean-up leaves them alone). */
  private readonly serving = new Set<string>();
  private readonly onEvent = (event: AriEvent): void => {
    const args = (event.args as string[] | undefined) ?? [];
    if (event.type === 'StasisStart' && event.channel && args[0] === 'feature') {
      const channelId = event.channel.id;
      this.serving.add(channelId);
      void this.serve(event.channel, args[1] ?? '').finally(() => this.serving.delete(channelId));
    }
  };
  private readonly onConnected = (): void => void this.dropLeftovers();

  constructor(private readonly deps: DeskPhoneDeps) {
    checkCodes(deps.config.codes);
    this.log = deps.logger.child({ domain: 'desk-phone' });
  }

  /** Listens to the ARI client; call before it connects. */
  start(): void {
    this.deps.ari.on('event', this.onEvent);
    this.deps.ari.on('connected', this.onConnected);
  }

  stop(): void {
    this.deps.ari.off('event', this.onEvent);
    this.deps.ari.off('connected', this.onConnected);
  }

  /** Answers one feature-code channel, applies the code if the phone may, tells it how it went, hangs up. */
  private async serve(channel: AriChannel, dialled: string): Promise<void> {
    const endpoint = endpointOfChannel(channel.name);
    const agentId = endpoint && channel.dialplan.context === AGENT_CONTEXT ? agentOfEndpoint(endpoint) : undefined;
    const log = this.log.child({ channelId: channel.id, ...(agentId ? { agentId } : {}), code: dialled });
    try {
      await this.deps.ari.channels.answer(channel.id);
    } catch (err) {
      log.info({ err: (err as Error).message }, 'feature code: the phone hung up before it was answered');
      return;
    }
    if (!agentId || !this.deps.roster().agents.has(agentId)) {
      log.warn(
        { event: LogEvent.featureCodeRefused, context: channel.dialplan.context, endpoint: endpoint ?? null },
        "feature code refused: the channel is not a roster agent's phone",
      );
      return this.finish(channel.id, 'error', log);
    }
    const roster = this.deps.roster();
    const parsed = parseFeatureCode(
      dialled,
      this.deps.config.codes,
      reasonDigits(this.deps.config.reasonDigits, Object.keys(roster.notReadyReasons)),
    );
    if (!parsed.ok) {
      log.info({ why: parsed.why }, 'feature code refused: not a code of this hotline');
      return this.finish(channel.id, 'error', log);
    }
    const action = parsed.action;
    try {
      const view = await this.apply(agentId, action);
      log.info(
        {
          event: LogEvent.featureCodeApplied,
          action: action.kind,
          state: view.state,
          ...(action.kind === 'not-ready' ? { reason: action.reason } : {}),
        },
        'feature code applied',
      );
      return this.finish(channel.id, 'confirm', log);
    } catch (err) {
      const code = err instanceof RexianError ? err.code : undefined;
      log[code ? 'info' : 'warn'](
        { action: action.kind, error: code ?? null, err: (err as Error).message },
        'feature code refused: the change is not allowed now',
      );
      return this.finish(channel.id, 'error', log);
    }
  }

  private apply(agentId: string, action: DeskPhoneAction): Promise<AgentView> {
    const agents = this.deps.agents;
    switch (action.kind) {
      case 'sign-in':
        return agents.login(agentId, false); // signed in not ready: the agent says ready when seated
      case 'sign-out':
        return agents.logout(agentId);
      case 'ready':
        return agents.ready(agentId);
      case 'not-ready':
        return agents.notReady(agentId, action.reason);
      case 'end-wrap-up':
        return agents.endWrapUp(agentId);
    }
  }

  private async finish(channelId: string, tone: keyof typeof TONES, log: Logger): Promise<void> {
    const { media, ms } = TONES[tone];
    try {
      await sleep(AFTER_ANSWER_MS);
      await this.deps.ari.channels.play(channelId, tonePlayback(channelId), media);
      await sleep(ms);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'feature code: no tone (the phone hung up?)');
    }
    await this.deps.ari.hangupChannel(channelId);
  }

  /** Feature channels a controller left in the app (it stopped mid-code): hung up, the phone user dials again. */
  private async dropLeftovers(): Promise<void> {
    try {
      for (const channel of await this.deps.ari.channels()) {
        if (!isInApp(channel, this.deps.app)) continue;
        if ((channel.dialplan.app_data ?? '').split(',')[1] !== 'feature') continue;
        // Served now, or its StasisStart is on its way (it entered as we connected).
        if (this.serving.has(channel.id) || Date.now() - Date.parse(channel.creationtime) < 2_000) continue;
        this.log.info({ channelId: channel.id }, 'feature code channel left from before: hung up');
        await this.deps.ari.hangupChannel(channel.id);
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not look for feature code channels left from before');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
