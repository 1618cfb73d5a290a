import { classifyTitle, compareSeniority, DEPARTMENTS, SENIORITY_TIERS } from '../src/intelligence/seniority';
import type { Department, SeniorityTierName } from '../src/intelligence/seniority';

type Row = readonly [title: string, tier: SeniorityTierName, department: Department | null];

const FALSE_POSITIVES: readonly Row[] = [
  // "Product Owner" is a scrum role, not an owner of the business.
  ['Product Owner', 'Individual Contributor', 'product'],
  ['Senior Product Owner', 'Individual Contributor', 'product'],
  ['Technical Product Owner', 'Individual Contributor', 'product'],
  ['Product-Owner', 'Individual Contributor', 'product'],
  ['PO / Product Owner', 'Individual Contributor', 'product'],
  ['Product Owner / Scrum Master', 'Individual Contributor', 'product'],
  ['Product Owner II', 'Individual Contributor', 'product'],
  ['Business Process Owner', 'Individual Contributor', null],
  ["Owner's Representative", 'Individual Contributor', null],
  // "HR Business Partner" and other functional partners.
  ['HR Business Partner', 'Individual Contributor', 'hr'],
  ['Senior HR Business Partner', 'Individual Contributor', 'hr'],
  ['Human Resources Business Partner', 'Individual Contributor', 'hr'],
  ['HR Business Partner (HRBP)', 'Individual Contributor', 'hr'],
  ['Finance Business Partner', 'Individual Contributor', 'finance'],
  ['Senior Talent Acquisition Partner', 'Individual Contributor', 'hr'],
  ['Senior People Business Partner', 'Individual Contributor', 'hr'],
  ['Client Partner', 'Individual Contributor', 'sales'],
  ['Channel Partner', 'Individual Contributor', 'sales'],
  ['Business Partner', 'Individual Contributor', null],
  // "Chief of Staff" is not a C-suite officer.
  ['Chief of Staff', 'Manager', null],
  ['Chief of Staff to the CEO', 'Manager', null],
  ['Chief of Staff, Office of the CEO', 'Manager', null],
  ['Chief Of Staff | Operations', 'Manager', 'operations'],
  ['VP, Chief of Staff', 'VP', null],
  ['Chief of Staff & Head of Strategy', 'VP', null],
  // The same words where they do name the rank.
  ['Chief Medical Officer', 'CXO', null],
  ['MD | Investment Banking', 'Managing Director', 'finance'],
  ['Partner, Deloitte', 'Owner', null],
  ['Owner, Acme Plumbing', 'Owner', null],
  // "MD" as a medical degree.
  ['John Smith MD, Cardiologist', 'Individual Contributor', null],
  ['Physician, MD', 'Individual Contributor', null],
  ['Jane Doe, MD', 'Individual Contributor', null],
  ['MD, PhD', 'Individual Contributor', null],
  ['John Smith, MD, FACC', 'Individual Contributor', null],
  ['Pediatrician MD', 'Individual Contributor', null],
  ['MD, Internal Medicine', 'Individual Contributor', null],
  ['Anesthesiologist, MD', 'Individual Contributor', null],
  ['Staff Physician MD', 'Individual Contributor', null],
  ['Dr. Jane Roe, M.D.', 'Individual Contributor', null],
  ['Nurse at MD Anderson', 'Individual Contributor', null],
  ['MD Candidate', 'In Training', null],
  ['MD/PhD Student', 'In Training', null],
  // "Lead" as in sales leads.
  ['Lead Generation Specialist', 'Individual Contributor', 'marketing'],
  ['Lead Gen Specialist', 'Individual Contributor', 'marketing'],
  ['Lead Generation Expert', 'Individual Contributor', 'marketing'],
  ['B2B Lead Generation', 'Individual Contributor', 'marketing'],
  ['Lead Generation Specialist @ Acme', 'Individual Contributor', 'marketing'],
  ['Lead Development Representative', 'Individual Contributor', 'sales'],
  ['Lead Generation Manager', 'Manager', 'marketing'],
  // "Partner Manager" manages partners.
  ['Partner Manager', 'Manager', 'sales'],
  ['Senior Partner Manager', 'Manager', 'sales'],
  ['Strategic Partner Manager', 'Manager', 'sales'],
  ['Partner Manager, EMEA', 'Manager', 'sales'],
  ['Channel Partner Manager', 'Manager', 'sales'],
  ['Partner Development Manager', 'Manager', 'sales'],
  ['Partner Account Manager', 'Manager', 'sales'],
  ['Partner Success Manager', 'Manager', 'sales'],
  ['Partner Marketing Lead', 'Manager', 'marketing'],
  ['Partner Engineer', 'Individual Contributor', 'engineering'],
  // Board seats are one thing, whichever way they are written.
  ['Member Board of Directors', 'Individual Contributor', null],
  ['Director of the Board', 'Individual Contributor', null],
  ['Non-Executive Director', 'Individual Contributor', null],
  ['Board Member', 'Individual Contributor', null],
];

