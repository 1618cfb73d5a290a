import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { classifyTitle } from '../../src/intelligence/seniority';
import { parseLocation } from '../../src/snapshots/location';
import { benchDatabase, machine, processCpuSeconds, saveReport, startService } from './lib';

/**
 * Read-side scale figures (issue 3): seeds N realistic live people (default 1 000 000, BENCH_PEOPLE) with
 * set-based SQL, then measures through the real HTTP service (API key on, read rate limit off):
 * - an indexed query (title regex + countryCode, sorted by lastObservedAt desc, limit 100);
 * - deep pages reached by cursor (20 pages per walk, the pages from the 11th on are timed);
 * - fuzzy search with typos;
 * - a CSV export of every person: the job's rows/s, the download's, and the service process's peak RSS.
 * Writes docs/bench-read.json.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_PEOPLE=100000 npm run bench:read
 */
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const SEED_CHUNK = Number(process.env.BENCH_SEED_CHUNK ?? 25_000);
const SEED_WORKERS = Number(process.env.BENCH_SEED_WORKERS ?? 2);
const CURSOR_PAGES = 20;
const DEEP_FROM_PAGE = 11;
const API_KEY = 'bench-read-key';

export const READ_TARGETS = {
  queryP95Ms: 50,
  searchP95Ms: 100,
  exportRowsPerSecond: 50_000,
  exportPeakRssMb: 300,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Vocabulary: names, titles (classified by the real classifier), locations (parsed by the real parser),
// companies, skills, schools. Weights are repeats, so a uniform pick gives a realistic mix.
// ---------------------------------------------------------------------------------------------------------

const FIRST_NAMES = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Christopher', 'Karen', 'Daniel', 'Lisa',
  'Matthew', 'Nancy', 'Anthony', 'Sandra', 'Mark', 'Ashley', 'Steven', 'Emily', 'Andrew', 'Michelle', 'Katherine',
  'Olga', 'José', 'María', 'Zoë', 'Amélie', 'François', 'Søren', 'Björn', 'Jürgen', 'Siobhán', 'Priya', 'Rahul',
  'Arjun', 'Ananya', 'Wei', 'Li', 'Hiroshi', 'Yuki', 'Mohammed', 'Fatima', 'Ahmed', 'Aisha', 'Omar', 'Leila',
  'Sofía', 'Lucía', 'Mateo', 'Diego', 'Camila', 'João', 'Thiago', 'Beatriz', 'Kwame', 'Chinedu', 'Ngozi', 'Ivan',
  'Dmitri', 'Anastasia', 'Katarzyna', 'Piotr', 'Giulia', 'Alessandro', 'Lars', 'Ingrid', 'Noa', 'Yosef', 'Aoife',
]; // prettier-ignore

const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee',
  'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', "O'Brien", 'Müller',
  'Schmidt', 'Schneider', 'Fischer', 'Dubois', 'Lefèvre', 'Rossi', 'Bianchi', 'Kowalski', 'Nowak', 'Ivanova',
  'Petrov', 'Novák', 'Andersson', 'Johansson', 'Nielsen', 'Jensen', 'van den Berg', 'de Vries', 'Núñez-García',
  'Fernández', 'Silva', 'Santos', 'Oliveira', 'Pereira', 'Patel', 'Sharma', 'Gupta', 'Singh', 'Reddy', 'Chen',
  'Wang', 'Zhang', 'Liu', 'Nguyen', 'Kim', 'Park', 'Tanaka', 'Suzuki', 'Sato', 'Al-Rashid', 'Haddad', 'Khan',
  'Okafor', 'Mensah', 'Cohen', 'Levi', 'Murphy', 'Kelly',
]; // prettier-ignore

/** [title, weight]: every seniority tier, most people individual contributors and managers. */
const TITLES: readonly (readonly [string, number])[] = [
  ['Founder & CEO', 3], ['Co-Founder', 2], ['Owner', 2], ['Managing Partner', 1],
  ['Chief Executive Officer', 1], ['Chief Technology Officer', 1], ['Chief Financial Officer', 1],
  ['Chief Marketing Officer', 1], ['Chief Revenue Officer', 1],
  ['SVP, Sales', 1], ['Senior Vice President of Engineering', 1], ['EVP Operations', 1],
  ['VP of Sales', 2], ['Vice President of Marketing', 2], ['VP Engineering', 2], ['Head of Growth', 2],
  ['Head of Product', 2], ['Head of People', 1],
  ['Managing Director', 2],
  ['Engineering Manager', 4], ['Director of Product Management', 3], ['Sales Manager', 4], ['Marketing Manager', 4],
  ['Senior Director, Finance', 2], ['Partner Manager', 1], ['Chief of Staff', 1], ['Office Manager', 2],
  ['Director of Engineering', 3], ['Customer Success Manager', 3],
  ['Software Engineering Intern', 2], ['Marketing Intern', 2], ['Graduate Trainee', 1],
  ['Senior Software Engineer', 8], ['Software Engineer', 10], ['Account Executive', 8], ['Data Scientist', 4],
  ['Product Owner', 2], ['HR Business Partner', 2], ['Recruiter', 3], ['Lead Generation Specialist', 2],
  ['Business Development Representative', 5], ['Financial Analyst', 3], ['UX Designer', 3], ['DevOps Engineer', 3],
  ['Full Stack Developer', 4], ['Consultant', 4], ['Solutions Architect', 3], ['Customer Success Specialist', 3],
  ['Accountant', 2], ['Registered Nurse', 1], ['Physician, MD', 1], ['Paralegal', 1],
]; // prettier-ignore

