-- Phase 1: the durable, idempotent observation log and the inputs we could not accept.

CREATE TABLE observations (
  id            bigserial PRIMARY KEY,
  source        text        NOT NULL,            -- duxsoup | lead | hubspot | csv | manual
  kind          text        NOT NULL,            -- visit | scan | rccommand | action | message | any other type
  event         text        NOT NULL,            -- create | update | received | ...
  dux_user_id   text,
  event_time    timestamptz,                     -- VisitTime / ScanTime, else the envelope time
  received_at   timestamptz NOT NULL DEFAULT now(),
  event_key     text        NOT NULL,
  request_id    text,
  payload       jsonb       NOT NULL,
  raw_body      bytea,                           -- exact bytes, kept only when payload had to be repaired
  status        text        NOT NULL,
  status_reason text,
  person_id     uuid,
  processed_at  timestamptz,
  CONSTRAINT observations_event_key_unique UNIQUE (event_key),
  CONSTRAINT observations_status_check CHECK (status IN ('pending', 'processed', 'skipped', 'dead', 'ignored'))
);

CREATE INDEX observations_unfinished_idx ON observations (id) WHERE status IN ('pending', 'dead');
CREATE INDEX observations_person_idx ON observations (person_id, event_time) WHERE person_id IS NOT NULL;
CREATE INDEX observations_received_idx ON observations (received_at);
CREATE INDEX observations_kind_received_idx ON observations (kind, received_at);

CREATE TABLE rejected_inputs (
  id           bigserial PRIMARY KEY,
  endpoint     text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  request_id   text,
  content_type text,
  body         bytea,
  body_bytes   integer     NOT NULL,
  error_code   text        NOT NULL,
  reason       text        NOT NULL
);

CREATE INDEX rejected_inputs_received_idx ON rejected_inputs (received_at);
