// The one path a call's ARI events take through the domains, in a fixed, named order, and
// the one way a domain hands a call back to its flow. CallService (serial per call) hands
// every event of a call's channels here; the first domain that consumes an event stops it.
//
// The order, and why (it is the order the IVR runner used when it routed them itself):
//   masking      the far leg of a call to a virtual number, and
//   supervision  the supervisor's and the snoop's channels: each knows its own channels by id
//                and consumes all their events. They come before the ACD, which consumes
//                nearly every event of a call that is queued or with an agent (a supervisor's
//                StasisStart would be swallowed). Their channels never overlap.
//   divert       the "this number is not for you" prompt of a refused virtual-number call: when
//                it ends, the caller goes on to the 12345 flow.
//   acd          a queued or connected call: its agent legs, consultations and transfers, keys
//                pressed while waiting (not menu input), the queue's own prompts.
//   ivr          the flow itself: prompts ending, keys, recordings. Last, so it sees only what
//                no domain with legs of its own, or with the call in a queue, has claimed.
// A domain that does not know the event returns false and the next one is asked.
//
// A call's end goes to every domain in the same order: each releases what it holds (legs,
// bridges, an agent's reservation). A failing one is logged with its name and the next still
// runs; the calls domain keeps the record whatever they did.
import type { AriEvent } from '../asterisk/ari.js';
import type { Call } from './call.js';

/** The domains a call's events go through, in this order (see above). */
export const CALL_DOMAIN_ORDER = ['masking', 'supervision', 'divert', 'acd', 'ivr'] as const;

export type CallDomainName = (typeof CALL_DOMAIN_ORDER)[number];

/** What a domain does with a call's events and its end. */
export interface CallEventHandler {
  /** An ARI event of one of the call's channels; true when consumed (later domains do not see it). */
  onEvent(call: Call, event: AriEvent): Promise<boolean>;
  /** The call is over: release what the domain holds for it. */
  onEnd?(call: Call): Promise<void>;
}

export interface CallDomain extends CallEventHandler {
  readonly name: CallDomainName;
}

/** How a caller left a queue without an agent. */
export type QueueExitResult = 'timeout' | 'noAgents';

/**
 * A domain hands a call back to the flow that brought it there (implemented by the IVR
 * runner): the ACD, when a caller leaves a queue unserved or their agent hangs up; masking,
 * when a caller dialled a virtual number that is not theirs.
 */
export interface CallHandoffs {
  /** The caller left the queue without an agent: the flow goes on from its queue node. */
  queueExit(call: Call, result: QueueExitResult): Promise<void>;
  /** The agent hung up: the after-call flow (a survey) starts; false when it cannot. */
  agentLeft(call: Call, flowId: string): Promise<boolean>;
  /**
   * A call to a virtual number that is not the caller's (masking): the caller hears why
   * (`text`), then goes on to the 12345 flow.
   */
  toHotline(call: Call, prompt: { text: string }): Promise<void>;
}

export class CallEventPath {
  /** The domains in the order they see a call's events. */
  readonly domains: readonly CallDomain[];

  constructor(
    domains: Record<CallDomainName, CallEventHandler>,
    readonly handoffs: CallHandoffs,
  ) {
    this.domains = CALL_DOMAIN_ORDER.map((name) => named(name, domains[name]));
  }

  /** Asks each domain in turn; the first that consumes the event stops it. */
  async onEvent(call: Call, event: AriEvent): Promise<void> {
    call.log.trace({ ariEvent: event.type }, 'ARI event');
    for (const domain of this.domains) if (await domain.onEvent(call, event)) return;
  }

  /** Every domain releases what it holds, in order; one that fails does not stop the next. */
  async onEnd(call: Call): Promise<void> {
    for (const domain of this.domains) {
      try {
        await domain.onEnd?.(call);
      } catch (err) {
        call.log.error(
          { err, domain: domain.name },
          "a domain's clean-up at the end of the call failed; the others go on and the record is kept",
        );
      }
    }
  }
}

/** A handler under its name in the path (its methods keep their own `this`). */
function named(name: CallDomainName, handler: CallEventHandler): CallDomain {
  return {
    name,
    onEvent: (call, event) => handler.onEvent(call, event),
    onEnd: handler.onEnd ? (call) => handler.onEnd!(call) : undefined,
  };
}