const OWNER: readonly Row[] = [
  ['Founder & CEO', 'Owner', null],
  ['CEO & Founder', 'Owner', null],
  ['Founder | CTO', 'Owner', 'engineering'],
  ['CTO & Co-founder', 'Owner', 'engineering'],
  ['Co-Founder', 'Owner', null],
  ['Cofounder', 'Owner', null],
  ['Co Founder', 'Owner', null],
  ['Founder, CEO', 'Owner', null],
  ['CEO | Founder | Speaker', 'Owner', null],
  ['Founder | Harvard MBA Candidate', 'Owner', null],
  ['Founder helping founders', 'Owner', null],
  ['Head of Growth at Acme | Founder at XYZ', 'Owner', 'marketing'],
  ['Owner', 'Owner', null],
  ['Small Business Owner', 'Owner', null],
  ['Co-Owner', 'Owner', null],
  ['Franchise Owner', 'Owner', null],
  ['Owner/Operator', 'Owner', null],
  ['Owner & Principal', 'Owner', null],
  ['Sole Proprietor', 'Owner', null],
  ['Partner', 'Owner', null],
  ['Senior Partner', 'Owner', null],
  ['Managing Partner', 'Owner', null],
  ['Partner, Corporate Law', 'Owner', null],
  ['Partner, Tax', 'Owner', 'finance'],
  ['Partner at Deloitte', 'Owner', null],
  ['General Partner', 'Owner', null],
  ['Founding Partner', 'Owner', null],
  ['Managing Director & Partner', 'Owner', null],
  ['Fundadora & CEO', 'Owner', null],
  ['Dueño', 'Owner', null],
  ['Inhaber', 'Owner', null],
  ['Geschäftsführender Gesellschafter', 'Owner', null],
  ['Socio Director', 'Owner', null],
];

const CXO: readonly Row[] = [
  ['CEO', 'CXO', null],
  ['ceo', 'CXO', null],
  ['Cto', 'CXO', 'engineering'],
  ['C.E.O.', 'CXO', null],
  ['Chief Executive Officer', 'CXO', null],
  ['Chief Technology Officer', 'CXO', 'engineering'],
  ['Chief Innovation Officer', 'CXO', null],
  ['Chief Information Security Officer', 'CXO', 'engineering'],
  ['CISO', 'CXO', 'engineering'],
  ['CHRO', 'CXO', 'hr'],
  ['Chief People Officer', 'CXO', 'hr'],
  ['Chief Revenue Officer', 'CXO', 'sales'],
  ['Chief Product Officer', 'CXO', 'product'],
  ['Chief Marketing Officer', 'CXO', 'marketing'],
  ['Chief Financial Officer', 'CXO', 'finance'],
  ['Chief Operating Officer', 'CXO', 'operations'],
  ['Fractional CFO', 'CXO', 'finance'],
  ['Executive Vice President & CFO', 'CXO', 'finance'],
  ['MD & CEO', 'CXO', null],
  ['President', 'CXO', null],
  ['President & CEO', 'CXO', null],
  ['President, North America', 'CXO', null],
  ['Chairman of the Board', 'CXO', null],
  ['Directrice Générale', 'CXO', null],
  ['Director General', 'CXO', null],
  ['PDG', 'CXO', null],
  ['Présidente', 'CXO', null],
  ['Presidente Ejecutivo', 'CXO', null],
  ['Amministratore Delegato', 'CXO', null],
  ['Vorstand', 'CXO', null],
];