/** [raw LinkedIn location, weight]: a third of the people in the United States. */
const LOCATIONS: readonly (readonly [string, number])[] = [
  ['San Francisco Bay Area', 6], ['New York, New York, United States', 7], ['Austin, Texas, United States', 4],
  ['Greater Chicago Area', 4], ['Seattle, Washington, United States', 3], ['Boston, Massachusetts, United States', 3],
  ['London, England, United Kingdom', 8], ['Manchester, England, United Kingdom', 2],
  ['München, Bayern, Deutschland', 3], ['Berlin, Berlin, Germany', 3], ['Paris, Île-de-France, France', 4],
  ['Bengaluru, Karnataka, India', 5], ['Mumbai, Maharashtra, India', 3], ['São Paulo, São Paulo, Brazil', 4],
  ['Toronto, Ontario, Canada', 3], ['Sydney, New South Wales, Australia', 2], ['Madrid, Comunidad de Madrid, Spain', 2],
  ['Amsterdam, North Holland, Netherlands', 2], ['Dublin, County Dublin, Ireland', 2], ['Singapore', 2],
  ['Zürich, Zurich, Switzerland', 1], ['Stockholm, Stockholm County, Sweden', 1], ['Tel Aviv, Israel', 1],
  ['Dubai, United Arab Emirates', 1], ['Mexico City, Mexico', 2],
]; // prettier-ignore

const COMPANY_PREFIXES = [
  'Northwind', 'Contoso', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell',
  'Cyberdyne', 'Wonka', 'Aperture', 'Blue Harbor', 'Red Rock', 'Silver Lake', 'Golden Gate', 'Evergreen', 'Summit',
  'Pinnacle', 'Horizon', 'Atlas', 'Orion', 'Nimbus', 'Quartz', 'Granite', 'Cedar', 'Maple', 'Orchard', 'Beacon',
  'Lumen', 'Vertex', 'Nova', 'Helix', 'Zenith', 'Polar', 'Crimson', 'Ironclad', 'Bright', 'Clearwater', 'Riverstone',
  'Sterling', 'Westgate', 'Eastbridge', 'Kestrel', 'Falcon', 'Harbor', 'Meridian', 'Café Lumière', 'Ipê',
  'Nordlicht', 'Sakura', 'Aurora', 'Pacific', 'Atlantic', 'Alpine', 'Prairie', 'Coastal', 'Hawthorne',
]; // prettier-ignore

/** [word, LinkedIn industry]. */
const COMPANY_CORES: readonly (readonly [string, string])[] = [
  ['Analytics', 'Software Development'], ['Software', 'Software Development'], ['Cloud', 'Software Development'],
  ['Labs', 'Research Services'], ['Systems', 'IT Services and IT Consulting'], ['Digital', 'IT Services and IT Consulting'],
  ['Security', 'Computer and Network Security'], ['Capital', 'Financial Services'], ['Bank', 'Banking'],
  ['Insurance', 'Insurance'], ['Health', 'Hospitals and Health Care'], ['Pharma', 'Pharmaceutical Manufacturing'],
  ['Biotech', 'Biotechnology Research'], ['Logistics', 'Transportation, Logistics, Supply Chain and Storage'],
  ['Foods', 'Food and Beverage Services'], ['Retail', 'Retail'], ['Media', 'Media Production'],
  ['Energy', 'Renewable Energy Semiconductor Manufacturing'], ['Consulting', 'Business Consulting and Services'],
  ['Legal', 'Law Practice'], ['Realty', 'Real Estate'], ['Motors', 'Motor Vehicle Manufacturing'],
  ['Education', 'Education Administration Programs'], ['Telecom', 'Telecommunications'],
]; // prettier-ignore

const COMPANY_SUFFIXES = ['Inc.', 'Ltd', 'GmbH', 'Group', '', 'LLC', 'S.A.', 'AG', 'Partners', 'Co.'];

const SKILLS = [
  'Leadership', 'Sales', 'Strategy', 'Cloud Computing', 'Negotiation', 'B2B, SaaS', 'Team Building',
  'Public Speaking', 'Go-to-market Strategy', 'Analytics', 'Python', 'SQL', 'JavaScript', 'TypeScript', 'React',
  'Node.js', 'Kubernetes', 'AWS', 'Machine Learning', 'Data Analysis', 'Product Management', 'Agile Methodologies',
  'Scrum', 'UX Research', 'Figma', 'Digital Marketing', 'SEO', 'Content Strategy', 'Salesforce', 'HubSpot',
  'Account Management', 'Customer Success', 'Recruiting', 'Talent Management', 'Financial Modeling', 'Accounting',
  'Budgeting', 'Project Management', 'Business Development', 'Lead Generation', 'Cold Calling', 'CRM',
  'Microsoft Excel', 'Communication', 'Problem Solving', 'Java', 'Go', 'Terraform', 'DevOps', 'Security',
]; // prettier-ignore

const SCHOOLS = [
  'Stanford University', 'University of Oxford', 'Massachusetts Institute of Technology', 'Harvard Business School',
  'Technische Universität München', 'Universidade de São Paulo', 'Indian Institute of Technology Bombay',
  'University of Toronto', 'Sciences Po', 'University College Dublin', 'National University of Singapore',
  'Universidad Complutense de Madrid', 'University of Cambridge', 'ETH Zürich', 'University of Michigan',
  'London School of Economics', 'INSEAD', 'Tel Aviv University', 'University of Sydney', 'Tecnológico de Monterrey',
]; // prettier-ignore

const DEGREES = ['BSc', 'BA', 'MSc', 'MBA', 'PhD', 'BEng', 'MA', 'LLB'];
const FIELDS_OF_STUDY = [
  'Computer Science', 'Business Administration', 'Economics', 'Marketing', 'Mechanical Engineering',
  'Psychology', 'Finance', 'Law', 'Mathematics', 'Communication',
]; // prettier-ignore

