-- Exports (and anything else that shows a person's LinkedIn URL) pick the public, else profile, else Sales Navigator
-- URL among the person's aliases. Through person_aliases_person_idx every person cost a visit to the aliases' heap
-- pages, which at 1 000 000 people are scattered over a table much larger than shared_buffers: 40% of an export's
-- database time. This index answers it from the index alone.
CREATE INDEX person_aliases_linkedin_idx ON person_aliases (person_id) INCLUDE (kind, value, display)
 WHERE kind IN ('public_url', 'profile_url', 'sales_url');
