-- Search (full text + trigram) over people, and the seniority / department columns the analyst endpoints group by.
-- Both extensions are "trusted" (PostgreSQL 13+) and ship with the embedded and the packaged servers.
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- unaccent() is only STABLE (its dictionary could change), so it cannot appear in an index or a generated column.
-- Naming the dictionary and the function by schema makes the result independent of search_path, which is what
-- makes declaring the wrapper IMMUTABLE honest.
CREATE FUNCTION public.immutable_unaccent(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- The folded forms trigram matching compares: lower case, accent-free. Functions, so that the indexes below and
-- the search query (src/search/people-search.ts) cannot drift apart. Inputs are capped: a pathological value must
-- never make a person's write fail or bloat an index.
CREATE FUNCTION public.person_search_name(full_name text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(public.immutable_unaccent(left(coalesce(full_name, ''), 300))) $$;

-- Name and company only: every write of a person re-indexes this text, and trigram indexing costs in proportion to
-- its length (titles roughly doubled it, for typos nobody makes in titles that full-text search misses).
CREATE FUNCTION public.person_search_text(full_name text, company text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(public.immutable_unaccent(left(coalesce(full_name, ''), 300) || ' '
                                              || left(coalesce(company, ''), 300))) $$;

-- A free-text query as an AND of prefix terms ('jo':* & 'smi':*), tokenised exactly as the documents are (same
-- parser, same folding). Lexemes go through the tsquery input syntax quoted, so no user text is ever parsed as an
-- operator. One-letter terms (initials) match whole words only: as prefixes they would match nearly everyone.
-- NULL when the text holds no word at all.
CREATE FUNCTION public.person_search_query(query text) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''''
                      || CASE WHEN length(lexeme) > 1 THEN ':*' ELSE '' END, ' & ')::tsquery
      FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
             lower(public.immutable_unaccent(left(coalesce(query, ''), 300)))))) AS lexeme
  $$;

-- Stored generated columns: computed by PostgreSQL on every write of the row, so no writer has to know about them,
-- and the aggregates read a few narrow columns instead of de-TOASTing every snapshot.
-- Weights: name A, title B, company C, location and skills D ('simple': names are not English words).
ALTER TABLE persons
  ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, public.immutable_unaccent(left(coalesce(full_name, ''), 300))), 'A')
    || setweight(to_tsvector('simple'::regconfig, public.immutable_unaccent(left(coalesce(current_title, ''), 300))), 'B')
    || setweight(to_tsvector('simple'::regconfig, public.immutable_unaccent(left(coalesce(current_company, ''), 300))), 'C')
    || setweight(to_tsvector('simple'::regconfig, public.immutable_unaccent(
         left(coalesce(snapshot ->> 'location', ''), 300) || ' ' || left(coalesce(snapshot ->> 'skills', ''), 2000))), 'D')
  ) STORED,
  -- 1 (Individual Contributor) to 8 (Owner) as the classifier wrote it; NULL for no usable title. Never a cast error.
  ADD COLUMN seniority_level smallint GENERATED ALWAYS AS (
    CASE WHEN snapshot ->> 'seniorityLevel' IN ('1', '2', '3', '4', '5', '6', '7', '8')
         THEN (snapshot ->> 'seniorityLevel')::smallint END
  ) STORED,
  ADD COLUMN department text GENERATED ALWAYS AS (snapshot ->> 'department') STORED;

CREATE INDEX persons_search_vector_idx ON persons USING gin (search_vector) WHERE merged_into IS NULL;
CREATE INDEX persons_search_text_trgm_idx ON persons
  USING gin (public.person_search_text(full_name, current_company) public.gin_trgm_ops)
  WHERE merged_into IS NULL;

-- /api/seniority/by-tier lists a tier most recently seen first. The distribution and the analysis group live people
-- by level with department, company or location: index-only scans of the second index, which also finds one
-- company's leaders (level 5, VP, and up) directly.
CREATE INDEX persons_seniority_recent_idx ON persons (seniority_level, last_observed_at DESC, id)
  WHERE merged_into IS NULL;
CREATE INDEX persons_seniority_groups_idx ON persons (current_company_id, seniority_level, location_id, department)
  WHERE merged_into IS NULL;
