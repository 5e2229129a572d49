// Two tabs of the same agent: the newest tab takes the browser phone. Only one tab may be
// registered as the agent's phone (two would both ring, and Asterisk keeps one contact), so
// the tabs of one agent in one browser agree over a BroadcastChannel named for the agent:
// - a tab that starts (or whose "take the phone back" button is pressed) sends a claim, and
//   holds the phone;
// - a tab that holds the phone and hears a newer claim yields: it stops its phone
//   (unregisters) and says "phone in use in another tab", with a button to take it back;
// - a tab that holds the phone and closes says so (release); a tab that yielded then takes the
//   phone again by itself, so closing the phone's tab never leaves the agent without one.
// Claims are ordered by (time, tab id), so two tabs that start at the same instant still end
// with exactly one holder. Every tab stays a full desk: state and call controls are the
// server's, only the browser phone is per tab. A browser without BroadcastChannel just holds.
export type TabRole = 'holder' | 'yielded';

interface Claim {
  type: 'claim';
  tab: string;
  at: number;
}
interface Release {
  type: 'release';
  tab: string;
}
type Message = Claim | Release;

export interface TabClaimEvents {
  /** This tab now holds the phone: start it. */
  take(): void;
  /** Another tab took the phone: stop this tab's. */
  yield(): void;
}

function newer(a: Claim, b: Claim): boolean {
  return a.at > b.at || (a.at === b.at && a.tab > b.tab);
}

export class TabClaim {
  readonly tab = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  private channel: BroadcastChannel | undefined;
  private mine: Claim | undefined;
  private role_: TabRole = 'yielded';
  private readonly onPageHide = (): void => this.release();

  constructor(
    agentId: string,
    private readonly on: TabClaimEvents,
  ) {
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(`rexian.phone.${agentId}`);
      this.channel.onmessage = (e: MessageEvent<Message>) => this.heard(e.data);
    }
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.onPageHide);
  }

  get role(): TabRole {
    return this.role_;
  }

  /** Takes the phone for this tab (at start, or the agent's "take it back"). */
  claim(): void {
    this.mine = { type: 'claim', tab: this.tab, at: Date.now() };
    this.channel?.postMessage(this.mine);
    if (this.role_ !== 'holder') {
      this.role_ = 'holder';
      this.on.take();
    }
  }

  private heard(m: Message): void {
    if (m.type === 'claim') {
      if (this.role_ === 'holder' && this.mine && newer(m, this.mine)) {
        this.role_ = 'yielded';
        this.on.yield();
      } else if (this.role_ === 'holder' && this.mine) {
        // An older claim arrived late (both started together): say ours again so it yields.
        this.channel?.postMessage(this.mine);
      }
    } else if (m.type === 'release' && this.role_ === 'yielded' && this.mine) {
      this.claim();
    }
  }

  /** The tab is going away: let another tab of the agent take the phone. */
  release(): void {
    if (this.role_ === 'holder') this.channel?.postMessage({ type: 'release', tab: this.tab } satisfies Release);
    this.role_ = 'yielded';
  }

  close(): void {
    this.release();
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.onPageHide);
    this.channel?.close();
    this.channel = undefined;
  }
}
