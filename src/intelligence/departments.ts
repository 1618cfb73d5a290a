/**
 * Job-title → department (the twelve departments of the system we replace). Pure; never throws.
 *
 * Input is a title already normalised by `normaliseTitle` in ./seniority (lower case, accents
 * stripped, company suffix removed). First matching rule wins.
 */

export type Department =
  | 'engineering'
  | 'data'
  | 'product'
  | 'design'
  | 'marketing'
  | 'sales'
  | 'customer_success'
  | 'finance'
  | 'hr'
  | 'legal'
  | 'operations'
  | 'consulting';

/** In the reference's matching order. */
export const DEPARTMENTS: readonly Department[] = Object.freeze([
  'engineering',
  'data',
  'product',
  'design',
  'marketing',
  'sales',
  'customer_success',
  'finance',
  'hr',
  'legal',
  'operations',
  'consulting',
] as const);

export interface DepartmentRule {
  readonly pattern: RegExp;
  readonly department: Department;
  readonly label: string;
}

/**
 * Three bands, in order:
 * 1. compound phrases whose department differs from their first keyword
 *    ("Sales Engineer", "Technical Recruiter", "Product Designer", "Data Engineer", C-suite acronyms);
 * 2. the reference's keyword lists in the reference's order, with only the strong engineering words;
 * 3. weak modifiers ("Technology", "Platform", "Software", "IT", "Commercial") that only decide when
 *    nothing else did, so "Technology Sales Director" is sales and "Infrastructure Finance" is finance.
 */
