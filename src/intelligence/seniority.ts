/**
 * Job-title → seniority tier (eight tiers) and department (twelve departments). Pure; never throws.
 *
 * Pipeline: normalise (case, accents, dotted acronyms, dashes, company after "@"/" at ") → reject
 * placeholders → apply TIER_MASKS (neutralise known false positives, some of which name a tier of
 * their own) → TIER_RULES (highest tier first) → In-Training override → default Individual Contributor.
 */
import { memoiseByString } from '../memoise';
import { classifyDepartment, DEPARTMENTS } from './departments';
import type { Department } from './departments';

export { DEPARTMENTS };
export type { Department };

export type SeniorityTierName =
  'Owner' | 'CXO' | 'SVP' | 'VP' | 'Managing Director' | 'Manager' | 'In Training' | 'Individual Contributor';

export type SeniorityLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface SeniorityTier {
  level: SeniorityLevel;
  name: SeniorityTierName;
  description: string;
  examples: string[];
}

export interface TitleClassification {
  level: number | null;
  tier: SeniorityTierName | null;
  department: Department | null;
  /** Label of the rule that decided; null when the title fell through to the default (or was unusable). */
  matched: string | null;
}

const TIERS: SeniorityTier[] = [
  {
    level: 8,
    name: 'Owner',
    description: 'Founders, owners and equity partners of a firm',
    examples: ['Founder & CEO', 'Co-Founder', 'Owner', 'Managing Partner', 'Partner', 'Sole Proprietor'],
  },
  {
    level: 7,
    name: 'CXO',
    description: 'C-suite officers, company presidents and chairs',
    examples: ['CEO', 'Chief Technology Officer', 'President', 'Chairman', 'Directeur Général'],
  },
  {
    level: 6,
    name: 'SVP',
    description: 'Senior and executive vice presidents, general managers',
    examples: ['SVP of Sales', 'Executive Vice President', 'EVP, Sales', 'General Manager'],
  },
  {
    level: 5,
    name: 'VP',
    description: 'Vice presidents and heads of a function',
    examples: ['VP Engineering', 'Assistant Vice President', 'RVP Sales', 'Head of Data Science'],
  },
  {
    level: 4,
    name: 'Managing Director',
    description: 'Managing and executive directors who run an entity or business unit',
    examples: ['Managing Director', 'MD, Investment Banking', 'Executive Director', 'Geschäftsführer'],
  },
  {
    level: 3,
    name: 'Manager',
    description: 'People managers, directors, team leads and supervisors',
    examples: ['Engineering Manager', 'Sr. Director of Marketing', 'Team Lead', 'Supervisor', 'Gerente'],
  },
  {
    level: 2,
    name: 'In Training',
    description: 'Interns, trainees, apprentices, students and graduates',
    examples: ['Software Engineering Intern', 'MBA Candidate', 'Graduate Trainee', 'Apprentice'],
  },
  {
    level: 1,
    name: 'Individual Contributor',
    description: 'Everyone else, including senior, staff and principal individual contributors',
    examples: ['Senior Software Engineer', 'Account Executive', 'Product Owner', 'Executive Assistant'],
  },
];
/** Highest first. */
export const SENIORITY_TIERS: readonly SeniorityTier[] = Object.freeze(TIERS);

const LEVEL_OF: Readonly<Record<SeniorityTierName, SeniorityLevel>> = {
  Owner: 8,
  CXO: 7,
  SVP: 6,
  VP: 5,
  'Managing Director': 4,
  Manager: 3,
  'In Training': 2,
  'Individual Contributor': 1,
};

/** LinkedIn caps titles at 100 characters and headlines at 220; anything longer is noise. */
const MAX_TITLE_LENGTH = 300;

const C_SUITE =
  'ceo|cfo|cto|coo|cmo|cio|ciso|cro|cpo|cdo|cco|clo|chro|cso|cao|cbo|cno|cxo|cgo|cpto|cino|cvo|csco';

const SENIOR_ROLE = `${C_SUITE}|president|chairman|chairwoman|chair|co-?founders?|founders?|owners?|managing director|md|partners?|vp|svp|evp|vice president|general manager|gm|executive director|directors?|managers?|board|chief executive|principal|head of [a-z]+`;

/** Plurals only: "helping founders" names an audience, "Founder" names the person. */
const AUDIENCE = `(?:(?:${C_SUITE}|co-?founder|founder|owner|executive|leader|partner|president|vp|entrepreneur|director|manager)s|c-suite)\\b`;

