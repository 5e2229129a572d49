// What server.ts knows of a domain: its lifecycle, nothing else. Each domain's module.ts builds
// its objects from the core (src/core.ts) and what earlier domains expose, registers its routes,
// and returns one of these; server.ts runs them in the order of its list.
//
// Two lifecycles, because controllers come in pairs (src/ha/ari-lease.ts): `start`/`stop` run in
// every controller (HTTP, the event feeds, people's sessions), `activate`/`deactivate` only while
// this controller holds its node's ARI lease (routing, the dialer, recording sweeps, the records
// writer: whatever drives Asterisk or must run once per node).

export interface Domain {
  readonly name: string;
  /** At process start, before HTTP listens; every controller, active or standby. */
  start?(): Promise<void> | void;
  /** This controller took the ARI lease: start what drives Asterisk. In list order. */
  activate?(): Promise<void> | void;
  /** The lease is lost: stop at once (another controller may hold it now). Nothing awaited. */
  deactivate?(): void;
  /** The process stops; the domain lets go of what it holds. In list order. */
  stop?(): Promise<void> | void;
  /**
   * SIGHUP: read the domain's files again. Throws (with file:line:col) when an edit is broken;
   * otherwise returns the change, which server.ts applies only once every domain's edit parsed,
   * so a broken file anywhere keeps every domain on its last good version.
   */
  prepareReload?(): () => Promise<void> | void;
}
