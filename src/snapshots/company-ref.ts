import { asRecord, cleanString, foldForKey, normaliseWebsite, readOwn } from './normalise';
import type { UnknownRecord } from './normalise';

export type CompanyAliasKind = 'linkedin_id' | 'slug' | 'name_domain' | 'name';

export interface CompanyRef {
  linkedinId?: string;
  slug?: string;
  name?: string;
  website?: string;
  domain?: string;
  industry?: string;
  /** alias keys for the companies table: kind 'linkedin_id' | 'slug' | 'name_domain' | 'name', lower-case values */
  aliases: { kind: CompanyAliasKind; value: string }[];
}

export interface LinkedInCompanyPath {
  id?: string;
  slug?: string;
}

/**
 * The company an observation refers to, from `CompanyID`, `CompanyProfile`, `Company`, `CompanyWebsite`
 * and `Industry`. Null when the observation names no company (an industry alone, or a placeholder such
 * as "Self-employed", identifies nothing). Never throws.
 */
export function extractCompanyRef(data: unknown): CompanyRef | null {
  try {
    const record = asRecord(data);
    return record === undefined ? null : companyRefFrom(record);
  } catch {
    return null;
  }
}

function companyRefFrom(record: UnknownRecord): CompanyRef | null {
  const profile = parseLinkedInCompanyUrl(readOwn(record, 'CompanyProfile'));
  const linkedinId = parseCompanyId(readOwn(record, 'CompanyID')) ?? profile?.id;
  const slug = profile?.slug;
  const name = cleanString(readOwn(record, 'Company'));
  const website = normaliseWebsite(readOwn(record, 'CompanyWebsite'));
  const domain = website === undefined ? undefined : companyDomain(website);
  const identifyingName = name !== undefined && !isPlaceholderCompanyName(name);
  if (linkedinId === undefined && slug === undefined && !identifyingName && website === undefined)
    return null;

  const ref: CompanyRef = {
    aliases: companyAliases(linkedinId, slug, identifyingName ? name : undefined, domain),
  };
  if (linkedinId !== undefined) ref.linkedinId = linkedinId;
  if (slug !== undefined) ref.slug = slug;
  if (name !== undefined) ref.name = name;
  if (website !== undefined) ref.website = website;
  if (domain !== undefined) ref.domain = domain;
  const industry = cleanString(readOwn(record, 'Industry'));
  if (industry !== undefined) ref.industry = industry;
  return ref;
}

function companyAliases(
  linkedinId: string | undefined,
  slug: string | undefined,
  name: string | undefined,
  domain: string | undefined,
): CompanyRef['aliases'] {
  const aliases: CompanyRef['aliases'] = [];
  if (linkedinId !== undefined) aliases.push({ kind: 'linkedin_id', value: linkedinId });
  if (slug !== undefined) aliases.push({ kind: 'slug', value: slug });
  const normalisedName = name === undefined ? undefined : normaliseCompanyName(name);
  if (normalisedName !== undefined && domain !== undefined) {
    aliases.push({ kind: 'name_domain', value: `${normalisedName}|${domain}` });
  }
  if (normalisedName !== undefined) aliases.push({ kind: 'name', value: normalisedName });
  return aliases;
}

// ---------------------------------------------------------------------------------------------------------
// LinkedIn company ids and URLs
// ---------------------------------------------------------------------------------------------------------

/** Digits of a `CompanyID` ("5512309", 5512309, "urn:li:company:5512309"); anything else → undefined. */
export function parseCompanyId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  const text = cleanString(value, { maxLength: 100 });
  const match = text?.match(/^(?:urn:li:\w*company:)?(\d{1,20})$/i);
  return match?.[1];
}

const ORGANISATION_SEGMENTS = new Set(['company', 'school', 'showcase']);

/**
 * `/company/<digits>/`, `/sales/company/<digits>` → id; `/company/<slug>/` (also `/school/`, `/showcase/`)
 * → lower-case, percent-decoded slug. Only linkedin.com hosts; undefined when nothing is found.
 */
