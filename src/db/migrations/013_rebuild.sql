-- Rebuilds of the canonical entities from the observation log (ops CLI `rebuild`): one row per run, with the
-- checkpoint a resumed run continues from.
CREATE TABLE rebuild_runs (
  id                  bigserial PRIMARY KEY,
  started_at          timestamptz NOT NULL DEFAULT now(),
  finished_at         timestamptz,
  status              text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
  last_observation_id bigint      NOT NULL DEFAULT 0,
  batched             bigint      NOT NULL DEFAULT 0,
  full_path           bigint      NOT NULL DEFAULT 0,
  skipped             bigint      NOT NULL DEFAULT 0,
  error               text
);
