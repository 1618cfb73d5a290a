import { z } from 'zod';

/** Event types whose `data` describes a LinkedIn profile and feeds identity resolution (Phase 2). */
export const PROFILE_KINDS = ['visit', 'scan'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

export function isProfileKind(kind: string): kind is ProfileKind {
  return (PROFILE_KINDS as readonly string[]).includes(kind);
}

const timeValue = z.union([z.number().finite(), z.string().max(64)]).nullish();
const text = z.union([z.string(), z.number(), z.null()]).optional();
const plainObject = z.custom<Record<string, unknown>>(
  (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
  { message: 'expected an object' },
);

// Exported for the OpenAPI document.
export const envelopeSchema = z.looseObject({
  userid: z.union([z.string().max(256), z.number()]).nullish(),
  time: timeValue,
  type: z.string().trim().min(1).max(64),
  event: z.string().trim().min(1).max(64),
  messagecontext: z.union([z.string().max(1024), z.number()]).nullish(),
  data: plainObject,
});

/** The text fields of a profile event's `data` (the CSV importer maps export columns onto the same names). */
export const PROFILE_TEXT_FIELDS = [
  'id',
  'Profile',
  'PublicProfile',
  'Profile URL',
  'SalesProfile',
  'RecruiterProfile',
  'Picture',
  'Thumbnail',
  'Degree',
  'Connection Degree',
  'First Name',
  'Middle Name',
  'Last Name',
  'Connections',
  'Summary',
  'From',
  'Title',
  'Company',
  'CompanyID',
  'CompanyProfile',
  'CompanyWebsite',
  'PersonalWebsite',
  'Email',
  'Phone',
  'IM',
  'Twitter',
  'Location',
  'Industry',
] as const;

// Exported for the OpenAPI document.
export const profileDataSchema = z.looseObject({
  ...Object.fromEntries(PROFILE_TEXT_FIELDS.map((field) => [field, text])),
  VisitTime: timeValue,
  ScanTime: timeValue,
  'My Tags': z.union([z.array(z.union([z.string(), z.number()])), z.string(), z.null()]).optional(),
  'My Notes': z.union([z.array(z.unknown()), z.string(), z.null()]).optional(),
  extended: z
    .union([
      z.looseObject({
        positions: z.array(z.unknown()).nullish(),
        schools: z.array(z.unknown()).nullish(),
        skills: z.array(z.unknown()).nullish(),
      }),
      z.null(),
    ])
    .optional(),
});

export interface Envelope {
  userId: string | null;
  type: string;
  event: string;
  /** VisitTime / ScanTime for profile events, else the envelope `time`; null when neither is present. */
  eventTime: Date | null;
  envelopeTime: Date | null;
  dataId: string | null;
  data: Record<string, unknown>;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export type EnvelopeResult = { ok: true; envelope: Envelope } | { ok: false; problems: FieldProblem[] };

/** Validates without transforming: the stored payload is the parsed body itself, never a re-built copy. */
export function readEnvelope(body: unknown): EnvelopeResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: [{ field: '(body)', message: 'expected a JSON object' }] };
  }
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, problems: toProblems(envelope.error) };

  const raw = body as Record<string, unknown>;
  const data = raw.data as Record<string, unknown>;
  const type = envelope.data.type.trim().toLowerCase();
  const problems: FieldProblem[] = [];

  if (isProfileKind(type)) {
    const profile = profileDataSchema.safeParse(data);
    if (!profile.success) problems.push(...toProblems(profile.error, 'data'));
  }
  const envelopeTime = parseTime(raw.time, 'time', problems);
  const ownTime = isProfileKind(type)
    ? parseTime(
        type === 'visit' ? (data.VisitTime ?? data.ScanTime) : (data.ScanTime ?? data.VisitTime),
        `data.${type === 'visit' ? 'VisitTime' : 'ScanTime'}`,
        problems,
      )
    : null;
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    envelope: {
      userId: scalarText(raw.userid),
      type,
      event: envelope.data.event.trim().toLowerCase(),
      eventTime: ownTime ?? envelopeTime,
      envelopeTime,
      dataId: scalarText(data.id),
      data,
    },
  };
}

/** Strings and numbers as trimmed text; anything else (validated away earlier) as null. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

/** Dux-Soup sends epoch milliseconds as numbers; ISO strings and numeric strings are accepted too. */
export function parseTime(value: unknown, field: string, problems: FieldProblem[]): Date | null {
  if (value === undefined || value === null || value === '') return null;
  let millis: number;
  if (typeof value === 'number') millis = value;
  else if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) millis = Number(value);
  else if (typeof value === 'string') millis = Date.parse(value);
  else millis = Number.NaN;
  // Epoch seconds (10 digits) rather than milliseconds.
  if (Number.isFinite(millis) && millis > 0 && millis < 1e11) millis *= 1000;
  if (!Number.isFinite(millis) || millis < EARLIEST || millis >= LATEST) {
    problems.push({
      field,
      message: 'expected epoch milliseconds or an ISO-8601 time between 2000 and 2100',
    });
    return null;
  }
  return new Date(Math.trunc(millis));
}

function toProblems(error: z.ZodError, prefix?: string): FieldProblem[] {
  return error.issues.slice(0, 20).map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}
