-- Who served a call: the controller (its flow and ACD), or the dialplan fallback while no
-- controller was connected (an apology and the native app_queue rexian-fallback). Those
-- calls are read back from what Asterisk kept when a controller returns, so the reports
-- count every call that reached the hotline.
ALTER TABLE call_records
  ADD COLUMN served_by text NOT NULL DEFAULT 'controller' CHECK (served_by IN ('controller', 'fallback'));
CREATE INDEX call_records_fallback_started ON call_records (started_at) WHERE served_by = 'fallback';
