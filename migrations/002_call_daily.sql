-- Reports over months and years read this roll-up instead of every call: one row per
-- Shanghai day, line, queue and agent, with additive sums (and maxima). The writer adds to
-- it in the same statement that inserts the calls, so a replayed record counts once.
CREATE TABLE call_daily (
  day               date NOT NULL,
  line              text NOT NULL,
  queue             text NOT NULL,   -- '' when the call reached no queue
  agent             text NOT NULL,   -- '' when no agent took it
  inbound           integer NOT NULL,
  offered           integer NOT NULL,
  answered          integer NOT NULL,
  within10          integer NOT NULL,
  within15          integer NOT NULL,
  abandoned         integer NOT NULL,
  short_abandons    integer NOT NULL,
  wait_sum          bigint,
  talk_sum          bigint,
  talk_max          integer,
  outbound          integer NOT NULL,
  outbound_answered integer NOT NULL,
  outbound_talk_sum bigint,
  outbound_talk_max integer,
  surveyed          integer NOT NULL,
  satisfied         integer NOT NULL,
  handle_sum        bigint,
  PRIMARY KEY (day, line, queue, agent)
);

-- Calls written before this table existed.
INSERT INTO call_daily
SELECT (started_at AT TIME ZONE 'Asia/Shanghai')::date, line, coalesce(origin_queue, ''), coalesce(agent_id, ''),
  count(*) FILTER (WHERE direction = 'inbound'),
  count(*) FILTER (WHERE direction = 'inbound' AND queue IS NOT NULL),
  count(*) FILTER (WHERE direction = 'inbound' AND answered),
  count(*) FILTER (WHERE direction = 'inbound' AND answered AND wait_ms <= 10000),
  count(*) FILTER (WHERE direction = 'inbound' AND answered AND wait_ms <= 15000),
  count(*) FILTER (WHERE direction = 'inbound' AND abandoned),
  count(*) FILTER (WHERE direction = 'inbound' AND short_abandon),
  sum(wait_ms) FILTER (WHERE direction = 'inbound' AND answered),
  sum(talk_ms) FILTER (WHERE direction = 'inbound' AND answered),
  max(talk_ms) FILTER (WHERE direction = 'inbound' AND answered),
  count(*) FILTER (WHERE direction = 'outbound'),
  count(*) FILTER (WHERE direction = 'outbound' AND answered),
  sum(talk_ms) FILTER (WHERE direction = 'outbound' AND answered),
  max(talk_ms) FILTER (WHERE direction = 'outbound' AND answered),
  count(survey),
  count(*) FILTER (WHERE survey IN ('satisfied', 'basically-satisfied')),
  sum(coalesce(talk_ms, 0) + coalesce(hold_ms, 0)) FILTER (WHERE direction = 'inbound' AND answered)
FROM call_records GROUP BY 1, 2, 3, 4;
