-- A call's legs (each agent, consulted party, window, emergency line, supervisor or masked
-- far party it rang: when, whether and when it answered, when and why it ended) and its
-- events in order (queued, offered, answered, hold, transfer, supervision …), kept with
-- the call's one record. Read per call (quality inspection, disputes), never aggregated.
ALTER TABLE call_records
  ADD COLUMN legs   jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN events jsonb NOT NULL DEFAULT '[]';
