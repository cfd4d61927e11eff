import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { openApiDocument } from '../openapi.js';

/** apps/intake/ui, from src/routes and from dist/routes alike. */
const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/**
 * What describes and shows the API: GET /openapi.json and the operator page at /ui/. Both are
 * open; the page sends the bearer token typed into it with every API call it makes.
 */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get('/ui', (req, res, next) => {
    if (req.path.endsWith('/')) next();
    else res.redirect(301, '/ui/');
  });
  router.use(
    '/ui',
    (_req, res, next) => {
      // The page runs only its own script and talks only to this origin.
      res.set({
        'Content-Security-Policy':
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      });
      next();
    },
    express.static(UI_DIR, { index: 'index.html', redirect: false, fallthrough: true }),
  );
  return router;
}
