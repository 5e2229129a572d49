// The words of the alerts domain that other parts name too: the event catalogue (and through
// it the pages), the rules file, the recent-window figures (GET /api/alerts/figures). Kept
// apart, with no imports, so the catalogue and the pages import no alerting code.

/** What a rule watches (README "Service-level alerts"; sip-config/alerts.yaml). */
export type AlertKind =
  | 'service-level'
  | 'longest-wait'
  | 'waiting-no-agent-ready'
  | 'agent-not-ready'
  | 'outbox-length'
  | 'outbox-growing'
  | 'ari-disconnected'
  | 'ami-disconnected';

export type AlertSeverity = 'warning' | 'critical';

/** An alert's words in both of the pages' languages (the rule's templates, filled in). */
export interface AlertMessage {
  'zh-CN': string;
  en: string;
}

/** An alert as it is kept while active (GET /api/alerts) and as alert.fired tells it. */
export interface ActiveAlert {
  alertId: string;
  rule: string;
  kind: AlertKind;
  severity: AlertSeverity;
  queue?: string;
  /** The agent an agent-not-ready alert is about (not `agentId`: alerts are not sent to agents). */
  subjectAgent?: string;
  /** The controller a connection alert (ARI, AMI) is about. */
  controller?: string;
  value: number;
  threshold: number;
  message: AlertMessage;
  firedAt: string;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
}

/** An alert after its condition ended (GET /api/alerts `recent`). */
export interface ClearedAlert extends ActiveAlert {
  clearedAt: string;
}

/** A recent window's service level at one threshold (the same formula as the day's figures). */
export interface WindowServiceLevel {
  seconds: number;
  answeredWithin: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  /** answered within ÷ (answered + abandoned − short abandons); null with no such call. */
  percent: number | null;
  /** answered + abandoned − short abandons: the calls the percent is of. */
  calls: number;
}

/** GET /api/alerts/figures: service level over the last `minutes`, per queue and overall. */
export interface RecentFigures {
  minutes: number;
  /** How much of the window the figures cover (less than minutes × 60 just after a start). */
  coveredSeconds: number;
  queues: Array<{ queue: string; name: string; serviceLevel: WindowServiceLevel[] }>;
  overall: { serviceLevel: WindowServiceLevel[] };
}
