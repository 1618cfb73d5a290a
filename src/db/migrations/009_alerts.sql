-- Alert state (de-duplication and recovery notices shared by every instance) and the small partial indexes that
-- keep the health figures cheap at a million people.

-- One row per alert condition (a stable key such as 'dead_letter_backlog'), describing its current or last
-- episode. A problem notice for (condition, severity) is sent at most once per ALERT_DEDUP_HOURS, whatever the
-- live figures in its message; a recovery notice is sent once when an episode that was notified clears.
CREATE TABLE alerts (
  condition            text        PRIMARY KEY,
  severity             text        NOT NULL CHECK (severity IN ('warning', 'critical')),
  message              text        NOT NULL,
  last_values          jsonb       NOT NULL DEFAULT '{}',
  first_seen           timestamptz NOT NULL,  -- start of the current (or last) episode
  last_seen            timestamptz NOT NULL,  -- last evaluation that found the condition
  cleared_at           timestamptz,           -- NULL while the condition holds
  warning_notified_at  timestamptz,           -- last delivered warning notice in this episode
  critical_notified_at timestamptz,           -- last delivered critical notice in this episode
  last_notified        timestamptz,           -- the later of the two
  recovery_notified_at timestamptz,           -- the recovery notice of this episode, once delivered
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_active_idx ON alerts (condition) WHERE cleared_at IS NULL;

-- Every notification attempt, delivered or not: a failing channel is visible here and never fails the job.
CREATE TABLE alert_notifications (
  id           bigserial   PRIMARY KEY,
  kind         text        NOT NULL CHECK (kind IN ('alert', 'recovery', 'test')),
  channel      text        NOT NULL CHECK (channel IN ('email', 'sms')),
  conditions   text[]      NOT NULL,
  severity     text,
  recipients   integer     NOT NULL,
  delivered    boolean     NOT NULL,
  error        text,
  attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notifications_recent_idx ON alert_notifications (attempted_at DESC);

-- Data quality counts the people missing a field (or, for email, having one): the minority, so each index stays
-- small and is rarely written. Company and location links use persons_company_idx / persons_location_idx.
CREATE INDEX persons_missing_name_idx ON persons (last_observed_at) WHERE merged_into IS NULL AND full_name IS NULL;
CREATE INDEX persons_missing_title_idx ON persons (last_observed_at)
  WHERE merged_into IS NULL AND current_title IS NULL;
CREATE INDEX persons_missing_company_idx ON persons (last_observed_at)
  WHERE merged_into IS NULL AND current_company IS NULL;
CREATE INDEX persons_with_email_idx ON persons (last_observed_at)
  WHERE merged_into IS NULL AND (snapshot ->> 'email') IS NOT NULL;
CREATE INDEX persons_missing_seniority_idx ON persons (last_observed_at)
  WHERE merged_into IS NULL AND (snapshot ->> 'seniorityTier') IS NULL;
-- Tombstones are written once, by a merge.
CREATE INDEX persons_tombstones_idx ON persons (merged_at) WHERE merged_into IS NOT NULL;

-- Identity strength (coverage-breakdown): who holds a Sales Navigator id or a member id, in person order.
CREATE INDEX person_aliases_stable_idx ON person_aliases (person_id, kind)
  WHERE kind IN ('sales_nav_id', 'member_id');

-- All-time parity counts observations that ended skipped (no identity); pending and dead are in
-- observations_unfinished_idx already.
CREATE INDEX observations_skipped_idx ON observations (kind) WHERE status = 'skipped';

-- Dead letters that gave up (the resolved ones accumulate; pending ones are in dead_letters_due_idx).
CREATE INDEX dead_letters_failed_idx ON dead_letters (attempts) WHERE status = 'failed';
