-- Tombstones by survivor. Lookups by merged_into had no index of their own: a merge re-points the tombstones of
-- the entities it absorbs (mergeEntities: UPDATE ... WHERE id = ANY($2) OR merged_into = ANY($2)), a person or
-- company read lists the ids merged into it (merged_from), and rollback-merge finds a survivor's other tombstones.
-- Persons read every tombstone for each (through persons_tombstones_idx), companies the whole table. With these,
-- the merge's OR is a BitmapOr of the primary key and this index.
-- Partial: live entities, nearly all rows, are never looked up by merged_into. Built inside the migration's
-- transaction (not CONCURRENTLY), so writes to the table wait for the build.
CREATE INDEX persons_merged_into_idx ON persons (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX companies_merged_into_idx ON companies (merged_into) WHERE merged_into IS NOT NULL;
