-- The observation log is append-only; what Phase 2 decided about each observation (its status and what it was
-- linked to) now lives beside it, one narrow row per observation.
--
-- Every decision rewrote the whole observation row, payload included (about 1.5 KB, stored inline: below the
-- 2 KB toast threshold nothing is compressed or moved out), and maintained every index of the log. A rebuild
-- rewrote each row twice (reset, then linked), which was half of its database time, and left the log three
-- times its size. A decision now rewrites about 60 bytes, and the log's own indexes are never touched after the
-- insert.
--
-- `observations` stays what readers see: a view joining the two, writable through triggers (INSERT, UPDATE and
-- DELETE as on the table it replaces). The hot paths write the two tables directly.

ALTER TABLE observations RENAME TO observation_log;
DROP TRIGGER observations_moved_invalidate_changes ON observation_log;

-- id is the observation's id: the same name as in the view, so a statement moves from one to the other unchanged.
-- No foreign key to the log: its check would read and lock (writing to) the log row named by every state row
-- inserted, the rebuild's million included. Both rows are written by one statement and deleted together.
-- kind is the log's, copied: counts of unfinished or skipped observations by kind read this table alone.
CREATE TABLE observation_state (
  id            bigint      PRIMARY KEY,
  kind          text        NOT NULL,
  status        text        NOT NULL DEFAULT 'pending',
  status_reason text,
  person_id     uuid,
  company_id    uuid,
  location_id   uuid,
  processed_at  timestamptz,
  CONSTRAINT observation_state_status_check
    CHECK (status IN ('pending', 'processed', 'skipped', 'dead', 'ignored'))
);

INSERT INTO observation_state (id, kind, status, status_reason, person_id, company_id, location_id, processed_at)
SELECT id, kind, status, status_reason, person_id, company_id, location_id, processed_at FROM observation_log;

DROP INDEX observations_unfinished_idx, observations_person_idx, observations_company_idx,
           observations_location_idx, observations_skipped_idx;
ALTER TABLE observation_log DROP COLUMN status, DROP COLUMN status_reason, DROP COLUMN person_id,
                            DROP COLUMN company_id, DROP COLUMN location_id, DROP COLUMN processed_at;

