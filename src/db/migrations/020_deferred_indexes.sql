-- Secondary indexes a rebuild dropped while it refills persons and their aliases (issue 4). Each row is written
-- in the transaction that drops the index and deleted once the index is built again, so an interrupted rebuild
-- never loses the definition: the next rebuild (or --resume) builds whatever is still listed here.
CREATE TABLE deferred_indexes (
  name        text        PRIMARY KEY,
  definition  text        NOT NULL,
  deferred_at timestamptz NOT NULL DEFAULT now()
);