const SVP_AND_VP: readonly Row[] = [
  ['SVP of Sales', 'SVP', 'sales'],
  ['EVP, Sales', 'SVP', 'sales'],
  ['S.V.P. Marketing', 'SVP', 'marketing'],
  ['Sr. VP of Sales', 'SVP', 'sales'],
  ['Senior Vice President, Human Resources', 'SVP', 'hr'],
  ['Executive Vice President', 'SVP', null],
  ['gm', 'SVP', null],
  ['General Manager', 'SVP', null],
  ['Gerente General', 'SVP', null],
  ['Vice Chairman', 'SVP', null],
  ['VP Sales @ Acme', 'VP', 'sales'],
  ['VP Sales at Acme Corp', 'VP', 'sales'],
  ['V.P. Engineering', 'VP', 'engineering'],
  ['Vice-President, Finance', 'VP', 'finance'],
  ['Vice President', 'VP', null],
  ['Vice President of Sales & Marketing', 'VP', 'marketing'],
  ['AVP, Operations', 'VP', 'operations'],
  ['Assistant Vice President', 'VP', null],
  ['RVP Sales, Intelligent Self Service', 'VP', 'sales'],
  ['Regional Vice President', 'VP', null],
  ['Area Vice President, Enterprise Sales', 'VP', 'sales'],
  ['Group VP', 'VP', null],
  ['Head of Data Science', 'VP', 'data'],
  ['Global Head of Sales', 'VP', 'sales'],
  ['Head of People', 'VP', 'hr'],
  ['Head, Marketing', 'VP', 'marketing'],
  ['Head - EMEA Sales', 'VP', 'sales'],
  ['Sales Head', 'VP', 'sales'],
  ['Global MD, Head of Trading', 'VP', null],
  ['Bereichsleiter IT', 'VP', 'engineering'],
];

const MANAGING_DIRECTOR: readonly Row[] = [
  ['md', 'Managing Director', null],
  ['Managing Director', 'Managing Director', null],
  ['MD, Investment Banking', 'Managing Director', 'finance'],
  ['MD - Private Equity', 'Managing Director', null],
  ['Senior MD - Global Markets', 'Managing Director', null],
  ['Executive Director', 'Managing Director', null],
  ['Geschäftsführer', 'Managing Director', null],
];

const MANAGER: readonly Row[] = [
  ['Director of Engineering', 'Manager', 'engineering'],
  ['Sr. Director, Engineering', 'Manager', 'engineering'],
  ['Director, Product Management', 'Manager', 'product'],
  ['Deputy Director', 'Manager', null],
  ['Assistant Director of Admissions', 'Manager', null],
  ['Creative Director', 'Manager', 'design'],
  ['Medical Director', 'Manager', null],
  ['Sales & Marketing Director', 'Manager', 'marketing'],
  ['Director of Partnerships', 'Manager', 'sales'],
  ['Senior Manager, Engineering', 'Manager', 'engineering'],
  ['Sr. Manager', 'Manager', null],
  ['Mgr. Operations', 'Manager', 'operations'],
  ['Operations Manager', 'Manager', 'operations'],
  ['Product Marketing Manager', 'Manager', 'marketing'],
  ['Business Development Manager', 'Manager', 'sales'],
  ['Customer Success Manager', 'Manager', 'customer_success'],
  ['Technical Account Manager', 'Manager', 'customer_success'],
  ['Technical Program Manager', 'Manager', 'engineering'],
  ['Principal Product Manager', 'Manager', 'product'],
  ['Junior Product Manager', 'Manager', 'product'],
  ['Growth Marketing Manager', 'Manager', 'marketing'],
  ['FP&A Manager', 'Manager', 'finance'],
  ['Tax Manager', 'Manager', 'finance'],
  ['R&D Manager', 'Manager', null],
  ['People Manager', 'Manager', null],
  ['Store Manager', 'Manager', null],
  ['Assistant Manager', 'Manager', null],
  ['Assistant General Manager', 'Manager', null],
  ['Candidate Experience Manager', 'Manager', null],
  ['Student Success Manager', 'Manager', null],
  ['Graduate Recruitment Manager', 'Manager', 'hr'],
  ['Intern Manager', 'Manager', null],
  ['Team Lead', 'Manager', null],
  ['Team Leader', 'Manager', null],
  ['Tech Lead', 'Manager', 'engineering'],
  ['Engineering Lead', 'Manager', 'engineering'],
  ['BDR Team Lead', 'Manager', 'sales'],
  ['Sales Lead', 'Manager', 'sales'],
  ['Lead, Growth', 'Manager', 'marketing'],
  ['Supervisor', 'Manager', null],
  ['Shift Supervisor', 'Manager', null],
  ['Head Chef', 'Manager', null],
  ['Gerente de Ventas', 'Manager', 'sales'],
  ['Directora de Marketing', 'Manager', 'marketing'],
  ['Jefe de Proyecto', 'Manager', null],
  ['Directeur Commercial', 'Manager', 'sales'],
  ['Responsable Marketing', 'Manager', 'marketing'],
  ["Chef d'équipe", 'Manager', null],
  ['Leiterin Vertrieb', 'Manager', 'sales'],
  ['Abteilungsleiter Einkauf', 'Manager', 'operations'],
];