/** Words that, in a medical title, make "MD" the degree rather than Managing Director. */
const MEDICAL_CONTEXT =
  /\b(?:physician|doctor|dr|surgeon|surgery|surgical|medicine|medical|clinic|clinical|hospital|hospitalist|resident|residency|attending|internist|nurse|patient|cardiolog\w*|oncolog\w*|neurolog\w*|radiolog\w*|dermatolog\w*|gastroenterolog\w*|patholog\w*|urolog\w*|nephrolog\w*|endocrinolog\w*|hematolog\w*|ophthalmolog\w*|gyna?ecolog\w*|obstetric\w*|ana?esthesi\w*|psychiatr\w*|pa?ediatr\w*|orthopa?edic\w*|pulmonolog\w*|rheumatolog\w*|immunolog\w*|neonatolog\w*|emergency medicine|family practice|primary care|ob\/gyn|obgyn)\b/;

const MEDICAL_CREDENTIAL =
  'phd|mph|mba|ms|msc|mbbs|facc|facs|facp|faap|frcpc?|dabr|faafp|mhs|mha|mmsc|dds|dmd|do|dr';

interface TierMask {
  /** Global; every match is blanked out before TIER_RULES run. */
  readonly pattern: RegExp;
  /** The tier the masked phrase itself stands for, or null when it only neutralises words. */
  readonly tier: SeniorityTierName | null;
  readonly label: string;
  /** The mask only applies when this also matches the (partly masked) title. */
  readonly when?: RegExp;
}

interface TierRule {
  readonly pattern: RegExp;
  readonly tier: SeniorityTierName;
  readonly label: string;
}