export const DEPARTMENT_RULES: readonly DepartmentRule[] = [
  // 1. Compounds
  {
    pattern: /\b(?:technical|tech|it|engineering|software)\s+recruit/,
    department: 'hr',
    label: 'technical recruiter',
  },
  {
    pattern:
      /\b(?:hr|human resources|hrbp|chro|talent acquisition|chief people officer|learning (?:and|&) development|l\s?&\s?d|organi[sz]ational development)\b|\bpeople\s+(?:operations|ops|partner|analytics|and culture|&\s?culture|team|experience)\b/,
    department: 'hr',
    label: 'hr (compound)',
  },
  {
    pattern: /\bdata\s+(?:protection|privacy)\b|\bgeneral counsel\b|\bclo\b|\bchief legal officer\b/,
    department: 'legal',
    label: 'legal (compound)',
  },
  {
    pattern: /\btechnical\s+account\s+manag/,
    department: 'customer_success',
    label: 'technical account manager',
  },
  {
    pattern:
      /\b(?:sales|solutions?|pre-?sales|presales|field)\s+engineer|\bsales\s+(?:development|operations|ops|enablement)\b|\bbusiness\s+develop|\bbiz\s?dev\b|\brevenue\s+operations\b|\brev\s?ops\b|\baccount\s+(?:executive|manager|director|management)\b|\bkey\s+accounts?\b|\bclient\s+partner|\blead\s+development\s+rep|\bldr\b|\bpartner\s+(?:manager|management|account|development|success)\b|\bchannel\s+partner|\bcro\b|\bchief (?:revenue|commercial|sales) officer\b/,
    department: 'sales',
    label: 'sales (compound)',
  },
  {
    pattern:
      /\b(?:customer|client)\s+(?:success|support|service|services|care|experience)\b|\b(?:technical|it|product)\s+support\b|\bsupport\s+engineer|\b(?:help|service)\s?desk\b|\bcx\b/,
    department: 'customer_success',
    label: 'customer success (compound)',
  },
  {
    pattern:
      /\bproduct\s+market|\bmarketing\s+(?:technology|operations|ops|analytics?|engineer)|\bgrowth\s+market|\bdemand\s+gen|\blead\s+gen|\bcmo\b|\bchief marketing officer\b/,
    department: 'marketing',
    label: 'marketing (compound)',
  },
  { pattern: /\bproduct\s+design/, department: 'design', label: 'product design' },
  {
    pattern:
      /\b(?:data|analytics|bi|ml|mlops|machine learning|ai)\s+(?:engineer|engineering|architect|platform|infrastructure)|\bdata\s+scien|\bmachine\s+learning\b|\bcdo\b|\bchief (?:data|analytics) officer\b/,
    department: 'data',
    label: 'data (compound)',
  },
  {
    pattern:
      /\bfinancial\s+(?:analyst|planning|controller|reporting)\b|\bfp\s?&\s?a\b|\brevenue\s+(?:accountant|accounting|recognition)\b|\bfinance\s+business\s+partner|\bcfo\b|\bchief financial officer\b/,
    department: 'finance',
    label: 'finance (compound)',
  },
  {
    pattern:
      /\b(?:cto|cio|ciso|chief (?:technology|information|information security|digital) officer|information security|cyber\s?security|infosec|computer science)\b|\bcs\s+(?:student|major|graduate|undergrad\w*)\b/,
    department: 'engineering',
    label: 'engineering (compound)',
  },
  {
    pattern: /\b(?:coo|chief operating officer|operating officer)\b/,
    department: 'operations',
    label: 'operations (compound)',
  },
  { pattern: /\b(?:cpo|chief product officer)\b/, department: 'product', label: 'product (compound)' },

  // 2. Reference keyword lists, reference order
  {
    pattern:
      /\b(?:engineers?|engineering|developers?|programmers?|devops|swe|sde|sre|site reliability|back[\s-]?end|front[\s-]?end|full[\s-]?stack|architects?|ingenier[oa]s?|ingenieur(?:in)?|desarrollador(?:a)?|entwickler(?:in)?|developpeu(?:r|se))\b/,
    department: 'engineering',
    label: 'engineering',
  },
  {
    pattern:
      /\b(?:data|datos|donnees|daten|analytics|ml|ai|artificial intelligence|bi|business intelligence|statistician|quantitative)\b/,
    department: 'data',
    label: 'data',
  },
  { pattern: /\b(?:product|pm|producto|produkt|produit)\b/, department: 'product', label: 'product' },
  {
    pattern:
      /\b(?:design|designer|designers|ux|ui|user experience|user interface|creative|graphic|graphics|visual|illustrator|art director|diseno|disenador|disenadora)\b/,
    department: 'design',
    label: 'design',
  },
  {
    pattern:
      /\b(?:marketing|marketer|growth|brand|branding|content|seo|sem|communications?|comms|pr|public relations|social media|mercadeo|mercadotecnia|copywriter)\b/,
    department: 'marketing',
    label: 'marketing',
  },
  {
    pattern:
      /\b(?:sales|salesperson|account executive|ae|bdr|sdr|revenue|inside sales|partnerships?|channel|alliances?|ventas|vendedora?|vertrieb|verkauf|ventes)\b/,
    department: 'sales',
    label: 'sales',
  },
  {
    pattern:
      /\b(?:cs|support|customer|customers|client services|atencion al cliente|kundenservice|kundenbetreuung|service client)\b/,
    department: 'customer_success',
    label: 'customer success',
  },
  {
    pattern:
      /\b(?:finance|financial|finances|finanzas|finanzen|accounting|accountant|controller|controlling|treasury|treasurer|audit|auditor|tax|bookkeeper|bookkeeping|payroll|contabilidad|contadora?|buchhaltung|comptabilite|comptable|investment|credit|underwriter|actuary)\b/,
    department: 'finance',
    label: 'finance',
  },
  {
    pattern:
      /\b(?:hr|human resources|talent|recruiting|recruiter|recruiters|recruitment|recursos humanos|rrhh|ressources humaines|rh|personalwesen|compensation|benefits)\b|\bpeople\b(?!\s+(?:manager|leader|lead|management))/,
    department: 'hr',
    label: 'hr',
  },
  {
    pattern:
      /\b(?:legal|counsel|attorney|attorneys|lawyer|compliance|regulatory|paralegal|solicitor|barrister|juridico|juridica|juridique|abogad[oa]|avocate?|rechtsanwalt|rechtsanwaltin|anwalt|anwaltin|notary|privacy)\b/,
    department: 'legal',
    label: 'legal',
  },
  {
    pattern:
      /\b(?:operations|operation|ops|operaciones|operacoes|supply chain|logistics|logistica|logistik|procurement|purchasing|einkauf|compras|fulfill?ment|warehouse|inventory)\b/,
    department: 'operations',
    label: 'operations',
  },
  {
    pattern:
      /\b(?:consultant|consultants|consulting|advisory|advisor|adviser|consultora?|consultoria|berater|beraterin|beratung|conseil|conseiller|conseillere)\b/,
    department: 'consulting',
    label: 'consulting',
  },

  // 3. Weak modifiers
  {
    pattern:
      /\b(?:software|platform|infrastructure|technical|technology|technologies|tech|it|development|developpement|desarrollo|entwicklung|systems|sistemas|qa|quality assurance|cloud)\b/,
    department: 'engineering',
    label: 'engineering (weak)',
  },
  {
    pattern: /\b(?:commercial|commerciale|comercial|e-?commerce)\b/,
    department: 'sales',
    label: 'sales (weak)',
  },
];

/** The department of a normalised title, or null when no rule matches. */
export function classifyDepartment(normalisedTitle: string): Department | null {
  return DEPARTMENT_RULES.find((rule) => rule.pattern.test(normalisedTitle))?.department ?? null;
}