const IN_TRAINING: readonly Row[] = [
  ['Software Engineering Intern', 'In Training', 'engineering'],
  ['Product Manager Intern', 'In Training', 'product'],
  ['Marketing Intern', 'In Training', 'marketing'],
  ['Research Intern at Google', 'In Training', null],
  ['Intern, Office of the CEO', 'In Training', null],
  ['Engineering Co-op', 'In Training', 'engineering'],
  ['Management Trainee', 'In Training', null],
  ['Graduate Trainee', 'In Training', null],
  ['Manager in Training', 'In Training', null],
  ['Trainee Solicitor', 'In Training', 'legal'],
  ['Apprentice Electrician', 'In Training', null],
  ['Graduate Software Engineer', 'In Training', 'engineering'],
  ['Graduate Teaching Assistant', 'In Training', null],
  ['MBA Candidate', 'In Training', null],
  ['CFA Level II Candidate', 'In Training', null],
  ['PhD Student', 'In Training', null],
  ['CS Student', 'In Training', 'engineering'],
  ['Student at Stanford University', 'In Training', null],
  ['Entry-Level Analyst', 'In Training', null],
  ['Werkstudent', 'In Training', null],
  ['Praktikant Marketing', 'In Training', 'marketing'],
  ['Stagiaire', 'In Training', null],
];