/** Ordered: earlier masks see the text before later ones. */
const TIER_MASKS: readonly TierMask[] = [
  {
    pattern:
      /\b(?:former(?:ly)?|ex|previously|past|retired|aspiring|future|wannabe|seeking|looking for|open to)\b[\s-]+[^|,;()]*/g,
    tier: null,
    label: 'former or aspiring role',
  },
  // "Assistant to the CEO", "Chief of Staff to the Founder", "Office of the President".
  {
    pattern: new RegExp(
      `\\b(?:to|office of)\\s+(?:the\\s+)?(?:[a-z&-]+\\s+){0,2}?(?:${SENIOR_ROLE})s?\\b`,
      'g',
    ),
    tier: null,
    label: 'reports to a senior role',
  },
  // LinkedIn headlines name their audience: "Helping SaaS founders scale", "Executive Coach for CEOs".
  {
    pattern: new RegExp(
      `\\b(?:help|helps|helping|empower\\w*|support|supports|supporting|serve|serves|serving|coach|coaches|coaching|advise|advises|advising|mentor|mentors|mentoring|for|with)\\s+(?:[a-z&-]+\\s+){0,3}?${AUDIENCE}(?:\\s*(?:,|&|and|or|/)\\s*(?:[a-z-]+\\s+){0,2}?${AUDIENCE})*`,
      'g',
    ),
    tier: null,
    label: 'audience of the role',
  },
  // "CEO Coach", "CRO Project Manager" (contract research organisation), "CLO Analyst" (loan obligations).
  {
    pattern: new RegExp(
      `\\b(?:${C_SUITE})s?\\s+(?=(?:assistant|coach|coaching|advisor|adviser|office|search|recruiter|recruitment|analyst|associate|portfolio|trader|trading|structuring|liaison|specialist|coordinator|project|programs?|operations|oversight|management|manager|lead|quality|services|support|staff|succession|desk|team|relations|communications|forum|roundtable|peer|network)\\b)`,
      'g',
    ),
    tier: null,
    label: 'C-suite acronym used as a modifier',
  },
  {
    pattern:
      /\bfounders?\s+(?:associate|office|assistant|programs?|programmes?|relations|success|community|fellows?|network|coach|advisor)\b/g,
    tier: 'Individual Contributor',
    label: "founder's associate",
  },
  {
    pattern:
      /\b(?:product|process|service|system|systems|data|application|app|technical|tech|content|platform|solution|solutions|feature|risk|control|controls|budget|case|journey|relationship|project|program|programme|asset|incident|change|release|domain|area|capability|policy|requirements?|model|information|value stream)[\s-]+owners?\b|\bowners?\s+(?:rep|reps|representative|representatives|relations)\b/g,
    tier: 'Individual Contributor',
    label: 'product owner (functional role)',
  },
  // "HR Business Partner", "Client Partner", "Talent Acquisition Partner", "Channel Partner".
  {
    pattern:
      /\b(?:business|people|talent|client|account|sales|channel|success|customer|strategic|alliances?|technology|tech|implementation|solutions?|learning|finance|financial|acquisition|recruiting|recruitment|growth|marketing|integration|reseller|referral|ecosystem|platform|cloud|thinking|delivery|care|retail|community|agency|vendor|supplier|trusted|distribution|program|programme|training|development|service|services|culture|engagement|transformation|innovation|enablement|hr)[\s-]+partners?\b/g,
    tier: 'Individual Contributor',
    label: 'business partner (functional role)',
  },
  // "Partner Manager", "Partner Marketing Lead", "Partner Solutions Architect".
  {
    pattern:
      /\bpartners?\s+(?=(?:manager|managers|management|marketing|development|success|account|accounts|sales|engineer|engineering|solutions?|programs?|programme|operations|ops|ecosystem|enablement|relations|relationship|alliances?|channel|network|integrations?|support|specialist|executive|director|lead|leader|onboarding|strategy|experience|technical|technology|business|acquisition|recruiter|recruiting|insights?|services|training|portal|team|coordinator|consultant|architect|analyst|growth|lifecycle|strategist|communications|community)\b)/g,
    tier: null,
    label: 'partner used as a modifier',
  },
  {
    pattern:
      /\blead\s+(?=(?:gen|generation|generator|generators|qualification|qualifier|nurture|nurturing|scoring|routing|capture|conversion|management|acquisition|sourcing|intake|development\s+rep\w*)\b)/g,
    tier: 'Individual Contributor',
    label: 'lead generation',
  },
  // "Lead Software Engineer" is the senior IC rung; "Team Lead" / "Engineering Lead" lead people.
  {
    pattern:
      /(?<!\b(?:team|tech|technical)\s)\blead\s+(?=(?:[a-z-]+\s+){0,2}?(?:engineer|developer|designer|analyst|architect|scientist|consultant|specialist|programmer|researcher|writer|copywriter|auditor|accountant|technician|recruiter|investigator|generalist|counsel|attorney|tester|artist|animator)s?\b)/g,
    tier: 'Individual Contributor',
    label: 'lead (senior individual contributor)',
  },
  { pattern: /\bchief\s+of\s+staff\b/g, tier: 'Manager', label: 'chief of staff' },
  {
    pattern: /\bchief\s+(?:petty|warrant|master)\s+officer\b/g,
    tier: 'Individual Contributor',
    label: 'military chief',
  },
  {
    pattern: /\bdirector\s+of\s+(?:first\s+impressions|photography)\b|\b(?:funeral|casting)\s+director\b/g,
    tier: 'Individual Contributor',
    label: 'director (occupation, not rank)',
  },
  // Governance seats, not line seniority: "Member Board of Directors" and "Director of the Board" alike.
  {
    pattern:
      /\b(?:non[\s-]?executive|independent|outside|board)\s+directors?\b|\b(?:members?\s+)?(?:of\s+)?(?:the\s+)?board\s+of\s+(?:directors|trustees|governors|advisors|advisers)\b|\bdirectors?\s+of\s+the\s+board\b|\b(?:advisory\s+)?board\s+(?:members?|advisors?|advisers?|observer|trustee)\b|\badvisory\s+board\b|\btrustee\b/g,
    tier: 'Individual Contributor',
    label: 'board role',
  },
  {
    pattern: /\b(?:assistant|asst)\s+(?:general\s+manager|gm)\b/g,
    tier: 'Manager',
    label: 'assistant general manager',
  },
  { pattern: /\bhead\s*hunter\b/g, tier: 'Individual Contributor', label: 'headhunter' },
  {
    pattern:
      /\bhead\s+(?:coach|chef|cook|nurse|teacher|baker|bartender|barista|gardener|groundskeeper|lifeguard|waiter|server|cashier|custodian|counselor|counsellor|trainer|instructor|mechanic|brewer|winemaker|pastor|guard)\b/g,
    tier: 'Manager',
    label: 'head (trade)',
  },
  {
    pattern:
      /\b(?:student|class|chapter|club|fraternity|sorority|alumni|council|school)\s+(?:body\s+)?president\b/g,
    tier: 'Individual Contributor',
    label: 'organisation president',
  },
  { pattern: /\b(?:presidents|chairmans)\s+club\b/g, tier: null, label: "president's club award" },
  { pattern: /\b(?:of|for)\s+(?:the\s+)?students\b/g, tier: null, label: 'serves students (not a student)' },
  // "Intern Manager", "Student Success Manager", "Graduate Recruitment Lead": the trainee is the audience.
  {
    pattern:
      /\b(?:interns?|internships?|trainees?|traineeships?|apprentices?|apprenticeships?|graduates?|students?|campus|early\s+careers?|co-?op)\s+(?=(?:programs?|programmes?|recruit\w*|hiring|admissions?|affairs|services|success|life|experience|engagement|housing|enrol?lment|relations|development|outreach|coordinator|manager|director|lead|mentor|supervisor|marketing|advisor|adviser|advising|counselor|counsellor|support|records|finance|loans?|accounts|retention|activities|programming|talent)\b)/g,
    tier: null,
    label: 'trainee programme (audience, not rank)',
  },
  { pattern: /\bmd\s+anderson\b/g, tier: null, label: 'MD Anderson (hospital)' },
  {
    pattern: new RegExp(
      `\\bmd(?=[\\s,/&-]+(?:${MEDICAL_CREDENTIAL}|candidate|student|program|programme)\\b)|(?<=\\b(?:${MEDICAL_CREDENTIAL})[\\s,/&-]+)md\\b`,
      'g',
    ),
    tier: 'Individual Contributor',
    label: 'MD (medical degree)',
  },
  {
    pattern: /\bmd\b/g,
    tier: 'Individual Contributor',
    label: 'MD (medical degree)',
    when: MEDICAL_CONTEXT,
  },
  // "Jane Doe, MD": a trailing post-nominal.
  { pattern: /,\s*md\s*$/g, tier: 'Individual Contributor', label: 'MD (medical degree)' },
];

