-- Indexes for the analyst query language (POST /api/query/*, exports). Each indexed expression is written
-- exactly as src/query/catalogue.ts writes the field, so the planner can match the two: keep them in step.
-- pg_trgm is a trusted extension (PostgreSQL 13+) shipped with the embedded and the packaged servers.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- currentTitle: $regex (case-sensitive or not) and equality on live people, through trigrams.
CREATE INDEX persons_query_title_trgm_idx ON persons USING gin (current_title public.gin_trgm_ops)
  WHERE merged_into IS NULL;

-- countryCode / country equality, already in the default order (lastObservedAt, then id): a page of one
-- country is a short backward range scan, and a cursor continues the scan where the last page stopped.
CREATE INDEX persons_query_country_code_idx ON persons ((snapshot ->> 'countryCode'), last_observed_at, id)
  WHERE merged_into IS NULL;
CREATE INDEX persons_query_country_idx ON persons ((snapshot ->> 'country'), last_observed_at, id)
  WHERE merged_into IS NULL;

-- Companies in the default order (companies are written by the background refresher, off the request path).
CREATE INDEX companies_query_recent_idx ON companies (last_observed_at, id) WHERE merged_into IS NULL;

-- Statistics on the indexed expressions (a partial index's own statistics are not used by the planner). They
-- make row estimates right for country filters, which picks the right plan and gives an honest totalCount
-- estimate when counting exactly would take too long.
CREATE STATISTICS persons_query_country_code_stats ON ((snapshot ->> 'countryCode')) FROM persons;
CREATE STATISTICS persons_query_country_stats ON ((snapshot ->> 'country')) FROM persons;
