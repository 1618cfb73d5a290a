-- Ops CLI (issue 4): manual identity decisions, and CSV rows rejected once per content.

-- Merges and unmerges an operator decided (merge-duplicates --execute, rollback-merge --execute). They are inputs,
-- like observations: a rebuild from the observation log replays them afterwards (replayManualDecisions in
-- src/cli/identity/decisions.ts) so it reproduces them. merges is derived state (a rebuild empties it), hence no
-- foreign key to it; persons neither (TRUNCATE persons CASCADE must not empty this table).
CREATE TABLE manual_identity_decisions (
  id          bigserial   PRIMARY KEY,
  kind        text        NOT NULL CHECK (kind IN ('merge', 'unmerge')),
  survivor_id uuid        NOT NULL,
  person_ids  uuid[]      NOT NULL, -- merge: the persons merged into the survivor; unmerge: the persons split off again
  -- Every involved person's aliases when decided, {"<person id>": [{"kind": ..., "value": ...}, ...]}: finds the
  -- persons again should their ids ever differ after a rebuild.
  aliases     jsonb       NOT NULL,
  merge_id    bigint,               -- the merges row executed or rolled back, when decided (informational)
  reverses_id bigint REFERENCES manual_identity_decisions (id), -- an unmerge undoing a recorded manual merge
  reason      text        NOT NULL,
  decided_by  text,                 -- operating-system user who ran the command
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (cardinality(person_ids) > 0)
);
CREATE INDEX manual_identity_decisions_merge_idx ON manual_identity_decisions (merge_id);

-- import-csv stores a row it cannot use once (request_id = 'csv:' || sha256 of the row's text), so importing the
-- same file again adds nothing anywhere.
CREATE UNIQUE INDEX rejected_inputs_csv_once ON rejected_inputs (request_id) WHERE endpoint = 'csv';
