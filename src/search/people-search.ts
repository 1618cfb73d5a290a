/**
 * Relevance search over live people: full text (unaccented, prefix terms, weighted name > title > company >
 * location / skills) for recall, trigram word similarity over name and company for typos when the text match
 * finds little.
 *
 * The folding functions, the tsquery builder and the indexes live in migration 005_search.sql; this module
 * must call them exactly as the indexes were built (person_search_text(full_name, current_company)).
 */
import type { Pool } from '../db/pool';
import { tierName } from './seniority';

export interface PeopleSearchRequest {
  query: string;
  limit: number;
  skip: number;
}

export interface PeopleSearchHit {
  id: string;
  fullName: string | null;
  currentTitle: string | null;
  currentCompany: string | null;
  companyId: string | null;
  location: string | null;
  seniorityTier: string | null;
  department: string | null;
  lastObservedAt: string | null;
  /** Higher is better; only comparable within one query. */
  score: number;
}

export interface PeopleSearchResult {
  hits: PeopleSearchHit[];
  hasMore: boolean;
  /** Trigram matching ran because the text match found fewer than `fuzzyBelow` people. */
  fuzzy: boolean;
  /** More people matched than a cap of SearchTuning: the ranking covered a deterministic subset of them. */
  truncated: boolean;
}

export interface SearchTuning {
  /**
   * Whole-word matches and word-prefix matches are each cut at this many before ranking, so a one-word query
   * that matches a fifth of a million people still answers in tens of milliseconds; the ranking then covers a
   * deterministic subset of them, whole words included first ("micro" finds Micro Labs among all of Microsoft).
   */
  lexicalCap: number;
  /**
   * Trigram matching only runs when the text match found fewer people than this (a default page): typos are
   * looked for when the words as typed find little, and names typed right stay cheap.
   */
  fuzzyBelow: number;
  /** Trigram matches are cut at this many (their ranking costs tens of microseconds each). */
  fuzzyCap: number;
}

export const SEARCH_TUNING: Readonly<SearchTuning> = Object.freeze({
  lexicalCap: 1000,
  fuzzyBelow: 20,
  fuzzyCap: 500,
});

/**
 * `word <% text` holds when some extent of text has at least this trigram similarity to the word. Every word
 * must match. "jon" ~ "john" is 0.5 but "smyth" ~ "smith" only 0.33: with two words or more, each may be that
 * far off; a single word must be closer, or it would match a large part of the table.
 */
const WORD_THRESHOLD_ONE_WORD = 0.5;
const WORD_THRESHOLD_SEVERAL_WORDS = 0.3;
/** Shorter words carry too few trigrams to tell typos from noise. */
const MIN_FUZZY_WORD_LENGTH = 3;
const MAX_FUZZY_WORDS = 6;

/** Weights of ts_rank for D (location, skills), C (company), B (title), A (name). */
const RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'";
/** A whole-name similarity worth counting ("jon smyth" ~ "john smith" is 0.31); noise below. */
const NAME_SIMILARITY_FLOOR = 0.3;
/** A name word similarity worth counting ("micro" ~ "microsoft" is 0.83, ~ "michael" only 0.5). */
const NAME_WORDS_FLOOR = 0.6;
/** Titles and companies weigh less, so a weaker likeness may count ("hawthrone" ~ "hawthorne" is 0.5). */
const FIELD_WORDS_FLOOR = 0.5;

const SEARCH_TEXT = 'public.person_search_text(p.full_name, p.current_company)';
const PREFIX_QUERY = 'public.person_search_query($1)';
const EXACT_QUERY = "plainto_tsquery('simple'::regconfig, public.person_search_name($1))";

/** Distinct words long enough for trigram matching, in query order. */
export function fuzzyWords(query: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const word of query.split(/[^\p{L}\p{N}]+/u)) {
    const key = word.toLowerCase();
    if ([...word].length < MIN_FUZZY_WORD_LENGTH || seen.has(key)) continue;
    seen.add(key);
    words.push(word);
  }
  return words.slice(0, MAX_FUZZY_WORDS);
}