export function parseLinkedInCompanyUrl(value: unknown): LinkedInCompanyPath | undefined {
  const url = parseLinkedInUrl(value);
  if (url === undefined) return undefined;
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const index = segments.findIndex((segment) => ORGANISATION_SEGMENTS.has(segment.toLowerCase()));
  const next = index === -1 ? undefined : segments[index + 1];
  if (next === undefined) return undefined;
  if (/^\d{1,20}$/.test(next)) return { id: next };
  const slug = safeDecode(next)?.normalize('NFC').toLowerCase();
  return slug !== undefined && /^[^\s/?#]{1,200}$/u.test(slug) ? { slug } : undefined;
}

/** An https company-page URL without query or fragment (both only carry tracking). */
export function normaliseCompanyProfileUrl(value: unknown): string | undefined {
  const text = cleanString(value, { maxLength: 2_048 });
  const href = text === undefined || /\s/.test(text) ? undefined : normaliseWebsite(text);
  if (href === undefined) return undefined;
  const url = new URL(href);
  url.search = '';
  url.hash = '';
  return url.href;
}

function parseLinkedInUrl(value: unknown): URL | undefined {
  const text = cleanString(value, { maxLength: 2_048 });
  if (text === undefined) return undefined;
  try {
    const url = new URL(/^https?:\/\//i.test(text) ? text : `https://${text}`);
    const host = url.hostname.toLowerCase();
    return host === 'linkedin.com' || host.endsWith('.linkedin.com') ? url : undefined;
  } catch {
    return undefined;
  }
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Names and domains
// ---------------------------------------------------------------------------------------------------------

const LEGAL_SUFFIXES = new Set([
  'inc',
  'incorporated',
  'llc',
  'llp',
  'lp',
  'ltd',
  'limited',
  'gmbh',
  'co',
  'corp',
  'corporation',
  'plc',
  'sa',
  'ag',
  'bv',
  'nv',
  'pty',
  'pte',
  'pvt',
  'srl',
  'sarl',
  'sas',
]);

/**
 * Comparison form of a company name: lower-case, accents and punctuation removed, "&" read as "and",
 * trailing legal suffixes dropped ("Acme Co., Ltd." → "acme"). Undefined when nothing is left.
 */
export function normaliseCompanyName(name: unknown): string | undefined {
  const text = cleanString(name);
  if (text === undefined) return undefined;
  const words = foldForKey(text)
    .replace(/&/g, ' and ')
    .replace(/[.'’`]/g, '')
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((word) => word !== '');
  while (words.length > 1 && isDroppableTrailingWord(words[words.length - 1] ?? '')) words.pop();
  return words.length === 0 ? undefined : words.join(' ');
}

function isDroppableTrailingWord(word: string): boolean {
  // "and" is left behind by "Quartz & Co" once "co" is gone.
  return LEGAL_SUFFIXES.has(word) || word === 'and';
}

const PLACEHOLDER_COMPANY_NAMES = new Set([
  'self employed',
  'self-employed',
  'selfemployed',
  'freelance',
  'freelancer',
  'independent',
  'independent consultant',
  'confidential',
  'stealth',
  'stealth mode',
  'stealth startup',
  'retired',
  'unemployed',
  'none',
  'n/a',
  'na',
  'various',
  'open to work',
  'looking for new opportunities',
  'seeking new opportunities',
  'career break',
]);

function isPlaceholderCompanyName(name: string): boolean {
  return PLACEHOLDER_COMPANY_NAMES.has(foldForKey(name));
}

/** Second-level labels under which registrations happen one level deeper (acme.co.uk), plus hosting platforms. */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'ltd.uk',
  'plc.uk',
  'me.uk',
  'com.au',
  'net.au',
  'org.au',
  'edu.au',
  'gov.au',
  'co.nz',
  'org.nz',
  'co.jp',
  'ne.jp',
  'or.jp',
  'co.kr',
  'com.br',
  'net.br',
  'org.br',
  'com.mx',
  'com.ar',
  'com.co',
  'com.cn',
  'net.cn',
  'org.cn',
  'com.hk',
  'com.sg',
  'com.my',
  'co.in',
  'net.in',
  'org.in',
  'co.za',
  'com.tr',
  'co.il',
  'com.tw',
  'co.id',
  'com.ph',
  'com.pk',
  'com.ng',
  'co.ke',
  'com.eg',
  'com.sa',
  'com.vn',
  'co.th',
  'github.io',
  'herokuapp.com',
  'netlify.app',
  'vercel.app',
  'wixsite.com',
  'blogspot.com',
  'wordpress.com',
  'myshopify.com',
  'squarespace.com',
  'webflow.io',
  'azurewebsites.net',
  'appspot.com',
  'web.app',
  'firebaseapp.com',
  'pages.dev',
  'notion.site',
]);

/** Sites that host many companies' pages: their domain says nothing about which company it is. */
const SHARED_DOMAINS = new Set([
  'linkedin.com',
  'facebook.com',
  'fb.com',
  'instagram.com',
  'twitter.com',
  'x.com',
  'youtube.com',
  'youtu.be',
  'tiktok.com',
  'linktr.ee',
  'bit.ly',
  'medium.com',
  'github.com',
  'google.com',
  'wa.me',
  't.me',
]);

/** Registrable domain of a website URL without "www." ("https://careers.acme.co.uk/x" → "acme.co.uk"). */
export function companyDomain(website: string): string | undefined {
  try {
    const domain = registrableDomain(new URL(website).hostname);
    return domain === undefined || SHARED_DOMAINS.has(domain) ? undefined : domain;
  } catch {
    return undefined;
  }
}

function registrableDomain(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || host.startsWith('[')) return host;
  const labels = host.split('.');
  const size = MULTI_LABEL_SUFFIXES.has(labels.slice(-2).join('.')) ? 3 : 2;
  return labels.length < size ? undefined : labels.slice(-size).join('.');
}