const SUMMARIES = [
  'Building teams that ship and customers that stay.',
  'Passionate about data-driven growth, pragmatic engineering and honest feedback.',
  '10+ years helping B2B companies scale their go-to-market, from first hire to IPO.',
  'I turn messy problems into simple products. Previously at two successful start-ups.',
  'Open to new opportunities in Europe and North America. Languages: English, Spanish, German.',
  'Focused on security, reliability and developer experience; speaker at local meet-ups.',
  'Helping clinicians and patients with better tools, one workflow at a time.',
  'Finance leader: FP&A, audit readiness, fundraising (Series A to C).',
];

const ROLE_DESCRIPTIONS = [
  'Leads a team of 12 across three countries; owns the quarterly plan and hiring.',
  'Built the regional business from scratch: first 50 customers, "land and expand".',
  'Responsible for pipeline, forecasting and renewals.',
  'Migrated the platform to Kubernetes; cut infrastructure costs by 30%.',
  null,
];

function weighted<T>(entries: readonly (readonly [T, number])[]): T[] {
  return entries.flatMap(([value, weight]) => Array.from({ length: weight }, () => value));
}

interface Vocabulary {
  titles: { title: string; tier: string | null; level: number | null; department: string | null }[];
  places: {
    raw: string;
    city: string | null;
    state: string | null;
    stateCode: string | null;
    country: string | null;
    countryCode: string | null;
    key: string;
  }[];
  companies: { name: string; industry: string; linkedinId: string; slug: string }[];
  skillSets: string[][];
}

/** One company per 50 people (at most every combination of the words), from a few hundred up. */
function vocabulary(people: number): Vocabulary {
  const titles = weighted(TITLES).map((title) => {
    const classified = classifyTitle(title);
    return { title, tier: classified.tier, level: classified.level, department: classified.department };
  });
  const places = weighted(LOCATIONS).map((raw) => {
    const parsed = parseLocation(raw);
    if (!parsed) throw new Error(`the location parser rejects ${raw}`);
    return {
      raw,
      city: parsed.city,
      state: parsed.state,
      stateCode: parsed.stateCode,
      country: parsed.country,
      countryCode: parsed.countryCode,
      key: parsed.key,
    };
  });
  const combinations = COMPANY_PREFIXES.length * COMPANY_CORES.length * COMPANY_SUFFIXES.length;
  const companyCount = Math.min(combinations, Math.max(300, Math.round(people / 50)));
  const companies = Array.from({ length: companyCount }, (_, n) => {
    // A permutation of the combinations (7919 is prime, so coprime with their count): any prefix of the list
    // mixes every word and suffix.
    const k = (n * 7919) % combinations;
    const prefix = COMPANY_PREFIXES[k % COMPANY_PREFIXES.length]!;
    const [core, industry] = COMPANY_CORES[Math.floor(k / COMPANY_PREFIXES.length) % COMPANY_CORES.length]!;
    const suffix = COMPANY_SUFFIXES[Math.floor(k / (COMPANY_PREFIXES.length * COMPANY_CORES.length))]!;
    const name = [prefix, core, suffix].filter(Boolean).join(' ');
    const slug = name
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase();
    return { name, industry, linkedinId: String(1_000_000 + k * 13), slug };
  });
  const skillSets = Array.from({ length: 64 }, (_, set) =>
    Array.from({ length: 3 + (set % 10) }, (_, k) => SKILLS[(set * 7 + k * 3) % SKILLS.length]!).filter(
      (skill, index, all) => all.indexOf(skill) === index,
    ),
  );
  return { titles, places, companies, skillSets };
}

// ---------------------------------------------------------------------------------------------------------
// Seeding
// ---------------------------------------------------------------------------------------------------------

/** A uniform pick in 1..$card from a per-row hash (deterministic; every use in the statement has its own salt). */
const pick = (salt: number, card: string) => `(1 + ${hash(salt)} % ${card})::int`;
/** 0..999, per row and salt. */
const permille = (salt: number) => `(${hash(salt)} % 1000)::int`;
/** A uniform draw in [0, 1), per row and salt. */
const uniform = (salt: number) => `(${hash(salt)} % 1000000 / 1000000.0)`;
/** 0..2^31-1 (bigint, so that abs() of the smallest int4 cannot overflow). */
function hash(salt: number): string {
  return `abs(hashint4(i * ${salt} + ${salt})::bigint)`;
}

/** unaccent with its dictionary named: a plain C call (the immutable wrapper of migration 005 is an SQL function). */
function unaccent(sql: string): string {
  return `public.unaccent('public.unaccent'::regdictionary, ${sql})`;
}

/**
 * The snapshot as the fold writes it (src/snapshots/contributions.ts, fields.ts): [field, SQL over a `shaped` row].
 * NULL means the field is absent (omitted, never null); every present field gets its _meta provenance.
 */