/**
 * $1 query, $2 limit + 1, $3 skip, $4.. fuzzy words. A candidate's row is read once, by the CTE that finds it;
 * only the rows of the page are read again, for display.
 *
 * Score, higher first, ties by id:
 * - text matches: 2 + weighted ts_rank of the prefix query (name 1.0 > title 0.4 > company 0.2 > location and
 *   skills 0.1) + the same again when the words match whole (so "micro" puts Micro Labs before Microsoft) + 1
 *   when the whole name is the query. Cheap: no trigram function runs on text matches.
 * - trigram-only matches (typos) stay below 2: the closest of name (whole-name and word similarity), title
 *   (0.4 x word similarity) and company (0.2 x word similarity), each counted only above its noise floor. A
 *   candidate whose every word looked like something but whose whole query resembles no field is dropped.
 */
function searchSql(wordCount: number, tuning: SearchTuning): string {
  const wordConditions = Array.from(
    { length: wordCount },
    (_, index) => `AND public.person_search_name($${index + 4}) <% ${SEARCH_TEXT}`,
  ).join('\n       ');
  const fuzzyWhere =
    wordCount === 0
      ? 'false'
      : `(SELECT count(*) FROM prefixes) < ${tuning.fuzzyBelow}
       AND p.merged_into IS NULL
       ${wordConditions}
       AND NOT coalesce(p.search_vector @@ ${PREFIX_QUERY}, false)`;
  // The same score in both streams, so a person both find is one row of the UNION.
  const lexicalScore = `2 + ts_rank(${RANK_WEIGHTS}, p.search_vector, ${PREFIX_QUERY})::float8
         + CASE WHEN p.search_vector @@ ${EXACT_QUERY}
                THEN ts_rank(${RANK_WEIGHTS}, p.search_vector, ${EXACT_QUERY})::float8 ELSE 0 END
         + CASE WHEN length(p.full_name) = length($1)
                 AND public.person_search_name(p.full_name) = public.person_search_name($1) THEN 1 ELSE 0 END`;
  return `
WITH whole_words AS MATERIALIZED (
  SELECT p.id, ${lexicalScore} AS score
    FROM persons p
   WHERE p.merged_into IS NULL AND p.search_vector @@ ${EXACT_QUERY}
   LIMIT ${tuning.lexicalCap + 1}
), prefixes AS MATERIALIZED (
  SELECT p.id, ${lexicalScore} AS score
    FROM persons p
   WHERE p.merged_into IS NULL AND p.search_vector @@ ${PREFIX_QUERY}
   LIMIT ${tuning.lexicalCap + 1}
), lexical AS (
  SELECT id, score FROM whole_words UNION SELECT id, score FROM prefixes
), fuzzy AS MATERIALIZED (
  SELECT p.id, public.person_search_name(p.full_name) AS name, public.person_search_name(p.current_title) AS title,
         public.person_search_name(p.current_company) AS company
    FROM persons p
   WHERE ${fuzzyWhere}
   LIMIT ${tuning.fuzzyCap + 1}
), fuzzy_features AS MATERIALIZED (
  SELECT id, similarity(name, query)::float8 AS name_similarity, word_similarity(query, name)::float8 AS name_words,
         word_similarity(query, title)::float8 AS title_words,
         word_similarity(query, company)::float8 AS company_words
    FROM fuzzy CROSS JOIN (SELECT public.person_search_name($1) AS query) AS q
), ranked AS (
  SELECT id, score FROM lexical
  UNION ALL
  SELECT id, score
    FROM (SELECT id,
                 greatest(
                   CASE WHEN name_similarity >= ${NAME_SIMILARITY_FLOOR} OR name_words >= ${NAME_WORDS_FLOOR}
                        THEN (name_similarity + name_words) / 2 ELSE 0 END,
                   CASE WHEN title_words >= ${FIELD_WORDS_FLOOR} THEN 0.4 * title_words ELSE 0 END,
                   CASE WHEN company_words >= ${FIELD_WORDS_FLOOR} THEN 0.2 * company_words ELSE 0 END) AS score
            FROM fuzzy_features) AS typo
   WHERE score > 0
   ORDER BY score DESC, id
   LIMIT $2 OFFSET $3
), counts AS (
  SELECT (SELECT count(*) FROM whole_words)::int AS whole_word_count, (SELECT count(*) FROM prefixes)::int AS prefix_count,
         (SELECT count(*) FROM fuzzy)::int AS fuzzy_count
)
SELECT counts.whole_word_count, counts.prefix_count, counts.fuzzy_count, r.score, p.id, p.full_name, p.current_title, p.current_company,
       p.current_company_id, p.snapshot ->> 'location' AS location, p.seniority_level, p.department,
       p.last_observed_at
  FROM counts
  LEFT JOIN ranked r ON true
  LEFT JOIN persons p ON p.id = r.id
 ORDER BY r.score DESC, r.id`;
}

