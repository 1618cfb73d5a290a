/** E-mail clean-up for identity matching. Pure; never throws. */

const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

const ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');
const DOMAIN_LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}\\.)+(?:\\p{L}{2,63}|xn--[a-z0-9-]{1,59})$`, 'u');

/** Placeholders people type into forms; they would otherwise tie unrelated people together. */
const BLOCKED_ADDRESSES: ReadonlySet<string> = new Set([
  'test@test.com',
  'test@example.com',
  'email@email.com',
  'none@none.com',
  'na@na.com',
  'noemail@noemail.com',
]);
const BLOCKED_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net'];
const BLOCKED_LOCAL_PART = /^(?:no-?reply|do-?not-?reply)/;

/** The address trimmed (and without `mailto:`), original case, or null when junk or blocked. */
export function cleanEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const candidate = value.trim().replace(/^mailto:/i, '');
  if (candidate.length > MAX_EMAIL_LENGTH) return null;
  return isUsableAddress(candidate.toLowerCase()) ? candidate : null;
}

/** The address lower-cased, or null when junk or blocked (`n/a`, `noreply@…`, `…@example.com`, bad shape). */
export function normaliseEmail(value: unknown): string | null {
  return cleanEmail(value)?.toLowerCase() ?? null;
}

function isUsableAddress(address: string): boolean {
  const atIndex = address.lastIndexOf('@');
  if (atIndex <= 0) return false;
  const localPart = address.slice(0, atIndex);
  const domain = address.slice(atIndex + 1);
  return hasValidShape(localPart, domain) && !isBlocked(address, localPart, domain);
}

function hasValidShape(localPart: string, domain: string): boolean {
  return localPart.length <= MAX_LOCAL_PART_LENGTH && LOCAL_PART.test(localPart) && DOMAIN.test(domain);
}

function isBlocked(address: string, localPart: string, domain: string): boolean {
  if (BLOCKED_ADDRESSES.has(address) || BLOCKED_LOCAL_PART.test(localPart)) return true;
  return BLOCKED_DOMAINS.some((blocked) => domain === blocked || domain.endsWith(`.${blocked}`));
}