CREATE INDEX observation_state_unfinished_idx ON observation_state (id) WHERE status IN ('pending', 'dead');
CREATE INDEX observation_state_skipped_idx ON observation_state (kind) WHERE status = 'skipped';
CREATE INDEX observation_state_person_idx ON observation_state (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX observation_state_company_idx ON observation_state (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX observation_state_location_idx ON observation_state (location_id) WHERE location_id IS NOT NULL;

CREATE TRIGGER observation_state_moved_invalidate_changes
  AFTER UPDATE OF person_id, company_id ON observation_state
  FOR EACH ROW
  WHEN (OLD.person_id IS NOT NULL AND NEW.person_id IS NOT NULL
        AND (OLD.person_id <> NEW.person_id OR OLD.company_id IS DISTINCT FROM NEW.company_id))
  EXECUTE FUNCTION person_changes_invalidate();

CREATE VIEW observations AS
SELECT l.id, l.source, l.kind, l.event, l.dux_user_id, l.event_time, l.received_at, l.event_key, l.request_id,
       l.payload, l.raw_body, s.status, s.status_reason, s.person_id, s.processed_at, s.company_id, s.location_id
  FROM observation_log l
  JOIN observation_state s ON s.id = l.id;

ALTER VIEW observations ALTER COLUMN id SET DEFAULT nextval('observations_id_seq');
ALTER VIEW observations ALTER COLUMN received_at SET DEFAULT now();
ALTER VIEW observations ALTER COLUMN status SET DEFAULT 'pending';

CREATE FUNCTION observations_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO observation_log (id, source, kind, event, dux_user_id, event_time, received_at, event_key,
                                 request_id, payload, raw_body)
    VALUES (NEW.id, NEW.source, NEW.kind, NEW.event, NEW.dux_user_id, NEW.event_time, NEW.received_at,
            NEW.event_key, NEW.request_id, NEW.payload, NEW.raw_body);
    INSERT INTO observation_state (id, kind, status, status_reason, person_id, company_id, location_id,
                                   processed_at)
    VALUES (NEW.id, NEW.kind, NEW.status, NEW.status_reason, NEW.person_id, NEW.company_id, NEW.location_id,
            NEW.processed_at);
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    IF NEW.id IS DISTINCT FROM OLD.id THEN
      RAISE EXCEPTION 'an observation''s id cannot change' USING ERRCODE = 'check_violation';
    END IF;
    IF ROW(NEW.source, NEW.kind, NEW.event, NEW.dux_user_id, NEW.event_time, NEW.received_at, NEW.event_key,
           NEW.request_id, NEW.payload, NEW.raw_body)
       IS DISTINCT FROM ROW(OLD.source, OLD.kind, OLD.event, OLD.dux_user_id, OLD.event_time, OLD.received_at,
                            OLD.event_key, OLD.request_id, OLD.payload, OLD.raw_body) THEN
      UPDATE observation_log
         SET source = NEW.source, kind = NEW.kind, event = NEW.event, dux_user_id = NEW.dux_user_id,
             event_time = NEW.event_time, received_at = NEW.received_at, event_key = NEW.event_key,
             request_id = NEW.request_id, payload = NEW.payload, raw_body = NEW.raw_body
       WHERE id = OLD.id;
    END IF;
    IF ROW(NEW.kind, NEW.status, NEW.status_reason, NEW.person_id, NEW.company_id, NEW.location_id,
           NEW.processed_at)
       IS DISTINCT FROM ROW(OLD.kind, OLD.status, OLD.status_reason, OLD.person_id, OLD.company_id, OLD.location_id,
                            OLD.processed_at) THEN
      UPDATE observation_state
         SET kind = NEW.kind, status = NEW.status, status_reason = NEW.status_reason, person_id = NEW.person_id,
             company_id = NEW.company_id, location_id = NEW.location_id, processed_at = NEW.processed_at
       WHERE id = OLD.id;
    END IF;
    RETURN NEW;
  ELSE
    DELETE FROM observation_state WHERE id = OLD.id;
    DELETE FROM observation_log WHERE id = OLD.id;
    RETURN OLD;
  END IF;
END;
$$;

CREATE TRIGGER observations_write INSTEAD OF INSERT OR UPDATE OR DELETE ON observations
  FOR EACH ROW EXECUTE FUNCTION observations_write();

-- Phase 2's fast path, as in 017, reading and writing the observation's state rather than the view.
CREATE OR REPLACE FUNCTION phase2_read_person(
  p_observation_id bigint,
  p_kinds          text[],
  p_values         text[],
  p_hard_kinds     text[],
  p_company_kinds  text[],
  p_company_values text[]
) RETURNS TABLE (status text, observed_at timestamptz, persons json, companies json)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  RETURN QUERY
  SELECT s.status, COALESCE(o.event_time, o.received_at),
         (SELECT json_agg(json_build_object(
                   'id', p.id, 'anchor', p.anchor_observation_id, 'version', p.xmin::text,
                   'merged', p.merged_into IS NOT NULL, 'snapshot', p.snapshot,
                   'latestChange', (SELECT to_jsonb(lc) FROM person_changes lc WHERE lc.person_id = p.id
                                     ORDER BY lc.changed_at DESC, lc.observation_id DESC LIMIT 1),
                   'hard', (SELECT json_agg(json_build_object('kind', h.kind, 'value', h.value))
                              FROM person_aliases h WHERE h.person_id = p.id AND h.kind = ANY(p_hard_kinds))))
            FROM persons p
           WHERE p.id IN (SELECT owned.person_id
                            FROM unnest(p_kinds, p_values) AS w(kind, value)
                           CROSS JOIN LATERAL (SELECT a.person_id FROM person_aliases a
                                                WHERE a.kind = w.kind AND a.value = w.value LIMIT 1) AS owned)),
         (SELECT json_agg(json_build_object('id', m.id, 'aliases', m.aliases, 'anchor', m.anchor))
            FROM (SELECT owned.company_id AS id, count(*)::int AS aliases, min(c.anchor_observation_id) AS anchor
                    FROM unnest(p_company_kinds, p_company_values) AS w(kind, value)
                   CROSS JOIN LATERAL (SELECT a.company_id FROM company_aliases a
                                        WHERE a.kind = w.kind AND a.value = w.value LIMIT 1) AS owned
                    JOIN companies c ON c.id = owned.company_id
                   GROUP BY owned.company_id) AS m)
    FROM observation_log o JOIN observation_state s ON s.id = o.id
   WHERE o.id = p_observation_id;
END;
$$;

CREATE OR REPLACE FUNCTION phase2_apply_person(
  p_observation_id   bigint,
  p_kinds            text[],
  p_values           text[],
  p_displays         text[],
  p_expected_person  uuid,   -- NULL: the identifiers must name nobody, and p_person_id is created
  p_expected_version xid,    -- xmin of the expected person's row as the caller read it
  p_person_id        uuid,
  p_snapshot         jsonb,
  p_full_name        text,
  p_current_title    text,
  p_current_company  text,
  p_company_id       uuid,   -- persons.current_company_id (from the snapshot)
  p_location_id      uuid,   -- persons.location_id (from the snapshot)
  p_observed_at      timestamptz,
  p_link_company     uuid,   -- what this observation links to
  p_link_location    uuid,
  p_location_key     text,
  p_location_alias   text,
  p_source           text,   -- provenance label of the observation (visit, scan, ...)
  p_company_fields   jsonb,  -- what it says about its company and location, for the refresher
  p_location_fields  jsonb,
  OUT outcome        text,   -- created | updated | stale
  OUT location_created boolean
) LANGUAGE plpgsql
-- Every statement here has a plan that is right for any arguments; custom plans were re-planned on every call
-- (the arrays' sizes made them look cheaper than the generic one), a tenth of the database's CPU under load.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_status text;
  v_found  uuid[];
BEGIN
  -- Derived state: the observation itself was committed synchronously before this runs. If a crash loses this
  -- commit, the observation is still 'pending' and the sweeper derives exactly the same result again.
  PERFORM set_config('synchronous_commit', 'off', true);
  location_created := false;
  SELECT status INTO v_status FROM observation_state WHERE id = p_observation_id FOR UPDATE SKIP LOCKED;
  IF v_status IS DISTINCT FROM 'pending' THEN
    outcome := 'stale';
    RETURN;
  END IF;

  -- Known locations and spellings are only read: an INSERT ... ON CONFLICT on a row the refresher is updating
  -- would wait for the refresher to commit.
  IF p_link_location IS NOT NULL AND NOT EXISTS (SELECT 1 FROM locations WHERE key = p_location_key) THEN
    INSERT INTO locations (id, key) VALUES (p_link_location, p_location_key) ON CONFLICT (key) DO NOTHING;
    location_created := FOUND;
  END IF;
  IF p_link_location IS NOT NULL AND NOT EXISTS (SELECT 1 FROM location_aliases WHERE value = p_location_alias) THEN
    INSERT INTO location_aliases (value, location_id) VALUES (p_location_alias, p_link_location)
    ON CONFLICT (value) DO NOTHING;
  END IF;

  PERFORM pg_advisory_xact_lock(h)
     FROM (SELECT DISTINCT hashtextextended('person:' || k || ':' || v, 0) AS h
             FROM unnest(p_kinds, p_values) AS w(k, v) ORDER BY 1) AS sorted;

  SELECT array_agg(DISTINCT a.person_id) INTO v_found
    FROM unnest(p_kinds, p_values) AS w(kind, value)
   CROSS JOIN LATERAL (SELECT person_id FROM person_aliases
                        WHERE kind = w.kind AND value = w.value LIMIT 1) AS a;

  IF p_expected_person IS NULL THEN
    IF v_found IS NOT NULL THEN
      outcome := 'stale';
      RETURN;
    END IF;
    INSERT INTO persons (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                         last_observed_at, full_name, current_title, current_company, current_company_id,
                         location_id)
    VALUES (p_person_id, p_observation_id, p_snapshot, 1, p_observed_at, p_observed_at, p_full_name,
            p_current_title, p_current_company, p_company_id, p_location_id)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN -- the tombstone of an earlier merge holds this id: the full path revives it
      outcome := 'stale';
      RETURN;
    END IF;
    outcome := 'created';
  ELSE
    IF v_found IS DISTINCT FROM ARRAY[p_expected_person] THEN
      outcome := 'stale';
      RETURN;
    END IF;
    UPDATE persons
       SET snapshot = p_snapshot, observations_count = observations_count + 1,
           first_observed_at = LEAST(first_observed_at, p_observed_at),
           last_observed_at = GREATEST(last_observed_at, p_observed_at),
           full_name = p_full_name, current_title = p_current_title, current_company = p_current_company,
           current_company_id = p_company_id, location_id = p_location_id, updated_at = now()
     WHERE id = p_expected_person AND merged_into IS NULL AND xmin = p_expected_version
       AND anchor_observation_id < p_observation_id;
    IF NOT FOUND THEN
      outcome := 'stale';
      RETURN;
    END IF;
    outcome := 'updated';
  END IF;

  -- An alias already held by another person stays with it; the earliest observation names its display form.
  INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
  SELECT kind, value, p_person_id, display, p_observation_id
    FROM unnest(p_kinds, p_values, p_displays) AS a(kind, value, display)
  ON CONFLICT (kind, value) DO UPDATE
    SET display = EXCLUDED.display, first_observation_id = EXCLUDED.first_observation_id
    WHERE person_aliases.person_id = EXCLUDED.person_id
      AND person_aliases.first_observation_id > EXCLUDED.first_observation_id;

  UPDATE observation_state
     SET person_id = p_person_id, company_id = p_link_company, location_id = p_link_location,
         status = 'processed', status_reason = NULL, processed_at = now()
   WHERE id = p_observation_id;

  INSERT INTO entity_refresh (entity, id, observation_id, source, observed_at, fields)
  SELECT entity, id, p_observation_id, p_source, p_observed_at, fields
    FROM (VALUES ('company', p_link_company, p_company_fields),
                 ('location', p_link_location, p_location_fields)) AS linked(entity, id, fields)
   WHERE id IS NOT NULL
  ON CONFLICT DO NOTHING;
END;
$$;