const SNAPSHOT_FIELDS: readonly (readonly [string, string])[] = [
  ['firstName', 'first_name'],
  ['middleName', 'middle_name'],
  ['lastName', 'last_name'],
  ['fullName', 'full_name'],
  ['currentTitle', 'CASE WHEN employed THEN raw_title END'],
  ['currentCompany', 'CASE WHEN employed THEN company END'],
  ['currentCompanyLinkedinId', 'CASE WHEN employed THEN linkedin_id END'],
  [
    'companyProfileUrl',
    `CASE WHEN employed THEN 'https://www.linkedin.com/company/' || linkedin_id || '/' END`,
  ],
  ['companyId', 'CASE WHEN employed THEN company_id::text END'],
  ['currentRoleStartYear', 'CASE WHEN employed THEN role_start_year END'],
  ['seniorityLevel', 'CASE WHEN employed THEN level END'],
  ['seniorityTier', 'CASE WHEN employed THEN tier END'],
  ['department', 'CASE WHEN employed THEN department END'],
  ['location', 'location'],
  ['city', 'city'],
  ['state', 'state'],
  ['stateCode', 'state_code'],
  ['country', 'country'],
  ['countryCode', 'country_code'],
  ['locationKey', 'location_key'],
  ['locationId', 'location_id::text'],
  ['industry', 'CASE WHEN employed THEN industry END'],
  ['connections', 'least(500, (r_profile * 7) % 1200)'],
  ['connectionsCapped', '(r_profile * 7) % 1200 >= 500'],
  ['degree', '1 + r_profile % 3'],
  ['summary', 'CASE WHEN r_profile < 700 THEN ($21::text[])[1 + i % cardinality($21::text[])] END'],
  ['email', 'email'],
  [
    'phone',
    `CASE WHEN r_contact % 5 = 0 THEN '+1' || (201 + r_contact % 700) || lpad((${hash(35)} % 10000000)::text, 7, '0') END`,
  ],
  ['skills', 'skills'],
  [
    'roles',
    `jsonb_build_array(jsonb_build_object(
       'title', raw_title, 'companyName', company, 'location', location,
       'description', ($22::text[])[1 + i % cardinality($22::text[])],
       'startYear', role_start_year, 'startMonth', 1 + i % 12, 'endYear', NULL, 'endMonth', NULL, 'isCurrent', employed))
     || CASE WHEN r_profile % 3 > 0 THEN jsonb_build_array(jsonb_build_object(
          'title', previous_title, 'companyName', previous_company, 'location', NULL, 'description', NULL,
          'startYear', role_start_year - 4, 'startMonth', 1 + i % 11, 'endYear', role_start_year,
          'endMonth', 1 + i % 12, 'isCurrent', false))
        ELSE '[]'::jsonb END`,
  ],
  [
    'education',
    `CASE WHEN r_profile % 4 > 0 THEN jsonb_build_array(jsonb_build_object(
       'school', ($23::text[])[1 + i % cardinality($23::text[])],
       'degree', ($24::text[])[1 + i % cardinality($24::text[])],
       'field', ($25::text[])[1 + i % cardinality($25::text[])],
       'startYear', role_start_year - 8, 'endYear', role_start_year - 4)) END`,
  ],
];

/**
 * Persons i in [$1, $2] and their aliases, in one statement. $3.. are the vocabulary arrays, unnested into small
 * tables the rows join (subscripting a large text[] per row costs O(index)). Field names and shapes are the ones
 * the fold writes (src/snapshots/contributions.ts, fields.ts): absent fields are omitted, every field has _meta.
 */
