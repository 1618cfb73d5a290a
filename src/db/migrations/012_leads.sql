-- Leads (issue 5): POST /api/lead with the leadCRM contract, raw first; CRM status, assignee and audit.

-- Every authenticated request to POST /api/lead, stored before its body is parsed: malformed, empty,
-- form-encoded and non-object bodies too (they end `rejected` with a reason). A request still `received`
-- after a while was never normalised (crash, outage, failure) and is re-driven by the lead sweeper.
CREATE TABLE lead_requests (
  id              bigserial   PRIMARY KEY,
  received_at     timestamptz NOT NULL DEFAULT now(),
  request_id      text        NOT NULL,  -- the service's request id (the sender's X-Request-Id when sane)
  x_request_id    text,                  -- X-Request-Id exactly as sent
  idempotency_key text,                  -- Idempotency-Key exactly as sent
  content_type    text,
  user_agent      text,
  forwarded_for   text,
  remote_addr     text,
  body            bytea,                 -- the exact bytes; NULL only when the body was not read (too large)
  body_bytes      integer     NOT NULL,
  body_sha256     text,                  -- of the canonical JSON (sorted keys) once parsed as an object
  state           text        NOT NULL DEFAULT 'received',
  reason          text,                  -- why rejected (empty_body, malformed_json, ...) or 'conflict'
  detail          text,                  -- parser message, or the last normalisation error
  lead_id         uuid,
  processed_at    timestamptz,
  CONSTRAINT lead_requests_state_check
    CHECK (state IN ('received', 'accepted', 'duplicate', 'conflict', 'rejected'))
);

CREATE INDEX lead_requests_unprocessed_idx ON lead_requests (id) WHERE state = 'received';
CREATE INDEX lead_requests_lead_idx ON lead_requests (lead_id, id) WHERE lead_id IS NOT NULL;
CREATE INDEX lead_requests_received_at_idx ON lead_requests (received_at);

-- One row per lead. Written in one statement with its observation (source 'lead') and the request's state.
CREATE TABLE leads (
  id              uuid        PRIMARY KEY,
  request_id      bigint      NOT NULL UNIQUE REFERENCES lead_requests (id),
  observation_id  bigint      NOT NULL UNIQUE REFERENCES observations (id),
  created_at      timestamptz NOT NULL,  -- when the request arrived (received_at of request_id)
  normalised_at   timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- 'key:' || sha256(Idempotency-Key), or 'auto:' || sha256(canonical body) || ':' || window bucket, or
  -- 'request:' || request id when the automatic window is off. Idempotency rests on this constraint alone.
  dedup_key       text        NOT NULL,
  idempotency_key text,
  x_request_id    text,
  body_sha256     text        NOT NULL,
  click_id        text,
  country         text,
  creo            text,
  description     text,
  domain          text,
  email           text,
  first_name      text,
  last_name       text,
  ip              text,
  lang            text,
  marker          text,
  offer           text,
  phone           text,
  sourcetype      text,
  payload         jsonb       NOT NULL,  -- the JSON object as sent, unknown keys included
  status          text        NOT NULL DEFAULT 'new',
  assigned_to     text,
  CONSTRAINT leads_dedup_key_unique UNIQUE (dedup_key),
  CONSTRAINT leads_status_check CHECK (status IN ('new', 'contacted', 'qualified', 'won', 'lost', 'spam'))
);

ALTER TABLE lead_requests
  ADD CONSTRAINT lead_requests_lead_fk FOREIGN KEY (lead_id) REFERENCES leads (id);

CREATE INDEX leads_created_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_status_idx ON leads (status, created_at DESC);
CREATE INDEX leads_email_idx ON leads (lower(email));
CREATE INDEX leads_phone_idx ON leads (phone) WHERE phone IS NOT NULL;
CREATE INDEX leads_assigned_idx ON leads (assigned_to, created_at DESC) WHERE assigned_to IS NOT NULL;

-- Who changed a lead's status or assignee, from what to what, and when.
CREATE TABLE lead_history (
  id          bigserial   PRIMARY KEY,
  lead_id     uuid        NOT NULL REFERENCES leads (id),
  changed_at  timestamptz NOT NULL DEFAULT now(),
  actor       text        NOT NULL,      -- X-Actor when given, else 'key:' || sha256(API key) prefix
  api_key     text,                      -- sha256 prefix of the API key used, whatever X-Actor said
  request_id  text,
  field       text        NOT NULL CHECK (field IN ('status', 'assignedTo')),
  old_value   text,
  new_value   text
);

CREATE INDEX lead_history_lead_idx ON lead_history (lead_id, id);
