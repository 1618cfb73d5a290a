-- HubSpot contact merges, and runs stopped by a graceful shutdown.
--
-- When contact B is merged into contact A, B vanishes from HubSpot's API (it is not archived) and A's
-- hs_merged_object_ids / hs_calculated_merged_vids name B. Each (merged id -> survivor) pair a synced contact names
-- is kept here. This table, not a column of hubspot_contacts, is the truth: a loser synced after its survivor (or
-- never synced at all) is merged the moment its row exists, whatever order pages arrive in, and a merged id that a
-- stale page returns as a normal record stays merged. A loser never seen locally has a row here and none in
-- hubspot_contacts.
--   seen_at:   the survivor's modified date on the record that named the pair; a later claim on the same merged id
--              replaces it only when it comes from a newer survivor version (HubSpot cannot unmerge contacts).
--   merged_at: the merge time hs_calculated_merged_vids gives (`vid:epoch`), NULL when only hs_merged_object_ids
--              named the id.
CREATE TABLE hubspot_contact_merges (
  merged_id   bigint      PRIMARY KEY,
  survivor_id bigint      NOT NULL,
  merged_at   timestamptz,
  seen_at     timestamptz NOT NULL,
  run_id      bigint,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT hubspot_contact_merges_not_self CHECK (merged_id <> survivor_id)
);

CREATE INDEX hubspot_contact_merges_survivor_idx ON hubspot_contact_merges (survivor_id);

-- `interrupted`: the run was told to stop (service shutdown, Ctrl-C of the CLI) and stopped after its last saved
-- page; its checkpoint is where the next run resumes.
ALTER TABLE hubspot_sync_runs DROP CONSTRAINT hubspot_sync_runs_outcome_check;
ALTER TABLE hubspot_sync_runs ADD CONSTRAINT hubspot_sync_runs_outcome_check
  CHECK (outcome IN ('running', 'success', 'partial', 'failed', 'interrupted'));
