import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../logger';
import type { HubspotObjectType, HubspotRecord } from './objects';
import type { AttemptFailure, BackoffSettings } from './retry';
import { DEFAULT_BACKOFF, nextDelay, rateLimitPolicyOf } from './retry';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';

/** HubSpot allows five search calls per second per account; a little under keeps us out of its 429s. */
export const DEFAULT_SEARCH_INTERVAL_MS = 220;

export interface HubspotClientOptions {
  baseUrl: string;
  /** Private app token, sent as `Authorization: Bearer`; never logged, never in an error message. */
  token: string;
  /** Per attempt, reading the body included. */
  timeoutMs: number;
  /** Retries after the first attempt (429, 5xx, timeouts, network errors). */
  maxRetries: number;
  backoff?: Partial<Omit<BackoffSettings, 'maxAttempts'>>;
  /** Minimum spacing of search calls (0 = none). */
  searchIntervalMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  logger?: Logger;
}

export interface Paging {
  next?: { after: string; link?: string };
}

export interface ListPage {
  results: HubspotRecord[];
  paging?: Paging;
}

export interface SearchPage extends ListPage {
  total: number;
}

export interface SearchFilter {
  propertyName: string;
  operator: 'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'IN';
  value?: string;
  values?: string[];
}

export interface SearchRequest {
  filterGroups: { filters: SearchFilter[] }[];
  sorts: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  properties: readonly string[];
  limit: number;
  after?: string;
}

/** A per-input error of a batch call (HubSpot's StandardError). */
export interface BatchError {
  status?: string;
  category?: string;
  subCategory?: string;
  message?: string;
  context?: Record<string, string[] | undefined>;
}

export interface BatchResponse<T> {
  /** 200, or 207 when some inputs failed (`errors`). */
  httpStatus: number;
  results: T[];
  errors: BatchError[];
}

export interface AssociationType {
  category: string;
  typeId: number;
  label: string | null;
}

export interface AssociationResult {
  from: { id: string };
  to: { toObjectId: string | number; associationTypes: AssociationType[] }[];
  paging?: Paging;
}

export interface BatchUpdateInput {
  id: string;
  properties: Record<string, string>;
}

interface FailureDetails {
  method: string;
  path: string;
  status: number | null;
  category: string | null;
  subCategory: string | null;
  correlationId: string | null;
  policyName: string | null;
  attempts: number;
}

/** A HubSpot call that failed for good: not retryable, or still failing after every attempt. */
export class HubspotApiError extends Error {
  override readonly name = 'HubspotApiError';
  constructor(
    message: string,
    readonly details: FailureDetails,
  ) {
    super(message);
  }

  get status(): number | null {
    return this.details.status;
  }
}

type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Search calls are paced (their own per-second limit). */
  search?: boolean;
}

/**
 * HubSpot CRM v3 / v4 over `fetch`, with one retry policy for every call (see retry.ts): bounded attempts, a
 * timeout per attempt, and a HubspotApiError when it gives up.
 */
export class HubspotClient {
  private readonly baseUrl: string;
  private readonly backoff: BackoffSettings;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly searchIntervalMs: number;
  private nextSearchAt = 0;

