-- Company and location snapshots are refolded off the request path: Phase 2 only links the observation and
-- queues the entity here, so many people of one company arriving at once never wait on that company's row.
CREATE TABLE entity_refresh (
  entity    text        NOT NULL CHECK (entity IN ('company', 'location')),
  id        uuid        NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, id)
);

-- Lookups by alias value with an unknown kind go through the primary key with every kind instead.
DROP INDEX person_aliases_value_idx;
DROP INDEX company_aliases_value_idx;
