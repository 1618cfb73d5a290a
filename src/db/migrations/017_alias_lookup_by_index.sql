-- The identifiers' lookup inside phase2_apply_person joined person_aliases to unnest(p_kinds, p_values). PL/pgSQL
-- caches a generic plan per connection, and the one planned while the table was small (a fresh install, the first
-- minutes of a bench) was a hash join over a sequential scan of person_aliases, kept for the connection's life:
-- under load it was most of the function's time. A LATERAL lookup with LIMIT 1 (the key is unique) can only run
-- as one index probe per identifier, whatever the statistics say.

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
) LANGUAGE plpgsql AS $$
DECLARE
  v_status text;
  v_found  uuid[];
BEGIN
  -- Derived state: the observation itself was committed synchronously before this runs. If a crash loses this
  -- commit, the observation is still 'pending' and the sweeper derives exactly the same result again.
  PERFORM set_config('synchronous_commit', 'off', true);
  location_created := false;
  SELECT status INTO v_status FROM observations WHERE id = p_observation_id FOR UPDATE SKIP LOCKED;
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

  UPDATE observations
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
