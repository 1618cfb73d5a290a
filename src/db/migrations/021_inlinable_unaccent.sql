-- immutable_unaccent() (migration 005) wraps the STABLE unaccent(). PostgreSQL never inlines an IMMUTABLE SQL
-- function whose body is less than IMMUTABLE, so every call ran as a statement of its own through the SQL-function
-- executor: six per write of a person (the generated search_vector and the trigram index's expression), about a
-- fifth of the cost of inserting one person, and once per row a rebuild upserts.
--
-- unaccent's own C entry point, declared IMMUTABLE under another name, makes the wrapper's body IMMUTABLE, so it is
-- inlined wherever it appears. Same function, same dictionary, same results: nothing indexed or generated changes.
-- Declaring a C function takes a superuser (the embedded server, most self-hosted ones); elsewhere (managed
-- databases) the SQL wrapper stays as it was: correct, only slower.
DO $$
BEGIN
  CREATE FUNCTION public.unaccent_immutable(regdictionary, text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
    AS '$libdir/unaccent', 'unaccent_dict';
  CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $body$ SELECT public.unaccent_immutable('public.unaccent'::regdictionary, $1) $body$;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'immutable_unaccent stays a SQL wrapper: creating a C function needs a superuser';
END;
$$;
