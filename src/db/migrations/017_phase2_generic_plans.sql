-- Phase 2's two statements per webhook, planned once per connection.
--
-- 1. The identifiers' lookups joined the alias tables to unnest(kinds, values). A generic plan made while the
--    table was small (a fresh install, the first minutes of a bench) was a hash join over a sequential scan of
--    person_aliases, cached for the connection's life: under load it was most of Phase 2's time. A LATERAL lookup
--    with LIMIT 1 (the key is unique) can only run as one index probe per identifier, whatever the statistics say.
-- 2. The read that precedes phase2_apply_person was sent as a named statement, and PostgreSQL planned it afresh on
--    every call (custom plans looked cheaper than the generic one): planning took five times as long as running
--    it. As a function with plan_cache_mode = force_generic_plan it is planned once per connection.

-- The observation's state, the persons its identifiers name (with their hard ids and latest job change) and the
-- companies its company identifiers name.
CREATE FUNCTION phase2_read_person(
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
  SELECT o.status, COALESCE(o.event_time, o.received_at),
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
    FROM observations o WHERE o.id = p_observation_id;
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
