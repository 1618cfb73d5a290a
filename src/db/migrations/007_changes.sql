-- Job-change intelligence: a person's changes of title and company, derived from their observations in time order
-- (src/intelligence/changes.ts). A pure function of the observations: refolding a person rewrites its rows, and a
-- rebuild reproduces them. At most one change per observation: the observation that first showed the new state.
CREATE TABLE person_changes (
  person_id               uuid        NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
  observation_id          bigint      NOT NULL, -- the observation that showed the new state
  previous_observation_id bigint      NOT NULL, -- the observation just before it in time order
  type                    text        NOT NULL
    CHECK (type IN ('company_change', 'promotion', 'title_change', 'lateral_move')),
  changed_at              timestamptz NOT NULL, -- observation time of observation_id
  previous_observed_at    timestamptz NOT NULL,
  before_title            text,
  before_company          text,
  before_company_id       uuid,
  before_level            smallint,
  before_tier             text,
  before_department       text,
  after_title             text,
  after_company           text,
  after_company_id        uuid,
  after_level             smallint,
  after_tier              text,
  after_department        text,
  detected_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, observation_id)
);
-- GET /api/changes (newest first, optionally by type) and the per-person reads (recent job change at read time).
CREATE INDEX person_changes_recent_idx ON person_changes (changed_at DESC, observation_id DESC);
CREATE INDEX person_changes_type_recent_idx ON person_changes (type, changed_at DESC, observation_id DESC);
CREATE INDEX person_changes_person_recent_idx ON person_changes (person_id, changed_at DESC);

-- A refold that finds no change writes nothing, so rows can only go stale when a person's observation set shrinks
-- or its company links are rewritten: merges, merge rollbacks and company merges move observations. Any such move
-- clears the changes of the person the observation belonged to; the refold that always follows such a move writes
-- them again. The WHEN clause keeps this free on the hot path (first links have OLD.person_id NULL) and on the full
-- reset (person_id back to NULL, followed by TRUNCATE persons CASCADE, which empties this table).
CREATE FUNCTION person_changes_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM person_changes WHERE person_id = OLD.person_id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER observations_moved_invalidate_changes
  AFTER UPDATE OF person_id, company_id ON observations
  FOR EACH ROW
  WHEN (OLD.person_id IS NOT NULL AND NEW.person_id IS NOT NULL
        AND (OLD.person_id <> NEW.person_id OR OLD.company_id IS DISTINCT FROM NEW.company_id))
  EXECUTE FUNCTION person_changes_invalidate();