const SEED_PERSONS_SQL = `
WITH titles AS (
       SELECT * FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) WITH ORDINALITY
         AS t(title, tier, level, department, n)),
     companies AS (
       SELECT n, md5('bench-company:' || n)::uuid AS id, name, industry, linkedin_id, slug
         FROM unnest($7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
           AS c(name, industry, linkedin_id, slug, n)),
     places AS (
       SELECT n, md5('bench-location:' || key)::uuid AS id, raw, city, state, state_code, country, country_code, key
         FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
                WITH ORDINALITY AS l(raw, city, state, state_code, country, country_code, key, n)),
     skill_sets AS (SELECT * FROM unnest($18::jsonb[]) WITH ORDINALITY AS s(skills, n)),
     base AS (
       SELECT i,
              ($19::text[])[${pick(3, 'cardinality($19::text[])')}] AS first_name,
              ($20::text[])[${pick(5, 'cardinality($20::text[])')}] AS last_name,
              CASE WHEN ${permille(7)} < 40 THEN ($19::text[])[${pick(9, 'cardinality($19::text[])')}] END AS middle_name,
              ${pick(11, 'cardinality($3::text[])')} AS title_n,
              ${pick(13, 'cardinality($3::text[])')} AS previous_title_n,
              -- Company sizes are skewed: the square of a uniform draw favours the first companies.
              1 + floor(cardinality($7::text[]) * power(${uniform(15)}, 2))::int AS company_n,
              ${pick(17, 'cardinality($7::text[])')} AS previous_company_n,
              ${pick(19, 'cardinality($11::text[])')} AS place_n,
              ${pick(21, 'cardinality($18::jsonb[])')} AS skills_n,
              ${permille(23)} AS r_title, ${permille(25)} AS r_contact, ${permille(27)} AS r_profile,
              1 + ${permille(29)} % 6 AS observations,
              timestamptz '2025-07-01' - (${hash(31)} % (730 * 1440)) * interval '1 minute' AS last_seen,
              (2010 + ${hash(33)} % 15)::int AS role_start_year
         FROM generate_series($1::int, $2::int) AS i),
     shaped AS (
       SELECT b.*, t.title AS raw_title, t.tier, t.level, t.department, pt.title AS previous_title,
              c.id AS company_id, c.name AS company, c.industry, c.linkedin_id, c.slug AS company_slug,
              pc.name AS previous_company, l.id AS location_id, l.raw AS location, l.city, l.state, l.state_code,
              l.country, l.country_code, l.key AS location_key, s.skills,
              concat_ws(' ', b.first_name, b.middle_name, b.last_name) AS full_name,
              CASE WHEN b.r_contact < 350
                   THEN lower(regexp_replace(${unaccent("b.first_name || '.' || b.last_name")}, '[^A-Za-z.]+', '', 'g'))
                        || b.i || '@' || c.slug || '.com' END AS email,
              lower(regexp_replace(${unaccent("concat_ws(' ', b.first_name, b.middle_name, b.last_name)")}, '[^A-Za-z0-9]+', '-', 'g'))
                || '-' || to_hex(b.i * 10) AS slug,
              -- 4 % without a title or company (data quality), as real visits of sparse profiles.
              b.r_title >= 40 AS employed
         FROM base b
         JOIN titles t ON t.n = b.title_n
         JOIN titles pt ON pt.n = b.previous_title_n
         JOIN companies c ON c.n = b.company_n
         JOIN companies pc ON pc.n = b.previous_company_n
         JOIN places l ON l.n = b.place_n
         JOIN skill_sets s ON s.n = b.skills_n),
     -- Each field as JSON text (NULL when absent); the document is assembled as text and parsed once, which is
     -- several times cheaper than nesting jsonb_build_object calls for the snapshot and its provenance.
     fields AS MATERIALIZED (
       SELECT s.*, ${SNAPSHOT_FIELDS.map(([, sql], k) => `to_json(${sql})::text AS v${k}`).join(',\n              ')},
              ',"observedAt":' || to_json(last_seen)::text
                || ',"source":"' || CASE WHEN i % 4 = 0 THEN 'scan' ELSE 'visit' END
                || '","observationId":' || (i * 10 + observations - 1) || '}' AS provenance
         FROM shaped s),
     snapshots AS (
       SELECT f.*,
              ('{"_meta":{'
                || concat_ws(',', ${SNAPSHOT_FIELDS.map(([name], k) => `'"${name}":{"value":' || v${k} || provenance`).join(',\n                  ')})
                || '},' || concat_ws(',', ${SNAPSHOT_FIELDS.map(([name], k) => `'"${name}":' || v${k}`).join(', ')})
                || '}')::jsonb AS snapshot
         FROM fields f),
     persons_in AS (
       INSERT INTO persons (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                            last_observed_at, full_name, current_title, current_company, current_company_id,
                            location_id, created_at, updated_at)
       SELECT md5('bench-person:' || i)::uuid, i * 10,
              snapshot, observations, last_seen - (observations - 1) * interval '17 days', last_seen, full_name,
              CASE WHEN employed THEN raw_title END, CASE WHEN employed THEN company END,
              CASE WHEN employed THEN company_id END, location_id,
              last_seen - (observations - 1) * interval '17 days', last_seen
         FROM snapshots)
INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
SELECT kind, value, md5('bench-person:' || i)::uuid, display, i * 10
  FROM fields,
       LATERAL (VALUES
         ('sales_nav_id', 'ACwAA' || upper(substr(md5('sn' || i), 1, 24)), 'ACwAA' || upper(substr(md5('sn' || i), 1, 24))),
         ('member_id', (700000000 + i * 7)::text, (700000000 + i * 7)::text),
         ('username', slug, slug),
         ('profile_url', 'https://www.linkedin.com/in/' || slug, 'https://www.linkedin.com/in/' || slug),
         ('sales_url', 'https://www.linkedin.com/sales/lead/acwaa' || substr(md5('sn' || i), 1, 24),
                       'https://www.linkedin.com/sales/lead/ACwAA' || upper(substr(md5('sn' || i), 1, 24))),
         ('duxsoup_id', 'id.' || (700000000 + i * 7), 'id.' || (700000000 + i * 7)),
         ('email', email, email)) AS a(kind, value, display)
 WHERE value IS NOT NULL`;

const SEED_COMPANIES_SQL = `
INSERT INTO companies (id, anchor_observation_id, snapshot, observations_count, first_observed_at, last_observed_at,
                       name, created_at, updated_at)
SELECT md5('bench-company:' || n)::uuid, n, jsonb_build_object(
         'name', name, 'linkedinId', linkedin_id, 'slug', slug, 'industry', industry,
         'website', 'https://www.' || slug || '.com', 'domain', slug || '.com'),
       1, timestamptz '2024-01-01', timestamptz '2025-06-30', name, timestamptz '2024-01-01', timestamptz '2025-06-30'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(name, industry, linkedin_id, slug, n)`;

const SEED_LOCATIONS_SQL = `
INSERT INTO locations (id, key, snapshot, observations_count, first_observed_at, last_observed_at)
SELECT DISTINCT ON (key) md5('bench-location:' || key)::uuid, key, jsonb_strip_nulls(jsonb_build_object(
         'label', raw, 'city', city, 'state', state, 'stateCode', state_code, 'country', country,
         'countryCode', country_code)),
       1, timestamptz '2024-01-01', timestamptz '2025-06-30'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS l(raw, city, state, state_code, country, country_code, key)`;

const BULK_TABLES = ['persons', 'person_aliases'];

interface SeedTimings {
  seconds: number;
  steps: Record<string, number>;
  indexes: number;
  foreignKeys: number;
}

