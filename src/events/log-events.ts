// The log events: a stable `event` field on the log lines that tests wait on and that operators
// query (`jq 'select(.event == "acd.connected")'`, a Loki `| json | event="acd.connected"`).
// A log message is prose for a reader and stays free to change; an event name is a contract, so
// a reworded message breaks neither a test far away nor an operator's saved query. Names are
// `<domain>.<what happened>`; a value means one thing and is used by at least one log call
// (test/unit/log-events.test.ts checks both). Not the stream's events: those are ./catalogue.ts.
export const LogEvent = {
  // A call's own life (src/calls/).
  callEntered: 'call.entered',
  callEnded: 'call.ended',
  callPickedUp: 'call.picked-up',
  callClosedOut: 'call.closed-out',
  callTaskFailed: 'call.task-failed',
  callRecordKeptLater: 'call.record-kept-later',
  callsLostAsteriskRestarted: 'call.asterisk-restarted',
  callsRebuildAfterRedisLoss: 'call.redis-state-lost',
  callReconcileFailed: 'call.reconcile-failed',
  /** A prompt started on the call's channel (the IVR's prompts, and Call.play). */
  promptPlaying: 'call.prompt-playing',

  // Queues, offers, agents and what they do during a call (src/acd/).
  callQueued: 'acd.queued',
  queueRefused: 'acd.queue-refused',
  leftQueue: 'acd.left-queue',
  callAbandoned: 'acd.abandoned',
  queuePlaceKept: 'acd.queue-place-kept',
  callbackChosen: 'acd.callback-chosen',
  callOffered: 'acd.offered',
  agentNoAnswer: 'acd.no-answer',
  callConnectedToAgent: 'acd.connected',
  agentHungUp: 'acd.agent-hung-up',
  agentDroppedToSupervisor: 'acd.taken-over',
  agentLeftEmergency: 'acd.agent-left-emergency',
  agentInWrapUp: 'acd.wrap-up',
  wrapUpEnded: 'acd.wrap-up-ended',
  citizenHeld: 'acd.hold',
  citizenResumed: 'acd.resume',
  callTransferred: 'acd.transferred',
  blindTransferFailed: 'acd.transfer-failed',
  consultAnswered: 'acd.consult-answered',
  consultFailed: 'acd.consult-failed',
  agentLeftThreeWay: 'acd.agent-left-three-way',
  consultTookCitizen: 'acd.consult-took-citizen',
  emergencyJoined: 'acd.emergency-joined',
  queueCallbackRinging: 'acd.queue-callback-ringing',
  queueCallbackConnected: 'acd.queue-callback-connected',

  // IVR flows (src/ivr/).
  flowInService: 'ivr.flow-in-service',
  flowRejected: 'ivr.flow-rejected',
  flowStarted: 'ivr.flow-started',
  callbackFlowStarted: 'ivr.callback-flow-started',
  afterCallFlowStarted: 'ivr.after-call-flow-started',
  flowEnded: 'ivr.flow-ended',
  promptFinished: 'ivr.prompt-finished',
  promptStillPlaying: 'ivr.prompt-still-playing',
  httpLookup: 'ivr.http-lookup',
  httpLookupAnswered: 'ivr.http-lookup-answered',
  emergencyTransfer: 'ivr.emergency-transfer',
  voicemailRecorded: 'ivr.voicemail-recorded',
  voicemailSilent: 'ivr.voicemail-silent',

  // Virtual numbers (src/masking/).
  maskingConnected: 'masking.connected',
  maskingRefused: 'masking.refused',

  // Outbound callbacks (src/dialer/).
  callbackTaskCreated: 'dialer.task-created',
  callbackDialling: 'dialer.dialling',
  callbackAnswered: 'dialer.answered',
  callbackAnsweredEarlier: 'dialer.answered-after-restart',
  callbackNotReached: 'dialer.not-reached',
  dialerTickFailed: 'dialer.tick-failed',
  callbacksStreamRecreated: 'dialer.stream-recreated',

  // Call records (src/records/).
  recordsWaiting: 'records.outbox-waiting',
  outboxRecreated: 'records.outbox-recreated',
  recordsTakenOver: 'records.taken-over',
  recordRepaired: 'records.repaired',
  recordEndFromAsterisk: 'records.end-from-asterisk',

  // Recordings (src/recording/).
  recordingStarted: 'recording.started',
  recordingRemoved: 'recording.removed',

  // Supervision (src/supervision/).
  supervisorJoined: 'supervision.joined',

  // Service-level alerts (src/alerts/).
  alertRulesReloaded: 'alerts.rules-reloaded',
  alertRulesRejected: 'alerts.rules-rejected',

  // Controllers in pairs (src/ha/).
  leaseTaken: 'ha.lease-taken',
  leaseLost: 'ha.lease-lost',

  // The HTTP API (src/api/).
  requestForwarded: 'api.forwarded',
  unhandledError: 'api.unhandled-error',

  // Desk phones (src/desk-phone/).
  featureCodeApplied: 'desk-phone.code-applied',
  featureCodeRefused: 'desk-phone.code-refused',

  // The SIP edge's password table, kept by the controllers (src/edge/seat-client.ts).
  edgeSeatUpdated: 'edge.seat-updated',
  edgeSeatNotUpdated: 'edge.seat-not-updated',

  // The controller and its connections (src/main.ts, src/asterisk/, src/store/redis.ts).
  controllerListening: 'controller.listening',
  ariConnected: 'ari.connected',
  ariClosed: 'ari.closed',
  ariPingsUnanswered: 'ari.pings-unanswered',
  amiLost: 'ami.lost',
  redisConnected: 'redis.connected',
  redisReconnected: 'redis.reconnected',
} as const;

export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];