const INDIVIDUAL_CONTRIBUTOR: readonly Row[] = [
  ['Senior Software Engineer', 'Individual Contributor', 'engineering'],
  ['Staff Engineer', 'Individual Contributor', 'engineering'],
  ['Principal Engineer', 'Individual Contributor', 'engineering'],
  ['Lead Software Engineer', 'Individual Contributor', 'engineering'],
  ['Junior Developer', 'Individual Contributor', 'engineering'],
  ['Jr. Data Analyst', 'Individual Contributor', 'data'],
  ['Ninja Rockstar Wizard', 'Individual Contributor', null],
  ['Account Executive', 'Individual Contributor', 'sales'],
  ['Enterprise Account Executive', 'Individual Contributor', 'sales'],
  ['Executive Assistant', 'Individual Contributor', null],
  ['Assistant to the CEO', 'Individual Contributor', null],
  ['Executive Assistant to the CEO', 'Individual Contributor', null],
  ['Assistant to the Regional Manager', 'Individual Contributor', null],
  ['Director of First Impressions', 'Individual Contributor', null],
  ['Receptionist / Director of First Impressions', 'Individual Contributor', null],
  ["Founder's Associate", 'Individual Contributor', null],
  ['Founding Engineer', 'Individual Contributor', 'engineering'],
  ['CEO Coach', 'Individual Contributor', null],
  ['Former CEO', 'Individual Contributor', null],
  ['Aspiring Product Manager', 'Individual Contributor', 'product'],
  ['Student Body President', 'Individual Contributor', null],
  ['Dean of Students', 'Individual Contributor', null],
  ['Chief Engineer', 'Individual Contributor', 'engineering'],
  ['Chief Petty Officer', 'Individual Contributor', null],
  ['Headhunter', 'Individual Contributor', null],
  ['Internship Coordinator', 'Individual Contributor', null],
  ['Sales Engineer', 'Individual Contributor', 'sales'],
  ['Support Engineer', 'Individual Contributor', 'customer_success'],
  ['Technical Recruiter', 'Individual Contributor', 'hr'],
  ['Data Engineer', 'Individual Contributor', 'data'],
  ['Machine Learning Engineer', 'Individual Contributor', 'data'],
  ['Product Designer', 'Individual Contributor', 'design'],
  ['UX Researcher', 'Individual Contributor', 'design'],
  ['Content Writer', 'Individual Contributor', 'marketing'],
  ['Customer Support Specialist', 'Individual Contributor', 'customer_success'],
  ['Financial Controller', 'Individual Contributor', 'finance'],
  ['Talent Acquisition Specialist', 'Individual Contributor', 'hr'],
  ['Paralegal', 'Individual Contributor', 'legal'],
  ['Associate Attorney', 'Individual Contributor', 'legal'],
  ['Attorney at Law', 'Individual Contributor', 'legal'],
  ['General Counsel', 'Individual Contributor', 'legal'],
  ['Compliance Officer', 'Individual Contributor', 'legal'],
  ['Supply Chain Analyst', 'Individual Contributor', 'operations'],
  ['Procurement Specialist', 'Individual Contributor', 'operations'],
  ['Management Consultant', 'Individual Contributor', 'consulting'],
  ['IT Consultant', 'Individual Contributor', 'consulting'],
  ['Site Reliability Engineer', 'Individual Contributor', 'engineering'],
  ['Full-Stack Developer', 'Individual Contributor', 'engineering'],
  ['Solutions Architect', 'Individual Contributor', 'engineering'],
  ['Investment Banking Analyst', 'Individual Contributor', 'finance'],
  ['Registered Nurse', 'Individual Contributor', null],
  ['Self-Employed', 'Individual Contributor', null],
  // Headlines that name an audience rather than the person.
  ['Helping SaaS founders scale | Growth Consultant', 'Individual Contributor', 'marketing'],
  ['Executive Coach for CEOs and Founders', 'Individual Contributor', null],
];

const TABLE: readonly Row[] = [
  ...FALSE_POSITIVES,
  ...OWNER,
  ...CXO,
  ...SVP_AND_VP,
  ...MANAGING_DIRECTOR,
  ...MANAGER,
  ...IN_TRAINING,
  ...INDIVIDUAL_CONTRIBUTOR,
];

const LEVELS: Record<SeniorityTierName, number> = {
  Owner: 8,
  CXO: 7,
  SVP: 6,
  VP: 5,
  'Managing Director': 4,
  Manager: 3,
  'In Training': 2,
  'Individual Contributor': 1,
};

