// GET /docs: the API reference people read, Swagger UI over the OpenAPI 3.1 document at
// /openapi.json. The UI is swagger-ui-dist (SmartBear's own prebuilt bundle, no dependencies of its
// own beyond a telemetry shim that package.json's scarfSettings switches off), served from the
// installed package: nothing is fetched from a CDN, so /docs works offline and under a strict CSP
// (no inline script: the page loads its initializer from /docs/init.js). Not @fastify/swagger-ui: it
// would add @fastify/static and six routes of its own (/docs/json, /docs/yaml, /docs/static/*, …)
// to document or hide, and serve its whole static folder; these fifty lines serve four files.
// Must not: serve any file of the package outside the allowlist below, or require a token (like
// /openapi.json, the reference describes the API; every call it makes still needs one).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { answer, answers, errorAnswer, SECURITY } from './openapi.js';

const DIST = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files the page needs, with their content types. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Loopwright API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const init = (specUrl: string): string => `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(specUrl)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    validatorUrl: null,
    persistAuthorization: false
  });
};
`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

export async function registerDocsRoutes(app: FastifyInstance, opts: { specUrl?: string } = {}): Promise<void> {
  const specUrl = opts.specUrl ?? '/openapi.json';
  const cache = new Map<string, Buffer>();
  const tags = ['operations'];
  const page = { summary: 'This document in Swagger UI (HTML)', tags, security: SECURITY.none, response: answers({ 200: answer('The Swagger UI page', z.string(), 'text/html') }) };
  const asset = {
    summary: "Swagger UI's own files (swagger-ui-dist) and its initializer",
    tags,
    security: SECURITY.none,
    response: answers({ 200: answer('The file (CSS, JavaScript or PNG)', z.string(), '*/*'), 404: errorAnswer('Not one of the allowlisted files') }),
  };
  app.get('/docs', { schema: page }, async (_req, reply) => reply.header('content-security-policy', CSP).type('text/html; charset=utf-8').send(PAGE));
  app.get<{ Params: { asset: string } }>('/docs/:asset', { schema: asset }, async (req, reply) => {
    const name = req.params.asset;
    if (name === 'init.js') return reply.type('application/javascript; charset=utf-8').send(init(specUrl));
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) return reply.code(404).send({ error: { code: 'not_found', message: 'no such documentation asset' } });
    let body = cache.get(name);
    if (!body) cache.set(name, (body = await readFile(path.join(DIST, name))));
    return reply.header('cache-control', 'public, max-age=86400').type(type).send(body);
  });
}
