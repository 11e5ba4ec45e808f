// The codec endpoint for the Temporal Web UI and CLI (Temporal's documented codec-server protocol):
// `POST /codec/decode` and `POST /codec/encode` take `{ "payloads": [{ "metadata": { k: base64 },
// "data": base64 }] }` (protobuf JSON of temporal.api.common.v1.Payload) and answer the same shape,
// run through the process's own PayloadCodec. Point the UI at `http://<host>:<port>/codec`
// (`temporal server start-dev --ui-codec-endpoint ...`, or the UI's Data Encoder settings) and the
// CLI with `--codec-endpoint http://<host>:<port>/codec --codec-auth "Bearer <token>"`.
// Authentication: a bearer token from the codec token list (the UI's "pass access token" option
// forwards one), or a session cookie set by POST /codec/session with such a token, for a UI without
// its own login (enable "include cross-origin credentials"); GET /codec/session serves the sign-in
// form for a person with a browser. CORS: only the configured UI origins get
// CORS headers, so a page from any other origin cannot read decoded payloads with a user's cookie.
// CORS is hand-written for these two routes: a fixed origin list and three headers do not justify a
// plugin that would apply to the whole app.
// Must not: log payloads, decode for unauthenticated callers, or answer any origin with `*`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { createBearerAuth } from './auth.js';
import { fieldErrors } from './errors.js';
import { answer, answers, E401, E413, E415, errorAnswer, FORM_TYPE, JSON_BODY_ERRORS, JSON_TYPE, noBody, parsedByHandler, SECURITY } from './openapi.js';
import { ZCodecSession } from './schemas.js';

export interface CodecEndpointConfig {
  codec: PayloadCodec;
  /** Tokens allowed to decode; at least one. */
  tokens: string[];
  /** Browser origins of the Temporal UI allowed to call the endpoint, e.g. http://localhost:8233. */
  allowedOrigins: string[];
  /** When set, an X-Namespace header that names a namespace must name one of these. */
  namespaces?: string[];
  /** Session cookie lifetime; default 8 h. */
  sessionTtlMs?: number;
  now?: () => number;
}

// Payload fields other than metadata and data (newer API versions add some) are ignored, not refused:
// the UI sends whatever its API version has.
const ZJsonPayload = z.object({
  metadata: z.record(z.string(), z.string().base64()).nullish(),
  data: z.string().base64().nullish(),
});
export const ZCodecPayloads = z.strictObject({ payloads: z.array(ZJsonPayload).max(10_000) });
/** POST /codec/session, as a form (the sign-in page) or JSON. */
export const ZCodecSessionBody = z.object({ token: z.string().min(1) });

const COOKIE = 'loopwright_codec';
// No script, no external resources: a token goes from this form to this service only.
const SIGN_IN_PAGE = `<!doctype html><meta charset="utf-8"><title>Loopwright codec sign-in</title>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">
<h1>Decode Temporal payloads</h1>
<p>Sign in with your Loopwright API token; the Temporal UI then decodes payloads through this endpoint for 8 hours
(in the UI's codec server settings: this endpoint, <em>Include cross-origin credentials</em> on, overriding the
remote codec configuration).</p>
<form method="post" action="/codec/session"><input type="password" name="token" autocomplete="off" required size="40">
<button type="submit">Sign in</button></form></body>`;
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';

function fromJson(p: z.infer<typeof ZJsonPayload>) {
  return {
    metadata: p.metadata ? Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
    ...(p.data ? { data: Buffer.from(p.data, 'base64') } : {}),
  };
}

function toJson(p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    ...(p.data && p.data.length > 0 ? { data: Buffer.from(p.data).toString('base64') } : {}),
  };
}

