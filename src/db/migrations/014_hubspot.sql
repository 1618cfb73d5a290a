-- HubSpot CRM mirror (issue 6): contacts, companies, deals and contact associations, pulled incrementally with a
-- checkpoint per job; every run recorded; what the push wrote back to HubSpot remembered (no sync loop).

-- One table per object. created_at / updated_at / archived_at are HubSpot's times (updated_at is the object's
-- modified-date property: lastmodifieddate for contacts, hs_lastmodifieddate for companies and deals); the chosen
-- properties are columns (trimmed, empty -> NULL), `raw` is the record exactly as HubSpot sent it.
CREATE TABLE hubspot_contacts (
  hubspot_id      bigint      PRIMARY KEY,
  archived        boolean     NOT NULL DEFAULT false,
  url             text,
  created_at      timestamptz,
  updated_at      timestamptz,
  archived_at     timestamptz,
  email           text,
  firstname       text,
  lastname        text,
  phone           text,
  jobtitle        text,
  company         text,
  city            text,
  state           text,
  country         text,
  linkedin_url    text,
  lifecyclestage  text,
  lead_status     text,
  owner_id        text,
  raw             jsonb       NOT NULL,
  first_synced_at timestamptz NOT NULL DEFAULT now(),
  synced_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX hubspot_contacts_email_idx ON hubspot_contacts (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX hubspot_contacts_updated_idx ON hubspot_contacts (updated_at DESC, hubspot_id DESC);
CREATE INDEX hubspot_contacts_lifecycle_idx ON hubspot_contacts (lifecyclestage) WHERE lifecyclestage IS NOT NULL;

CREATE TABLE hubspot_companies (
  hubspot_id      bigint      PRIMARY KEY,
  archived        boolean     NOT NULL DEFAULT false,
  url             text,
  created_at      timestamptz,
  updated_at      timestamptz,
  archived_at     timestamptz,
  name            text,
  domain          text,
  website         text,
  phone           text,
  city            text,
  state           text,
  country         text,
  industry        text,
  employees       integer,
  linkedin_url    text,
  owner_id        text,
  raw             jsonb       NOT NULL,
  first_synced_at timestamptz NOT NULL DEFAULT now(),
  synced_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX hubspot_companies_domain_idx ON hubspot_companies (domain) WHERE domain IS NOT NULL;
CREATE INDEX hubspot_companies_name_idx ON hubspot_companies (lower(name)) WHERE name IS NOT NULL;
CREATE INDEX hubspot_companies_updated_idx ON hubspot_companies (updated_at DESC, hubspot_id DESC);

CREATE TABLE hubspot_deals (
  hubspot_id      bigint      PRIMARY KEY,
  archived        boolean     NOT NULL DEFAULT false,
  url             text,
  created_at      timestamptz,
  updated_at      timestamptz,
  archived_at     timestamptz,
  name            text,
  stage           text,
  pipeline        text,
  amount          numeric,
  close_date      timestamptz,
  owner_id        text,
  raw             jsonb       NOT NULL,
  first_synced_at timestamptz NOT NULL DEFAULT now(),
  synced_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX hubspot_deals_stage_idx ON hubspot_deals (stage, updated_at DESC);
CREATE INDEX hubspot_deals_updated_idx ON hubspot_deals (updated_at DESC, hubspot_id DESC);

-- Every association type and label HubSpot reports for a pair (a contact and its company can be linked both
-- unlabelled (279) and "Primary" (1)). The association sync replaces a contact's set as a whole, so links
-- removed in HubSpot disappear here. No foreign keys: a link may name an object not mirrored yet.
CREATE TABLE hubspot_associations (
  from_type           text        NOT NULL,
  from_id             bigint      NOT NULL,
  to_type             text        NOT NULL,
  to_id               bigint      NOT NULL,
  association_type_id integer     NOT NULL,
  category            text        NOT NULL,
  label               text,
  synced_at           timestamptz NOT NULL DEFAULT now()
);

-- Unique on all of it; an unlabelled type (label NULL) counts once (PostgreSQL 14 has no NULLS NOT DISTINCT).
CREATE UNIQUE INDEX hubspot_associations_unique
  ON hubspot_associations (from_type, from_id, to_type, to_id, association_type_id, category, (coalesce(label, '')));

CREATE INDEX hubspot_associations_to_idx ON hubspot_associations (to_type, to_id);

-- Where each job resumes. Updated in the same transaction as the page it follows, so a failed run loses nothing.
--   phase 'list':   the first full listing (or an archived listing) is under way; list_after is the next page's cursor
--                   and last_modified the newest modified date HubSpot had when the listing began.
--   phase 'search': incremental; last_modified is the newest modified date saved (searches restart from it minus
--                   HUBSPOT_LOOKBACK_MINUTES).
--   phase 'tie':    more records than one search can page through share last_modified: they are being read in
--                   hs_object_id order, last_id being the last one saved.
-- The association sync keeps last_id (the last contact whose links were refreshed) while a pass is under way.
CREATE TABLE hubspot_sync_checkpoints (
  job           text        PRIMARY KEY,
  phase         text        NOT NULL DEFAULT 'search',
  last_modified timestamptz,
  last_id       bigint,
  list_after    text,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT hubspot_sync_checkpoints_phase_check CHECK (phase IN ('list', 'search', 'tie'))
);

-- One row per run of a job (CLI, HTTP trigger or the scheduler). `running` rows left by a process that died are
-- closed as failed by the next run of the job (which holds the job's advisory lock, so nobody else runs it).
CREATE TABLE hubspot_sync_runs (
  id          bigserial   PRIMARY KEY,
  job         text        NOT NULL,
  trigger     text        NOT NULL,
  options     jsonb       NOT NULL DEFAULT '{}',
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  outcome     text        NOT NULL DEFAULT 'running',
  counts      jsonb       NOT NULL DEFAULT '{}',
  error       text,
  result      jsonb,
  CONSTRAINT hubspot_sync_runs_trigger_check CHECK (trigger IN ('cli', 'http', 'schedule')),
  CONSTRAINT hubspot_sync_runs_outcome_check CHECK (outcome IN ('running', 'success', 'partial', 'failed'))
);

CREATE INDEX hubspot_sync_runs_job_idx ON hubspot_sync_runs (job, id DESC);

-- Every property value the push wrote to a contact. A contact read back later carries these values; its
-- observation records them (payload.pushed) so that the HubSpot contribution ignores a property whose value is
-- the one we wrote: our own write is not a new observation of the person.
CREATE TABLE hubspot_push_log (
  id             bigserial   PRIMARY KEY,
  contact_id     bigint      NOT NULL,
  property       text        NOT NULL,
  value          text        NOT NULL,
  previous_value text,
  person_id      uuid,
  run_id         bigint      REFERENCES hubspot_sync_runs (id),
  pushed_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX hubspot_push_log_contact_idx ON hubspot_push_log (contact_id, property, id DESC);