  constructor(private readonly options: HubspotClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff, maxAttempts: options.maxRetries + 1 };
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.random = options.random ?? Math.random;
    this.searchIntervalMs = options.searchIntervalMs ?? DEFAULT_SEARCH_INTERVAL_MS;
  }

  /** One page of `GET /crm/v3/objects/{type}` (ordered by id; `archived: true` lists only archived records). */
  async listObjects(
    type: HubspotObjectType,
    page: { limit: number; after?: string | null; properties: readonly string[]; archived?: boolean },
    signal?: AbortSignal,
  ): Promise<ListPage> {
    const response = await this.request<ListPage>('GET', `/crm/v3/objects/${type}`, {
      query: {
        limit: page.limit,
        after: page.after ?? undefined,
        properties: page.properties,
        archived: page.archived === true ? 'true' : undefined,
      },
      signal,
    });
    return { results: response.body?.results ?? [], paging: response.body?.paging };
  }

  async searchObjects(
    type: HubspotObjectType,
    search: SearchRequest,
    signal?: AbortSignal,
  ): Promise<SearchPage> {
    const response = await this.request<SearchPage>('POST', `/crm/v3/objects/${type}/search`, {
      body: search,
      signal,
      search: true,
    });
    const body = response.body;
    return { total: body?.total ?? 0, results: body?.results ?? [], paging: body?.paging };
  }

  /** `POST /crm/v4/associations/{from}/{to}/batch/read`: at most 1000 inputs; `after` continues one input's list. */
  async readAssociations(
    from: HubspotObjectType,
    to: HubspotObjectType,
    inputs: { id: string; after?: string }[],
    signal?: AbortSignal,
  ): Promise<BatchResponse<AssociationResult>> {
    const response = await this.request<{ results?: AssociationResult[]; errors?: BatchError[] }>(
      'POST',
      `/crm/v4/associations/${from}/${to}/batch/read`,
      { body: { inputs }, signal },
    );
    return {
      httpStatus: response.status,
      results: response.body?.results ?? [],
      errors: response.body?.errors ?? [],
    };
  }

  /** `POST /crm/v3/objects/{type}/batch/update`: at most 100 inputs; 207 lists the ones that failed. */
  async batchUpdate(
    type: HubspotObjectType,
    inputs: BatchUpdateInput[],
    signal?: AbortSignal,
  ): Promise<BatchResponse<HubspotRecord>> {
    const response = await this.request<{ results?: HubspotRecord[]; errors?: BatchError[] }>(
      'POST',
      `/crm/v3/objects/${type}/batch/update`,
      { body: { inputs }, signal },
    );
    return {
      httpStatus: response.status,
      results: response.body?.results ?? [],
      errors: response.body?.errors ?? [],
    };
  }

  async request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; body: T | null }> {
    const url = this.baseUrl + path + queryString(options.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.token}`,
      accept: 'application/json',
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 1; ; attempt += 1) {
      options.signal?.throwIfAborted();
      if (options.search) await this.paceSearch(options.signal);
      let failure: AttemptFailure;
      try {
        const timeout = AbortSignal.timeout(this.options.timeoutMs);
        const response = await fetch(url, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
        });
        const body = await readBody(response);
        if (response.ok) return { status: response.status, body: body as T | null };
        failure = {
          kind: 'http',
          status: response.status,
          body,
          retryAfter: response.headers.get('retry-after'),
        };
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason ?? error;
        failure = isTimeout(error) ? { kind: 'timeout' } : { kind: 'network', message: describe(error) };
      }
      const wait = nextDelay(failure, attempt, this.backoff, this.random);
      if (wait === null) throw failureError(method, path, failure, attempt);
      this.options.logger?.[failure.kind === 'http' && failure.status === 429 ? 'info' : 'warn'](
        'hubspot call failed; retrying',
        { method, path: pathOnly(path), attempt, waitMs: wait, failure: summary(failure) },
      );
      await this.sleep(wait, options.signal).catch((error: unknown) => {
        throw options.signal?.aborted ? (options.signal.reason as unknown) : error;
      });
    }
  }

  private async paceSearch(signal?: AbortSignal): Promise<void> {
    const wait = this.nextSearchAt - Date.now();
    if (wait > 0) await this.sleep(wait, signal);
    this.nextSearchAt = Date.now() + this.searchIntervalMs;
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** By name: the DOMException may come from another realm (`instanceof Error` is not reliable for it). */
function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'TimeoutError';
}

function describe(error: unknown): string {
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: { code?: unknown } };
  const text = typeof message === 'string' ? message : String(error);
  return typeof cause?.code === 'string' ? `${text} (${cause.code})` : text;
}

function pathOnly(path: string): string {
  return path.split('?', 1)[0] ?? path;
}

function summary(failure: AttemptFailure): string {
  if (failure.kind === 'timeout') return 'timeout';
  if (failure.kind === 'network') return failure.message;
  const body = bodyFields(failure.body);
  return [String(failure.status), body.policyName ?? body.category, body.message]
    .filter((part) => part)
    .join(' ');
}

function bodyFields(body: unknown): Record<string, string | undefined> {
  if (body === null || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? record[key] : undefined);
  return {
    message: text('message'),
    category: text('category'),
    subCategory: text('subCategory'),
    correlationId: text('correlationId'),
    policyName: text('policyName'),
  };
}

function failureError(
  method: string,
  path: string,
  failure: AttemptFailure,
  attempts: number,
): HubspotApiError {
  const fields = failure.kind === 'http' ? bodyFields(failure.body) : {};
  const what =
    failure.kind === 'http' && failure.status === 429 && rateLimitPolicyOf(failure.body) === 'daily'
      ? 'daily limit reached'
      : summary(failure);
  const tries = attempts === 1 ? '' : ` after ${attempts} attempts`;
  return new HubspotApiError(`HubSpot ${method} ${pathOnly(path)} failed${tries}: ${what}`, {
    method,
    path: pathOnly(path),
    status: failure.kind === 'http' ? failure.status : null,
    category: fields.category ?? (failure.kind === 'http' ? null : failure.kind),
    subCategory: fields.subCategory ?? null,
    correlationId: fields.correlationId ?? null,
    policyName: fields.policyName ?? null,
    attempts,
  });
}
