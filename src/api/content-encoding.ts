import type { RequestHandler, Response } from 'express';

const SET_ASIDE = 'contentEncodingSetAside';

/**
 * body-parser would decompress the body itself and lose the bytes as received when they do not decompress. Set
 * aside, the encoding no longer tells it to: it reads the bytes as they came (its limit then bounds the compressed
 * size) and the intake decompresses them with `decodeBody` (src/ingest/json-body.ts), keeping them when it cannot.
 */
export const setAsideContentEncoding: RequestHandler = (req, res, next) => {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined) {
    res.locals[SET_ASIDE] = encoding;
    delete req.headers['content-encoding'];
  }
  next();
};

/** The Content-Encoding the request came with, once `setAsideContentEncoding` took it off the request. */
export function contentEncodingSetAside(res: Response): string | null {
  const encoding: unknown = res.locals[SET_ASIDE];
  return typeof encoding === 'string' ? encoding : null;
}