async function seed(url: string, people: number): Promise<SeedTimings> {
  const started = performance.now();
  const steps: Record<string, number> = {};
  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const begin = performance.now();
    const result = await work();
    steps[label] = round((performance.now() - begin) / 1000);
    process.stderr.write(`  ${label}: ${steps[label]} s\n`);
    return result;
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: Math.max(2, SEED_WORKERS),
    // Bulk load settings for these sessions only: no commit waits, room to sort index builds in memory.
    options: '-c synchronous_commit=off -c maintenance_work_mem=256MB',
  });
  try {
    await timed('migrate', () => migrate(pool));
    const vocab = vocabulary(people);

    // Bulk loading: secondary indexes and foreign keys off, rebuilt (and validated) once at the end.
    const { rows: indexes } = await pool.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY($1)
          AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
      [BULK_TABLES],
    );
    const { rows: foreignKeys } = await pool.query<{ table: string; name: string; definition: string }>(
      `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.contype = 'f' AND c.relname = ANY($1) AND c.relnamespace = current_schema()::regnamespace`,
      [BULK_TABLES],
    );
    await timed('drop indexes and foreign keys', async () => {
      for (const key of foreignKeys) {
        await pool.query(
          `ALTER TABLE ${pg.escapeIdentifier(key.table)} DROP CONSTRAINT ${pg.escapeIdentifier(key.name)}`,
        );
      }
      for (const index of indexes) await pool.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
    });

    await timed('companies and locations', async () => {
      const c = vocab.companies;
      await pool.query(SEED_COMPANIES_SQL, [
        c.map((x) => x.name),
        c.map((x) => x.industry),
        c.map((x) => x.linkedinId),
        c.map((x) => x.slug),
      ]);
      const l = vocab.places;
      await pool.query(SEED_LOCATIONS_SQL, [
        l.map((x) => x.raw),
        l.map((x) => x.city),
        l.map((x) => x.state),
        l.map((x) => x.stateCode),
        l.map((x) => x.country),
        l.map((x) => x.countryCode),
        l.map((x) => x.key),
      ]);
    });

    const vocabularyParams = [
      vocab.titles.map((x) => x.title),
      vocab.titles.map((x) => x.tier),
      vocab.titles.map((x) => x.level),
      vocab.titles.map((x) => x.department),
      vocab.companies.map((x) => x.name),
      vocab.companies.map((x) => x.industry),
      vocab.companies.map((x) => x.linkedinId),
      vocab.companies.map((x) => x.slug),
      vocab.places.map((x) => x.raw),
      vocab.places.map((x) => x.city),
      vocab.places.map((x) => x.state),
      vocab.places.map((x) => x.stateCode),
      vocab.places.map((x) => x.country),
      vocab.places.map((x) => x.countryCode),
      vocab.places.map((x) => x.key),
      vocab.skillSets.map((set) => JSON.stringify(set)),
      FIRST_NAMES,
      LAST_NAMES,
      SUMMARIES,
      ROLE_DESCRIPTIONS,
      SCHOOLS,
      DEGREES,
      FIELDS_OF_STUDY,
    ];
    await timed('persons and aliases', async () => {
      const chunks: [number, number][] = [];
      for (let from = 1; from <= people; from += SEED_CHUNK) {
        chunks.push([from, Math.min(people, from + SEED_CHUNK - 1)]);
      }
      let next = 0;
      let done = 0;
      await Promise.all(
        Array.from({ length: SEED_WORKERS }, async () => {
          while (next < chunks.length) {
            const [from, to] = chunks[next++]!;
            await pool.query(SEED_PERSONS_SQL, [from, to, ...vocabularyParams]);
            done += to - from + 1;
            process.stderr.write(`    ${done}/${people}\n`);
          }
        }),
      );
    });

    await timed('recreate indexes', async () => {
      // Biggest first (GIN), shared between the connections.
      const queue = [...indexes].sort(
        (a, b) => Number(/USING gin/i.test(b.definition)) - Number(/USING gin/i.test(a.definition)),
      );
      await Promise.all(
        Array.from({ length: SEED_WORKERS }, async () => {
          for (let index = queue.shift(); index; index = queue.shift()) {
            const begin = performance.now();
            await pool.query(index.definition);
            process.stderr.write(`    ${index.name}: ${round((performance.now() - begin) / 1000)} s\n`);
          }
        }),
      );
    });
    await timed('restore foreign keys', async () => {
      for (const key of foreignKeys) {
        await pool.query(
          `ALTER TABLE ${pg.escapeIdentifier(key.table)} ADD CONSTRAINT ${pg.escapeIdentifier(key.name)} ${key.definition}`,
        );
      }
    });
    // What autovacuum would do on a live database: statistics (extended ones included) and the visibility map.
    await timed('vacuum analyze', () =>
      pool.query('VACUUM (ANALYZE) persons, person_aliases, companies, locations'),
    );
    return {
      seconds: round((performance.now() - started) / 1000),
      steps,
      indexes: indexes.length,
      foreignKeys: foreignKeys.length,
    };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Measuring through HTTP
// ---------------------------------------------------------------------------------------------------------

interface Latency {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

function latency(times: number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (fraction: number) =>
    round(sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1))] ?? 0);
  return { samples: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: at(1) };
}

class Api {
  constructor(private readonly baseUrl: string) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ ms: number; body: T }> {
    const started = performance.now();
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        'x-api-key': API_KEY,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return { ms, body: JSON.parse(text) as T };
  }
}

interface QueryPage {
  data: Record<string, unknown>[];
  pagination: { count: number; totalCount: number; hasMore: boolean; nextCursor: string | null };
}

const TITLE_PATTERNS = [
  { $regex: 'VP|Vice President', $options: 'i' },
  { $regex: 'Engineer' },
  { $regex: '^Head of' },
  { $regex: 'director', $options: 'i' },
  { $regex: 'Founder|Owner' },
  { $regex: 'Manager$' },
];
const QUERY_COUNTRIES = ['US', 'GB', 'DE', 'IN', 'FR', 'BR', 'CA'];

function indexedQuery(sample: number) {
  return {
    filters: {
      currentTitle: TITLE_PATTERNS[sample % TITLE_PATTERNS.length],
      countryCode: QUERY_COUNTRIES[Math.floor(sample / TITLE_PATTERNS.length) % QUERY_COUNTRIES.length],
    },
    sort: { lastObservedAt: -1 },
    limit: 100,
  };
}

async function measureQuery(api: Api): Promise<Latency & { rowsPerPage: number }> {
  for (let sample = 0; sample < WARMUP; sample += 1)
    await api.request('POST', '/api/query/people', indexedQuery(sample));
  const times: number[] = [];
  let rows = 0;
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const { ms, body } = await api.request<QueryPage>('POST', '/api/query/people', indexedQuery(sample));
    times.push(ms);
    rows += body.data.length;
  }
  return { ...latency(times), rowsPerPage: Math.round(rows / SAMPLES) };
}

