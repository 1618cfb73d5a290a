-- Phase 2: canonical entities (persons, companies, locations), their aliases, merges, conflicts, dead letters.

-- One table per entity kind; the shape is shared so one resolver serves persons and companies.
-- anchor_observation_id: the lowest observation id in the entity's cluster. Ids and merge survivors follow it,
-- which is what makes identity independent of processing order.
CREATE TABLE persons (
  id                    uuid PRIMARY KEY,
  anchor_observation_id bigint      NOT NULL,
  merged_into           uuid REFERENCES persons (id),
  merged_at             timestamptz,
  snapshot              jsonb       NOT NULL DEFAULT '{}',
  observations_count    integer     NOT NULL DEFAULT 0,
  first_observed_at     timestamptz,
  last_observed_at      timestamptz,
  full_name             text,
  current_title         text,
  current_company       text,
  current_company_id    uuid,
  location_id           uuid,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_live_idx ON persons (last_observed_at DESC) WHERE merged_into IS NULL;
CREATE INDEX persons_company_idx ON persons (current_company_id) WHERE merged_into IS NULL;
CREATE INDEX persons_location_idx ON persons (location_id) WHERE merged_into IS NULL;

CREATE TABLE companies (
  id                    uuid PRIMARY KEY,
  anchor_observation_id bigint      NOT NULL,
  merged_into           uuid REFERENCES companies (id),
  merged_at             timestamptz,
  snapshot              jsonb       NOT NULL DEFAULT '{}',
  observations_count    integer     NOT NULL DEFAULT 0,
  first_observed_at     timestamptz,
  last_observed_at      timestamptz,
  name                  text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Locations are keyed by their normalised parsed form, so they never need merging.
CREATE TABLE locations (
  id                 uuid PRIMARY KEY,
  key                text        NOT NULL UNIQUE,
  snapshot           jsonb       NOT NULL DEFAULT '{}',
  observations_count integer     NOT NULL DEFAULT 0,
  first_observed_at  timestamptz,
  last_observed_at   timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Every identifier maps to exactly one entity.
CREATE TABLE person_aliases (
  kind                 text        NOT NULL,
  value                text        NOT NULL,
  person_id            uuid        NOT NULL REFERENCES persons (id),
  display              text        NOT NULL,
  first_observation_id bigint      NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);
CREATE INDEX person_aliases_person_idx ON person_aliases (person_id);
CREATE INDEX person_aliases_value_idx ON person_aliases (value);

CREATE TABLE company_aliases (
  kind                 text        NOT NULL,
  value                text        NOT NULL,
  company_id           uuid        NOT NULL REFERENCES companies (id),
  display              text        NOT NULL,
  first_observation_id bigint      NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value)
);
CREATE INDEX company_aliases_company_idx ON company_aliases (company_id);
CREATE INDEX company_aliases_value_idx ON company_aliases (value);

CREATE TABLE location_aliases (
  value       text        PRIMARY KEY, -- the raw location string, trimmed and lower-cased
  location_id uuid        NOT NULL REFERENCES locations (id),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX location_aliases_location_idx ON location_aliases (location_id);

ALTER TABLE observations
  ADD COLUMN company_id uuid,
  ADD COLUMN location_id uuid;
CREATE INDEX observations_company_idx ON observations (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX observations_location_idx ON observations (location_id) WHERE location_id IS NOT NULL;

CREATE TABLE merges (
  id             bigserial PRIMARY KEY,
  entity         text        NOT NULL CHECK (entity IN ('person', 'company')),
  survivor_id    uuid        NOT NULL,
  merged_ids     uuid[]      NOT NULL,
  reason         text        NOT NULL,
  observation_id bigint,
  before_images  jsonb       NOT NULL, -- every involved entity row and its aliases, as they were
  created_at     timestamptz NOT NULL DEFAULT now(),
  rolled_back_at timestamptz
);
CREATE INDEX merges_survivor_idx ON merges (entity, survivor_id);

CREATE TABLE identity_conflicts (
  id             bigserial PRIMARY KEY,
  entity         text        NOT NULL,
  observation_id bigint      NOT NULL,
  kind           text        NOT NULL,
  entity_ids     uuid[]      NOT NULL,
  detail         jsonb       NOT NULL,
  detected_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT identity_conflicts_once UNIQUE (entity, observation_id, kind)
);

CREATE TABLE dead_letters (
  id              bigserial PRIMARY KEY,
  observation_id  bigint      NOT NULL UNIQUE REFERENCES observations (id),
  error           text        NOT NULL,
  permanent       boolean     NOT NULL DEFAULT false,
  attempts        integer     NOT NULL DEFAULT 1,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'failed')),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz
);
CREATE INDEX dead_letters_due_idx ON dead_letters (next_attempt_at) WHERE status = 'pending';
