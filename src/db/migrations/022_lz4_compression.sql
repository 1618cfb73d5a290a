-- Snapshots (about 5 KB of JSON with their provenance) and payloads (about 2 KB) are compressed whenever a row is
-- written. pglz, PostgreSQL's default, cost about 30 µs per person written, a fifth of a rebuild's person upsert,
-- and is slower to decompress for every read, query and export. lz4 compresses about as well at a fraction of the
-- cost. Only servers built with lz4 offer it (Debian's and most managed ones do; the embedded binaries do not);
-- elsewhere the columns stay pglz. Existing values keep their compression until they are next written.
DO $$
BEGIN
  IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression')::text[]) THEN
    ALTER TABLE observations ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE persons ALTER COLUMN snapshot SET COMPRESSION lz4;
    ALTER TABLE companies ALTER COLUMN snapshot SET COMPRESSION lz4;
    ALTER TABLE locations ALTER COLUMN snapshot SET COMPRESSION lz4;
    ALTER TABLE merges ALTER COLUMN before_images SET COMPRESSION lz4;
  END IF;
END;
$$;