/** Walks of CURSOR_PAGES pages by nextCursor (one country each, in the default order); pages 11-20 are timed. */
async function measureDeepCursor(api: Api): Promise<Latency & { walks: number; deepestPage: number }> {
  const deep: number[] = [];
  let deepestPage = 0;
  let walks = 0;
  const minimum = Math.max(50, SAMPLES);
  for (let walk = 0; deep.length < minimum && walk < 100; walk += 1) {
    const country = ['US', 'GB', 'IN'][walk % 3]!; // the biggest countries
    let cursor: string | null = null;
    for (let page = 1; page <= CURSOR_PAGES; page += 1) {
      const body: Record<string, unknown> = {
        filters: { countryCode: country },
        sort: { lastObservedAt: -1 },
        limit: 100,
        ...(cursor ? { cursor } : {}),
      };
      const result: { ms: number; body: QueryPage } = await api.request<QueryPage>(
        'POST',
        '/api/query/people',
        body,
      );
      // The first walk warms up.
      if (walk > 0 && page >= DEEP_FROM_PAGE) deep.push(result.ms);
      deepestPage = Math.max(deepestPage, page);
      cursor = result.body.pagination.nextCursor;
      if (!cursor) break;
    }
    if (walk > 0) walks += 1;
    if (deepestPage < DEEP_FROM_PAGE)
      throw new Error(`only ${deepestPage} pages of ${country}: seed more people`);
  }
  return { ...latency(deep), walks, deepestPage };
}

/** Typos, missing letters, swapped letters, accents left out, a company name misspelt. */
const SEARCH_QUERIES = [
  'jon smyth',
  'katherin jonson',
  'mohamed al rashid',
  'sofia fernandez',
  'jurgen muller',
  'amelie dubios',
  'priya patell',
  'northwnd analytics',
  'siobhan murphy',
  'hiroshi tanaka',
];

interface SearchResponse {
  data: { fullName: string | null; currentCompany: string | null; score: number }[];
  meta: { fuzzy: boolean; truncated: boolean };
}

async function measureSearch(
  api: Api,
): Promise<Latency & { queries: { q: string; hits: number; fuzzy: boolean; top: string | null }[] }> {
  const path = (q: string) => `/api/search/people?q=${encodeURIComponent(q)}`;
  const queries: { q: string; hits: number; fuzzy: boolean; top: string | null }[] = [];
  for (const q of SEARCH_QUERIES) {
    const { body } = await api.request<SearchResponse>('GET', path(q));
    const top = body.data[0];
    queries.push({
      q,
      hits: body.data.length,
      fuzzy: body.meta.fuzzy,
      top: top ? [top.fullName, top.currentCompany].filter(Boolean).join(', ') : null,
    });
  }
  for (let sample = SEARCH_QUERIES.length; sample < WARMUP; sample += 1) {
    await api.request('GET', path(SEARCH_QUERIES[sample % SEARCH_QUERIES.length]!));
  }
  const times: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    times.push((await api.request('GET', path(SEARCH_QUERIES[sample % SEARCH_QUERIES.length]!))).ms);
  }
  return { ...latency(times), queries };
}

interface ProcessMemory {
  rssMb: number;
  hwmMb: number;
  cpuSeconds: number;
}

/** VmRSS, VmHWM (peak RSS since start) and CPU time of a process, from /proc (Linux). */
function processMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    rssMb: Math.round(kb('VmRSS') / 1024),
    hwmMb: Math.round(kb('VmHWM') / 1024),
    cpuSeconds: processCpuSeconds(pid)!.own,
  };
}

interface ExportStatus {
  status: 'pending' | 'processing' | 'completed' | 'failed';
  rowsDone: number;
  sizeBytes: number;
  startedAt: string | null;
  completedAt: string | null;
  error?: string;
}

