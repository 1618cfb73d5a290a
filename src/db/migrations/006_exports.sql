-- Asynchronous exports. A job is produced by whichever instance claims it, and its output is stored here in
-- chunks, so any instance can serve the download.
CREATE TABLE export_jobs (
  id             uuid        PRIMARY KEY, -- random (v4): job ids must not be guessable
  entity         text        NOT NULL CHECK (entity IN ('people', 'companies', 'locations')),
  format         text        NOT NULL CHECK (format IN ('csv', 'json')),
  request        jsonb       NOT NULL,    -- {filters, fields, bom} as validated when the job was created
  owner_key_hash text,                    -- sha256 (hex) of the API key that created it; NULL when the API is open
  status         text        NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
  -- Each claim increments attempt and draws a new claim_token; every write of a worker is fenced by its token,
  -- so a worker that was presumed dead and reclaimed can no longer touch the job.
  attempt        integer     NOT NULL DEFAULT 0,
  claim_token    uuid,
  claimed_by     text,
  heartbeat_at   timestamptz,
  rows_done      bigint      NOT NULL DEFAULT 0,
  rows_total     bigint,
  size_bytes     bigint      NOT NULL DEFAULT 0,
  chunk_count    integer     NOT NULL DEFAULT 0,
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  completed_at   timestamptz,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX export_jobs_queue_idx ON export_jobs (created_at) WHERE status IN ('pending', 'processing');
CREATE INDEX export_jobs_expiry_idx ON export_jobs (expires_at);
CREATE INDEX export_jobs_owner_active_idx ON export_jobs (owner_key_hash) WHERE status IN ('pending', 'processing');

-- The file, in ~1 MB pieces, per attempt: a download reads the chunks of the attempt that completed, in order.
CREATE TABLE export_chunks (
  job_id  uuid    NOT NULL REFERENCES export_jobs (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  seq     integer NOT NULL,
  data    bytea   NOT NULL,
  PRIMARY KEY (job_id, attempt, seq)
);
-- Stored out of line but not compressed: compressing ~1 MB per chunk cost more CPU than the rest of writing it,
-- and the files live only EXPORT_TTL_HOURS.
ALTER TABLE export_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