function cookieValue(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

export async function registerCodecRoutes(app: FastifyInstance, cfg: CodecEndpointConfig): Promise<void> {
  const auth = createBearerAuth(cfg.tokens);
  const origins = new Set(cfg.allowedOrigins);
  const now = cfg.now ?? Date.now;
  const ttl = cfg.sessionTtlMs ?? 8 * 3_600_000;
  // Per process: a restart ends every UI session, which is the safe direction.
  const sessionKey = randomBytes(32);
  const sign = (expires: number): string => createHmac('sha256', sessionKey).update(`codec-session:${expires}`).digest('base64url');
  const validSession = (value: string | undefined): boolean => {
    const m = /^(\d{1,16})\.([\w-]{43})$/.exec(value ?? '');
    if (!m || Number(m[1]) < now()) return false;
    const expected = Buffer.from(sign(Number(m[1])));
    const given = Buffer.from(m[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  };

  const cors = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = req.headers.origin;
    if (!origin) return true; // not a browser cross-origin call (CLI, curl)
    // The sign-in form posts from this service's own origin: same-origin, no CORS headers needed.
    if (req.url.startsWith('/codec/session') && origin === `${req.protocol}://${req.headers.host}`) return true;
    if (!origins.has(origin)) return false;
    void reply.headers({ 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' });
    return true;
  };

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req, reply) => {
      if (!cors(req, reply)) throw new LoopwrightError('forbidden', 'origin not allowed to use the codec endpoint');
      if (req.method === 'OPTIONS' || req.url.startsWith('/codec/session')) return;
      if (!req.headers.authorization && validSession(cookieValue(req.headers.cookie))) return;
      auth.check(req.headers.authorization);
      // A caller that names another namespace is refused; one that names none (the Temporal CLI
      // 1.5 sends an empty X-Namespace) is served: the token is the authorisation, the namespace a filter.
      const ns = req.headers['x-namespace'];
      if (cfg.namespaces && typeof ns === 'string' && ns !== '' && !cfg.namespaces.includes(ns)) {
        throw new LoopwrightError('forbidden', 'namespace not served by this codec endpoint');
      }
    });

    const tags = ['codec'];
    const forbidden = errorAnswer('Origin not allowed');
    const preflight = { summary: 'CORS preflight', tags, security: SECURITY.none, response: answers({ 204: noBody('Allowed methods and headers'), 403: forbidden }) };
    for (const route of ['/codec/encode', '/codec/decode', '/codec/session']) {
      scope.options(route, { schema: preflight }, async (_req, reply) =>
        reply.code(204).headers({ 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '600' }).send(),
      );
    }

    const handler = (op: 'encode' | 'decode') => async (req: FastifyRequest) => {
      const parsed = ZCodecPayloads.safeParse(req.body);
      if (!parsed.success) throw new LoopwrightError('invalid_input', 'expected { "payloads": [{ "metadata": {...}, "data": "<base64>" }] }', { details: { fields: fieldErrors(parsed.error.issues) } });
      const payloads = parsed.data.payloads.map(fromJson);
      let out;
      try {
        out = op === 'encode' ? await cfg.codec.encode(payloads) : await cfg.codec.decode(payloads);
      } catch (e) {
        // Unknown key id or failed authentication: the caller's data, not our fault; say which, never the payload.
        throw new LoopwrightError('invalid_input', `cannot ${op}: ${(e as Error).message}`);
      }
      return { payloads: out.map(toJson) };
    };
    const codecDoc = (op: 'encode' | 'decode') => ({
      summary: `Payload codec: ${op}`,
      tags,
      security: SECURITY.codec,
      headers: z.object({ 'x-namespace': z.string().optional().meta({ description: 'The namespace the payloads belong to (when the endpoint serves only some)' }) }),
      body: ZCodecPayloads,
      response: answers({ 200: answer(`The payloads, ${op}d`, ZCodecPayloads), ...JSON_BODY_ERRORS, 401: E401, 403: errorAnswer('Origin or namespace not allowed') }),
    });
    scope.post('/codec/encode', parsedByHandler(codecDoc('encode')), handler('encode'));
    scope.post('/codec/decode', parsedByHandler(codecDoc('decode')), handler('decode'));

    // A browser session for the Temporal UI: POST a codec token once (form or JSON), get a cookie.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    const signInDoc = { summary: 'The codec sign-in form (HTML) for a person with a browser', tags, security: SECURITY.none, response: answers({ 200: answer('The sign-in page', z.string(), 'text/html'), 403: forbidden }) };
    scope.get('/codec/session', { schema: signInDoc }, async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; form-action 'self'; style-src 'unsafe-inline'")
        .send(SIGN_IN_PAGE),
    );
    const sessionDoc = {
      summary: 'Open a codec session: a codec token in, an HttpOnly cookie out',
      tags,
      security: SECURITY.none,
      consumes: [FORM_TYPE, JSON_TYPE],
      body: ZCodecSessionBody,
      response: answers({ 200: answer('The session cookie is set', ZCodecSession), 401: E401, 403: forbidden, 413: E413, 415: E415 }),
    };
    // A wrong or missing token is a 401 (never a 400 that would tell what is wrong with it): the handler parses.
    scope.post('/codec/session', parsedByHandler(sessionDoc), async (req, reply) => {
      const body = ZCodecSessionBody.safeParse(req.body);
      auth.check(body.success ? `Bearer ${body.data.token}` : undefined);
      const expires = now() + ttl;
      return reply
        .header('set-cookie', `${COOKIE}=${expires}.${sign(expires)}; Path=/codec; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(ttl / 1000)}`)
        .send({ status: 'ok', expiresAt: new Date(expires).toISOString() });
    });
  });
}