async function measureExport(api: Api, baseUrl: string, pid: number, rows: number) {
  const before = processMemory(pid);
  let peakRssMb = before.rssMb;
  const sampler = setInterval(() => {
    try {
      peakRssMb = Math.max(peakRssMb, processMemory(pid).rssMb);
    } catch {
      // the process ended: the run fails below
    }
  }, 50);
  try {
    const started = performance.now();
    const { body: created } = await api.request<{ jobId: string }>('POST', '/api/export/people/csv', {});
    let status: ExportStatus;
    for (;;) {
      ({ body: status } = await api.request<ExportStatus>('GET', `/api/export/status/${created.jobId}`));
      if (status.status === 'completed') break;
      if (status.status === 'failed') throw new Error(`the export failed: ${status.error ?? 'unknown'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const producedAt = performance.now();
    const response = await fetch(`${baseUrl}/api/export/download/${created.jobId}`, {
      headers: { 'x-api-key': API_KEY },
    });
    if (response.status !== 200 || !response.body) throw new Error(`download: HTTP ${response.status}`);
    let bytes = 0;
    for await (const chunk of response.body) bytes += (chunk as Uint8Array).byteLength; // discarded, as /dev/null
    const finished = performance.now();
    if (bytes !== status.sizeBytes) throw new Error(`downloaded ${bytes} of ${status.sizeBytes} bytes`);
    if (status.rowsDone !== rows) throw new Error(`exported ${status.rowsDone} of ${rows} people`);
    const after = processMemory(pid);
    const jobSeconds = (Date.parse(status.completedAt!) - Date.parse(status.startedAt!)) / 1000;
    const downloadSeconds = (finished - producedAt) / 1000;
    return {
      rows: status.rowsDone,
      fileMb: round(bytes / 2 ** 20),
      jobSeconds: round(jobSeconds),
      rowsPerSecond: Math.round(status.rowsDone / jobSeconds),
      downloadSeconds: round(downloadSeconds),
      downloadRowsPerSecond: Math.round(status.rowsDone / downloadSeconds),
      endToEndSeconds: round((finished - started) / 1000),
      serviceRssBeforeMb: before.rssMb,
      servicePeakRssMb: Math.max(peakRssMb, after.rssMb),
      serviceVmHwmMb: after.hwmMb,
      serviceCpuSeconds: round(after.cpuSeconds - before.cpuSeconds),
    };
  } finally {
    clearInterval(sampler);
  }
}

async function tableSizes(url: string): Promise<Record<string, { rows: number; mb: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; rows: string; mb: string }>(
      `SELECT relname AS name, reltuples::bigint::text AS rows, round(pg_total_relation_size(oid) / 1048576.0)::text AS mb
         FROM pg_class WHERE relname IN ('persons', 'person_aliases', 'companies', 'locations') ORDER BY relname`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, { rows: Number(row.rows), mb: Number(row.mb) }]));
  } finally {
    await client.end();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}

async function main(): Promise<void> {
  if (!Number.isInteger(PEOPLE) || PEOPLE < 20_000)
    throw new Error('BENCH_PEOPLE must be an integer >= 20000');
  const report: Record<string, unknown> = {
    benchmark: 'read',
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage: os.loadavg().map(round),
    people: PEOPLE,
    samples: SAMPLES,
  };
  const database = await benchDatabase();
  report.database = database.mode;
  try {
    process.stderr.write(`seeding ${PEOPLE} people\n`);
    const seeded = await seed(database.url, PEOPLE);
    report.seed = { ...seeded, peoplePerSecond: Math.round(PEOPLE / seeded.seconds) };
    report.tables = await tableSizes(database.url);
    console.log(`seeded ${PEOPLE} people in ${seeded.seconds} s (${JSON.stringify(seeded.steps)})`);

    const service = await startService({
      DATABASE_URL: database.url,
      API_KEYS: API_KEY,
      READ_RATE_LIMIT: '0',
      WEBHOOK_SECRET: 'bench-secret',
      EXPORT_MAX_ROWS: String(Math.max(PEOPLE, 1_000_000)),
      EXPORT_WORKER_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    });
    try {
      const api = new Api(service.baseUrl);
      const query = await measureQuery(api);
      const deepCursor = await measureDeepCursor(api);
      const search = await measureSearch(api);
      const exported = await measureExport(api, service.baseUrl, service.child.pid!, PEOPLE);
      report.query = query;
      report.deepCursor = deepCursor;
      report.search = search;
      report.export = exported;
      report.targets = [
        {
          name: 'indexed query p95',
          unit: 'ms',
          target: `< ${READ_TARGETS.queryP95Ms}`,
          value: query.p95Ms,
          pass: query.p95Ms < READ_TARGETS.queryP95Ms,
        },
        {
          name: 'fuzzy search p95',
          unit: 'ms',
          target: `< ${READ_TARGETS.searchP95Ms}`,
          value: search.p95Ms,
          pass: search.p95Ms < READ_TARGETS.searchP95Ms,
        },
        {
          name: 'export rows/s',
          unit: 'rows/s',
          target: `>= ${READ_TARGETS.exportRowsPerSecond.toLocaleString('en-US')}`,
          value: exported.rowsPerSecond,
          pass: exported.rowsPerSecond >= READ_TARGETS.exportRowsPerSecond,
        },
        {
          name: 'export peak RSS (service)',
          unit: 'MB',
          target: `< ${READ_TARGETS.exportPeakRssMb}`,
          value: exported.servicePeakRssMb,
          pass: exported.servicePeakRssMb < READ_TARGETS.exportPeakRssMb,
        },
      ];

      console.table({
        'indexed query (title regex + country, sort, limit 100)': {
          p50: `${query.p50Ms} ms`,
          p95: `${query.p95Ms} ms`,
          samples: query.samples,
          target: `p95 < ${READ_TARGETS.queryP95Ms} ms: ${verdict(query.p95Ms < READ_TARGETS.queryP95Ms)}`,
        },
        [`deep pages by cursor (pages ${DEEP_FROM_PAGE}-${CURSOR_PAGES})`]: {
          p50: `${deepCursor.p50Ms} ms`,
          p95: `${deepCursor.p95Ms} ms`,
          samples: deepCursor.samples,
          target: 'reported (no target of its own)',
        },
        'fuzzy search (typos)': {
          p50: `${search.p50Ms} ms`,
          p95: `${search.p95Ms} ms`,
          samples: search.samples,
          target: `p95 < ${READ_TARGETS.searchP95Ms} ms: ${verdict(search.p95Ms < READ_TARGETS.searchP95Ms)}`,
        },
      });
      console.table(search.queries);
      console.log(
        `export of ${exported.rows} people (CSV, ${exported.fileMb} MB): job ${exported.rowsPerSecond} rows/s ` +
          `(target >= ${READ_TARGETS.exportRowsPerSecond}: ${verdict(exported.rowsPerSecond >= READ_TARGETS.exportRowsPerSecond)}), ` +
          `download ${exported.downloadRowsPerSecond} rows/s, end to end ${exported.endToEndSeconds} s; ` +
          `service peak RSS ${exported.servicePeakRssMb} MB (target < ${READ_TARGETS.exportPeakRssMb}: ` +
          `${verdict(exported.servicePeakRssMb < READ_TARGETS.exportPeakRssMb)}), VmHWM ${exported.serviceVmHwmMb} MB`,
      );
    } finally {
      await service.stop();
    }
  } finally {
    await database.close();
  }
  report.loadAverageAfter = os.loadavg().map(round);
  saveReport('read', report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
