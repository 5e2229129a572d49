-- One row per call: what the hotline is judged by (answered, waits, talk, abandons,
-- transfers, survey), kept durably. Written from the Redis outbox, exactly once (call_id).
CREATE TABLE call_records (
  call_id          text PRIMARY KEY,
  direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  did              text NOT NULL,
  line             text NOT NULL,
  -- The caller as agents may see it (masked where policy or the caller asked).
  caller           text NOT NULL,
  caller_masked    boolean NOT NULL DEFAULT false,
  started_at       timestamptz NOT NULL,
  ended_at         timestamptz NOT NULL,
  end_reason       text NOT NULL,
  flow_id          text,
  flow_version     text,
  ivr_path         text[] NOT NULL DEFAULT '{}',
  digits           jsonb NOT NULL DEFAULT '{}',
  queue            text,
  origin_queue     text,
  entered_queue_at timestamptz,
  wait_ms          integer,
  answered         boolean NOT NULL DEFAULT false,
  answered_at      timestamptz,
  abandoned        boolean NOT NULL DEFAULT false,
  short_abandon    boolean NOT NULL DEFAULT false,
  agent_id         text,
  agents           text[] NOT NULL DEFAULT '{}',
  talk_ms          integer,
  hold_ms          integer,
  transfers        integer NOT NULL DEFAULT 0,
  window_id        text,
  emergency        text,
  survey           text,
  recordings       text[] NOT NULL DEFAULT '{}',
  masking_binding  text,
  hangup_side      text,
  written_at       timestamptz NOT NULL DEFAULT now()
);

-- Reports go by day (Asia/Shanghai) and queue or agent.
CREATE INDEX call_records_started ON call_records (started_at);
CREATE INDEX call_records_queue_started ON call_records (origin_queue, started_at);
CREATE INDEX call_records_agent_started ON call_records (agent_id, started_at) WHERE agent_id IS NOT NULL;
