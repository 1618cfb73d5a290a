export type { PeopleSearchHit, PeopleSearchRequest, PeopleSearchResult, SearchTuning } from './people-search';
export { fuzzyWords, SEARCH_TUNING, searchPeople } from './people-search';
export type {
  AnalysisOptions,
  PersonSummary,
  SeniorityAnalysis,
  SeniorityDistribution,
  TierPage,
} from './seniority';
export {
  LEADER_MIN_LEVEL,
  parseTier,
  peopleInTier,
  seniorityAnalysis,
  seniorityDistribution,
  tierName,
} from './seniority';
