-- Scheduler: who leads, what ran; dead letters: the history of every attempt.

-- The current leader (one row at most), written by the leader when it takes the lock and heartbeated while it
-- holds it. Informational: leadership itself is the session advisory lock, not this row.
CREATE TABLE scheduler_leader (
  singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  instance_id  text        NOT NULL,
  since        timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- One row per run of a scheduled job. A run in progress has outcome NULL; a run whose instance died before it
-- finished is closed as failed (finished_at stays NULL: nobody knows when it stopped) by the next run of the job.
CREATE TABLE job_runs (
  id          bigserial   PRIMARY KEY,
  job         text        NOT NULL,
  instance_id text        NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  outcome     text        CHECK (outcome IN ('success', 'failed', 'skipped')),
  counts      jsonb       NOT NULL DEFAULT '{}',
  error       text,
  CHECK (finished_at IS NULL OR outcome IS NOT NULL)
);
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_unfinished_idx ON job_runs (job) WHERE outcome IS NULL;

-- Every Phase 2 failure and every replay of a dead letter, in order.
CREATE TABLE dead_letter_attempts (
  id             bigserial   PRIMARY KEY,
  dead_letter_id bigint      NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
  attempt        integer     NOT NULL,
  attempted_at   timestamptz NOT NULL DEFAULT now(),
  outcome        text        NOT NULL CHECK (outcome IN ('resolved', 'failed', 'skipped')),
  permanent      boolean     NOT NULL DEFAULT false,
  error          text
);
CREATE INDEX dead_letter_attempts_letter_idx ON dead_letter_attempts (dead_letter_id, id);
