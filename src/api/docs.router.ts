import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import type { OpenApiDocument } from './openapi/document';
import { buildOpenApiDocument } from './openapi/document';

/**
 * Swagger UI loads its scripts from this path and writes inline styles (its page's `<style>` and React style
 * attributes); nothing else on the site may. No upgrade-insecure-requests, so the page works over plain HTTP in
 * development.
 */
const swaggerUiPolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
});

function packageVersion(): string {
  try {
    const file = path.join(__dirname, '..', '..', 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

let document: OpenApiDocument | null = null;
/** Built once per process, on first use: it describes the code, not the configuration. */
export function openApiDocument(): OpenApiDocument {
  document ??= buildOpenApiDocument(packageVersion());
  return document;
}

/** `GET /api/docs/openapi.json` and Swagger UI at `/api/docs` (public: the document holds no personal data). */
export function docsRouter(): Router {
  const router = Router();
  // Swagger UI reads the document from ./openapi.json; validatorUrl null: no call to an outside validator.
  const options = { swaggerUrl: './openapi.json', swaggerOptions: { validatorUrl: null } };

  router.get('/api/docs/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get(
    '/api/docs',
    swaggerUiPolicy,
    (req, res, next) => {
      // The page's asset URLs are relative: they resolve under /api/docs/ only with the trailing slash.
      if (!req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, 'docs/');
      next();
    },
    swaggerUi.setup(undefined, options),
  );
  router.use('/api/docs', swaggerUiPolicy, ...swaggerUi.serveFiles(undefined, options));
  return router;
}