describe('classifyTitle', () => {
  it('has a table of at least 150 distinct titles', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(150);
    expect(new Set(TABLE.map(([title]) => title)).size).toBe(TABLE.length);
  });

  it.each(TABLE)('%s → %s / %s', (title, tier, department) => {
    const { matched, ...decided } = classifyTitle(title);
    expect(decided).toEqual({ level: LEVELS[tier], tier, department });
    expect(matched === null || typeof matched === 'string').toBe(true);
  });

  it.each([
    ['Product Owner', 'product owner (functional role)'],
    ['HR Business Partner', 'business partner (functional role)'],
    ['Chief of Staff', 'chief of staff'],
    ['Physician, MD', 'MD (medical degree)'],
    ['MD, Investment Banking', 'MD (managing director)'],
    ['Lead Generation Specialist', 'lead generation'],
    ['Partner Manager', 'manager'],
    ['Chief Innovation Officer', 'chief … officer'],
  ])('explains %s with the rule "%s"', (title, rule) => {
    expect(classifyTitle(title).matched).toBe(rule);
  });

  it('reports no rule when a title falls through to the default tier', () => {
    expect(classifyTitle('Ninja Rockstar Wizard')).toMatchObject({
      tier: 'Individual Contributor',
      matched: null,
    });
  });

  it('is case-insensitive', () => {
    expect(classifyTitle('VICE PRESIDENT, SALES').tier).toBe('VP');
    expect(classifyTitle('vice president, sales').tier).toBe('VP');
  });

  it.each([
    null,
    undefined,
    '',
    '   ',
    42,
    0,
    Number.NaN,
    {},
    [],
    ['CEO'],
    true,
    'N/A',
    'n/a',
    '-',
    '???',
    '12345',
    'x',
    'unknown',
    'undefined',
    'https://linkedin.com/in/foo',
    'john@acme.com',
    'Генеральный директор',
  ])('gives no tier for %p', (input) => {
    expect(classifyTitle(input)).toEqual({ level: null, tier: null, department: null, matched: null });
  });

  it('handles a 10,000-character title quickly and without throwing', () => {
    const inputs = [
      'a'.repeat(10_000),
      'CEO '.repeat(2_500),
      'former '.repeat(1_500),
      'Assistant to the '.repeat(600),
      `${'x'.repeat(9_990)} Founder`,
      '|,;/&()-'.repeat(1_250),
    ];
    const started = Date.now();
    const results = inputs.map((input) => classifyTitle(input));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(results[0]).toMatchObject({ tier: 'Individual Contributor' });
    expect(results[1]).toMatchObject({ tier: 'CXO' });
    expect(results[5]).toMatchObject({ tier: null });
  });

  it('returns a fresh object each time', () => {
    const first = classifyTitle(null);
    first.level = 99;
    expect(classifyTitle(null).level).toBeNull();
  });
});

describe('compareSeniority', () => {
  it.each([
    ['Engineer', 'Engineering Manager', 2],
    ['Manager', 'Director', 0],
    ['Director', 'VP Engineering', 2],
    ['VP of Sales', 'Senior Vice President', 1],
    ['Senior Engineer', 'Senior Manager', 2],
    ['Software Engineering Intern', 'Software Engineer', -1],
    ['CEO', 'Founder & CEO', 1],
    ['Product Owner', 'Product Manager', 2],
    ['HR Business Partner', 'Head of People', 4],
    ['Managing Director', 'Chief of Staff', -1],
  ])('%s → %s gives %d', (before, after, expected) => {
    expect(compareSeniority(before, after)).toBe(expected);
  });

  it('is positive only for a promotion', () => {
    expect(compareSeniority('Account Executive', 'Sales Manager')).toBeGreaterThan(0);
    expect(compareSeniority('Sales Manager', 'Account Executive')).toBeLessThan(0);
    expect(compareSeniority('Product Manager', 'Program Manager')).toBe(0);
  });

  it.each([
    [null, 'CEO'],
    ['CEO', undefined],
    ['', 'VP Sales'],
    [42, 'Manager'],
    ['N/A', 'Director'],
  ])('is 0 when either side is unusable (%p, %p)', (before, after) => {
    expect(compareSeniority(before, after)).toBe(0);
  });
});

describe('vocabularies', () => {
  it('lists the eight tiers highest first', () => {
    expect(SENIORITY_TIERS.map((tier) => [tier.level, tier.name])).toEqual([
      [8, 'Owner'],
      [7, 'CXO'],
      [6, 'SVP'],
      [5, 'VP'],
      [4, 'Managing Director'],
      [3, 'Manager'],
      [2, 'In Training'],
      [1, 'Individual Contributor'],
    ]);
  });

  it("classifies every tier's own examples into that tier", () => {
    for (const tier of SENIORITY_TIERS) {
      expect(tier.description).not.toBe('');
      for (const example of tier.examples)
        expect([example, classifyTitle(example).tier]).toEqual([example, tier.name]);
    }
  });

  it('lists the twelve departments', () => {
    expect(DEPARTMENTS).toEqual([
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
    ]);
  });

  it('only ever returns known departments', () => {
    for (const [title] of TABLE) {
      const { department } = classifyTitle(title);
      if (department !== null) expect(DEPARTMENTS).toContain(department);
    }
  });
});