/**
 * Session settings for the one search statement, scoped to its transaction: the trigram threshold of the `<%`
 * conditions; no parallel workers and no synchronised scans, so a capped candidate set is the same subset on
 * every page; no JIT, whose compile time would exceed the query's.
 */
function searchSettings(wordCount: number): string {
  const threshold = wordCount > 1 ? WORD_THRESHOLD_SEVERAL_WORDS : WORD_THRESHOLD_ONE_WORD;
  return `BEGIN READ ONLY;
SET LOCAL pg_trgm.word_similarity_threshold = ${threshold};
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL synchronize_seqscans = off;
SET LOCAL jit = off`;
}

interface SearchRow {
  whole_word_count: number;
  prefix_count: number;
  fuzzy_count: number;
  score: number | null;
  id: string | null;
  full_name: string | null;
  current_title: string | null;
  current_company: string | null;
  current_company_id: string | null;
  location: string | null;
  seniority_level: number | null;
  department: string | null;
  last_observed_at: Date | null;
}

export async function searchPeople(
  pool: Pool,
  request: PeopleSearchRequest,
  tuning: SearchTuning = SEARCH_TUNING,
): Promise<PeopleSearchResult> {
  if (![tuning.lexicalCap, tuning.fuzzyBelow, tuning.fuzzyCap].every(Number.isSafeInteger)) {
    throw new TypeError('search tuning must be whole numbers');
  }
  const words = fuzzyWords(request.query);
  const client = await pool.connect();
  let rows: SearchRow[];
  try {
    await client.query(searchSettings(words.length));
    ({ rows } = await client.query<SearchRow>(searchSql(words.length, tuning), [
      request.query,
      request.limit + 1,
      request.skip,
      ...words,
    ]));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  const counts = rows[0] ?? { whole_word_count: 0, prefix_count: 0, fuzzy_count: 0 };
  const hits = rows.filter((row) => row.id !== null).map(toHit);
  return {
    hits: hits.slice(0, request.limit),
    hasMore: hits.length > request.limit,
    fuzzy: words.length > 0 && counts.prefix_count < tuning.fuzzyBelow,
    truncated:
      [counts.whole_word_count, counts.prefix_count].some((count) => count > tuning.lexicalCap) ||
      counts.fuzzy_count > tuning.fuzzyCap,
  };
}

function toHit(row: SearchRow): PeopleSearchHit {
  return {
    id: row.id!,
    fullName: row.full_name,
    currentTitle: row.current_title,
    currentCompany: row.current_company,
    companyId: row.current_company_id,
    location: row.location,
    seniorityTier: tierName(row.seniority_level),
    department: row.department,
    lastObservedAt: row.last_observed_at?.toISOString() ?? null,
    score: Math.round((row.score ?? 0) * 1e6) / 1e6,
  };
}