/** Highest tier first; within the masked title the first match wins. */
const TIER_RULES: readonly TierRule[] = [
  { pattern: /\b(?:co[\s-]?)?founders?\b/, tier: 'Owner', label: 'founder' },
  {
    pattern:
      /\b(?:co-?)?(?:fundador|fundadora|fondateur|fondatrice)\b|\b(?:mit)?(?:be)?gr(?:u|ue)nder(?:in)?\b|\boprichter\b/,
    tier: 'Owner',
    label: 'founder (non-English)',
  },
  {
    pattern:
      /\b(?:co[\s-]?)?owners?\b|\bproprietor\b|\b(?:inhaber|inhaberin|eigentumer|eigentuemer|eigentumerin|eigenaar|propietari[oa]|proprietaire|proprietari[oa]|duen[oa]|titolare)\b/,
    tier: 'Owner',
    label: 'owner',
  },
  { pattern: /\bmanaging\s+(?:partner|member)\b/, tier: 'Owner', label: 'managing partner' },
  {
    pattern: /\bpartners?\b|\b(?:socio|socia|gesellschafter|gesellschafterin|associee?)\b/,
    tier: 'Owner',
    label: 'partner',
  },
  { pattern: /\b(?:entrepreneur|solopreneur)\b/, tier: 'Owner', label: 'entrepreneur' },

  { pattern: /\bchief\s+executive\b/, tier: 'CXO', label: 'chief executive' },
  { pattern: /\bchief\s+(?:[a-z&-]+\s+){1,4}?officer\b/, tier: 'CXO', label: 'chief … officer' },
  {
    pattern: new RegExp(`\\b(?:${C_SUITE})s?\\b|\\bc-(?:level|suite)\\b`),
    tier: 'CXO',
    label: 'C-suite acronym',
  },
  {
    pattern: /(?<!\bvice[\s-]?)\b(?:president|presidente|presidenta)\b/,
    tier: 'CXO',
    label: 'president',
  },
  {
    pattern:
      /(?<!\bvice[\s-]?)\b(?:chairman|chairwoman|chairperson|(?:board|executive)\s+chair|chair\s+of\s+the\s+board)\b/,
    tier: 'CXO',
    label: 'chair',
  },
  {
    pattern:
      /\b(?:directeur general|directrice generale|director general|directora general|pdg|amministratore delegato|vorstand|vorstandsvorsitzender?|vorstandsmitglied)\b/,
    tier: 'CXO',
    label: 'chief executive (non-English)',
  },

  {
    pattern: /\b(?:svp|evp|(?:senior|sr|executive|exec)\s+(?:vice[\s-]?president|vp))\b/,
    tier: 'SVP',
    label: 'senior/executive vice president',
  },
  { pattern: /\bvice[\s-]?chair(?:man|woman|person)?\b/, tier: 'SVP', label: 'vice chair' },
  { pattern: /\b(?:general\s+manager|gm|gerente\s+general)\b/, tier: 'SVP', label: 'general manager' },

  {
    pattern: /\b(?:vice[\s-]?president[ea]?|vicepresident[ea]?|vp|avp|rvp|gvp)s?\b/,
    tier: 'VP',
    label: 'vice president',
  },
  { pattern: /\bhead\s+of\b/, tier: 'VP', label: 'head of' },
  // "Head, Sales", "Sales Head", "Head - EMEA": head as the title's noun.
  { pattern: /\bhead\b(?=\s*(?:$|[|,;:/&()-]))/, tier: 'VP', label: 'head (of function)' },
  { pattern: /\bbereichsleiter(?:in)?\b/, tier: 'VP', label: 'head of division (German)' },

  { pattern: /\bmanaging\s+dir(?:ector)?s?\b/, tier: 'Managing Director', label: 'managing director' },
  // Only at the start of a title segment, so a name's post-nominal ("John Smith MD") never counts.
  {
    pattern:
      /(?:^|[|,;:/&(+]|\s-\s|\band\s)\s*(?:(?:senior|sr|executive|deputy|associate|group|regional|country|global)\s+)?md\b/,
    tier: 'Managing Director',
    label: 'MD (managing director)',
  },
  { pattern: /\bexecutive\s+directors?\b/, tier: 'Managing Director', label: 'executive director' },
  {
    pattern: /\b(?:geschaftsfuhrer(?:in)?|geschaeftsfuehrer(?:in)?|gerant|gerante)\b/,
    tier: 'Managing Director',
    label: 'managing director (non-English)',
  },

  {
    pattern:
      /\b(?:team|tech|technical|engineering|group|shift|squad|project|program|practice|tribe|chapter|site|store|area|section|unit)\s+(?:lead|leader|head)s?\b/,
    tier: 'Manager',
    label: 'team lead',
  },
  { pattern: /\b(?:manager|managers|mgr|mngr)\b/, tier: 'Manager', label: 'manager' },
  {
    pattern: /\b(?:supervisor|superintendent|foreman|forewoman|foreperson)\b/,
    tier: 'Manager',
    label: 'supervisor',
  },
  {
    pattern:
      /\b(?:director|directors|dir|directora|directeur|directrice|diretor|diretora|direttore|direttrice|direktor|direktorin)\b/,
    tier: 'Manager',
    label: 'director',
  },
  { pattern: /\blead\b/, tier: 'Manager', label: 'lead' },
  {
    pattern:
      /\b(?:gerente|jefe|jefa|responsable|responsabile|leiter|leiterin|teamleiter|teamleiterin|abteilungsleiter|abteilungsleiterin)\b|\bchef\s+d(?:e|u|es)?\s*(?:projet|produit|equipe|service|departement|mission|rayon)\b/,
    tier: 'Manager',
    label: 'manager (non-English)',
  },

  {
    pattern:
      /\b(?:senior|sr|staff|principal|junior|jr|associate|analyst|specialist|coordinator|consultant|engineer|developer|designer|architect|scientist|representative|executive|assistant|officer|administrator|technician|advisor|adviser|accountant|recruiter|nurse|teacher|professor)s?\b/,
    tier: 'Individual Contributor',
    label: 'individual contributor role',
  },
];

/** Any of these makes the title In Training unless something above Manager also matched. */
const TRAINING_RULES: readonly TierRule[] = [
  {
    pattern:
      /\b(?:interns?|internship|trainees?|apprentice|apprenticeship|co-?op|in\s+training|werkstudent(?:in)?|working\s+student|praktikant(?:in)?|auszubildende[rn]?|azubi|stagiaire|alternante?|becari[oa]|pasante|practicante|estagiari[oa]|tirocinante)\b/,
    tier: 'In Training',
    label: 'intern/trainee',
  },
  {
    pattern:
      /\b(?:students?|graduate|graduates|entry[\s-]?level|resident\s+physician|residency)\b|\b(?:mba|phd|doctoral|masters?|msc|ms|jd|bachelors?|bsc|cpa|cfa|md|degree)\s+candidate\b|\bcandidate\s*$/,
    tier: 'In Training',
    label: 'student/graduate',
  },
];

/** Normalised forms (letters and single spaces only) of values that are not titles. */
const PLACEHOLDER_TITLES: ReadonlySet<string> = new Set([
  'na',
  'n a',
  'none',
  'null',
  'nil',
  'nan',
  'undefined',
  'unknown',
  'tbd',
  'tba',
  'test',
  'xx',
  'xxx',
  'title',
  'job title',
  'no title',
  'untitled',
  'not specified',
  'not applicable',
  'position',
  'lorem ipsum',
]);

/**
 * Lower case, accent-free, punctuation reduced to separators (`| , ; : / & ( ) -`), and the company
 * named after "@", " at ", " bei " or " chez " removed from each `|`-separated segment.
 */
export function normaliseTitle(raw: string): string {
  const text = raw
    .slice(0, MAX_TITLE_LENGTH)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/&amp;/g, '&')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'")
    .replace(/https?:\/\/\S+|www\.\S+|\S+@\S+\.[a-z]{2,}\S*/g, ' ')
    .replace(/\bm\.\s?d\.?(?=\s|,|$)/g, ' doctor of medicine ')
    .replace(/\bph\.\s?d\b\.?/g, 'phd')
    .replace(/\b(?:[a-z]\.){2,}/g, (acronym) => acronym.replace(/\./g, ''))
    .replace(/'s\b/g, 's')
    .replace(/[·•|;]+/g, ' | ')
    .replace(/[^a-z0-9&@|,/():\s-]+/g, ' ')
    .replace(/\s+/g, ' ');
  return stripCompany(text).replace(/\s+/g, ' ').trim();
}

function stripCompany(text: string): string {
  return text.replace(/(?:\s*@|\s(?:at|bei|chez)\s)[^|]*/g, ' ');
}

function isPlaceholder(normalised: string): boolean {
  const lettersOnly = normalised.replace(/[^a-z]+/g, ' ').trim();
  return lettersOnly.replace(/ /g, '').length < 2 || PLACEHOLDER_TITLES.has(lettersOnly);
}

interface Candidate {
  readonly tier: SeniorityTierName;
  readonly label: string;
}

/** Blanks out every mask's matches; masks that stand for a tier become candidates. */
function applyMasks(text: string): { masked: string; candidates: Candidate[] } {
  const candidates: Candidate[] = [];
  let masked = text;
  for (const mask of TIER_MASKS) {
    if (mask.when !== undefined && !mask.when.test(masked)) continue;
    const next = masked.replace(mask.pattern, ' ');
    if (next !== masked && mask.tier !== null) candidates.push({ tier: mask.tier, label: mask.label });
    masked = next;
  }
  return { masked, candidates };
}

function firstMatch(rules: readonly TierRule[], text: string): Candidate | undefined {
  return rules.find((rule) => rule.pattern.test(text));
}

/** Highest level wins; ties go to the earliest candidate. */
function mostSenior(candidates: readonly Candidate[]): Candidate | undefined {
  return candidates.reduce<Candidate | undefined>(
    (best, candidate) =>
      best === undefined || LEVEL_OF[candidate.tier] > LEVEL_OF[best.tier] ? candidate : best,
    undefined,
  );
}

function decideTier(normalised: string): Candidate | undefined {
  const { masked, candidates } = applyMasks(normalised);
  const ruled = firstMatch(TIER_RULES, masked);
  const best = mostSenior(ruled === undefined ? candidates : [...candidates, ruled]);
  const training = firstMatch(TRAINING_RULES, masked);
  // "Product Manager Intern" is an intern; "Founder | MBA Candidate" is still a founder.
  if (training !== undefined && (best === undefined || LEVEL_OF[best.tier] <= LEVEL_OF.Manager)) {
    return training;
  }
  return best;
}

/** Tier, level and department of a job title. Null tier only for non-strings, empty and placeholder titles. */
export function classifyTitle(title: unknown): TitleClassification {
  return typeof title === 'string' ? classifyTitleText(title) : unclassified();
}

const classifyTitleText = memoiseByString((title: string): TitleClassification => {
  const normalised = normaliseTitle(title);
  if (isPlaceholder(normalised)) return unclassified();
  const decided = decideTier(normalised);
  const tier = decided?.tier ?? 'Individual Contributor';
  return {
    level: LEVEL_OF[tier],
    tier,
    department: classifyDepartment(normalised),
    matched: decided?.label ?? null,
  };
});

function unclassified(): TitleClassification {
  return { level: null, tier: null, department: null, matched: null };
}

/** Positive when `after` is more senior than `before`; 0 when equal or either title is unusable. */
export function compareSeniority(before: unknown, after: unknown): number {
  const from = classifyTitle(before).level;
  const to = classifyTitle(after).level;
  return from === null || to === null ? 0 : to - from;
}
