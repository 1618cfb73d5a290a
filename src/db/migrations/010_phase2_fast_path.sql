-- Phase 2 in one round trip for the common cases, and incremental company / location refreshes.

-- The refresh queue carries what a newly linked observation says about the company or location (its fields,
-- source and time), so the refresher folds just that into the entity's snapshot without reading the payload
-- again (the fold is a maximum, so the result equals a full refold). observation_id NULL asks for a full
-- refold from every linked observation (after a merge moved observations around).
ALTER TABLE entity_refresh DROP CONSTRAINT entity_refresh_pkey;
ALTER TABLE entity_refresh
  ADD COLUMN seq bigserial PRIMARY KEY,
  ADD COLUMN observation_id bigint,
  ADD COLUMN source text,
  ADD COLUMN observed_at timestamptz,
  ADD COLUMN fields jsonb;
CREATE UNIQUE INDEX entity_refresh_once ON entity_refresh (entity, id, (COALESCE(observation_id, 0)));

-- The fast path of Phase 2 for a person: the caller has read the person its identifiers name (or found none),
-- folded the observation into that snapshot, and now applies the result if, under the same advisory locks the
-- full path takes, nothing it read has changed. Anything unexpected answers 'stale' having written nothing,
-- and the caller takes the full path. The location is upserted first so that no transaction ever waits on a
-- location row while holding person locks (no lock cycle with another fast path).
CREATE FUNCTION phase2_apply_person(
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
    FROM person_aliases a
    JOIN unnest(p_kinds, p_values) AS w(kind, value) ON a.kind = w.kind AND a.value = w.value;

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
