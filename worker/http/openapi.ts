// The HTTP API's contract, one entry per route (ROUTE_DOCS): what it takes (query, headers, body
// and its media type) and every status it answers with, each with the zod schema of its body.
// The table is the one source of truth for two things:
//  - fastify serialises every JSON answer through the route's schema for that status
//    (`attachRouteSchemas`: an onRoute hook sets `schema.response`, the serializer compiler below
//    parses with zod), so a handler whose answer drifts from its schema answers 500 and a test fails;
//  - /openapi.json (OpenAPI 3.1) is built from it for the routes the app actually registered, the
//    schemas through zod's own JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect).
// Request bodies are parsed by the handlers themselves with the very schema objects named here
// (the signed routes verify the raw body first; operator commands audit every refusal; intake
// answers per batch item), so the document shows what they accept without a second schema.
// Hand-written rather than @fastify/swagger + a zod type provider: neither is installed, and the
// glue is this one table plus a ten-line serializer compiler; say so before adding either.
// A new route needs its entry here: tests/http-openapi.test.ts fails for any route fastify serves
// that the table does not document.
// Must not: describe a route that is not registered, or a body other than the one the handler
// parses or the serializer enforces.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { ZModelReloadedPayload } from '../../activities/audit/events.js';
import { ZFeedbackItem } from '../../workflows/domain/feedback.js';
import { ZOutcomePrediction } from '../../workflows/domain/outcome.js';
import { ZTriageResult } from '../../workflows/domain/triage.js';
import {
  ZCloseCommand,
  ZCloseResult,
  ZMergeCommand,
  ZMergeResult,
  ZReclassifyCommand,
  ZReclassifyResult,
  ZSnoozeCommand,
  ZSnoozeResult,
  ZSplitBody,
  ZSplitResult,
} from '../../workflows/messages.js';
import { ZIssueListQuery, ZIssuePage } from '../issues.js';
import { ZDecisionBody } from './approvals.js';
import { ZFeedbackBody } from './intake.js';
import { ZLabel, ZListQuery, ZPromote } from './brain.js';
import { ZCodecPayloads, ZCodecSessionBody } from './codec.js';
import { ZPredictOutcomeRequest } from './predict.js';
import { ZRehearseBody } from './rehearse.js';
import {
  ZCodecSession,
  ZDecisionResponse,
  ZError,
  ZForecastResponse,
  ZHealth,
  ZIntakeAccepted,
  ZIntakeBatch,
  ZIntakeError,
  ZIssueDetail,
  ZLabelResult,
  ZOpenApiDocument,
  ZPromoteResult,
  ZReady,
  ZRehearsal,
  ZReviewQueue,
  ZSlackEphemeral,
  ZSlackModalErrors,
  ZThemes,
  ZZendeskIgnored,
} from './schemas.js';
import { ZSlackCommandForm, ZSlackInteractionForm } from './slack-forms.js';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface TResponseDoc {
  description: string;
  /** The body's schema; absent: no body (204, or an empty 200). */
  schema?: z.ZodType;
  /** Default application/json; anything else is documented only (fastify serialises JSON alone). */
  contentType?: string;
}

export interface THeaderDoc {
  name: string;
  description: string;
  required?: boolean;
}

export type TSecurity = 'bearer' | 'none' | 'metrics' | 'codec' | 'slack' | 'zendesk';

export interface TRouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  security: TSecurity;
  query?: z.ZodObject;
  headers?: THeaderDoc[];
  body?: { schema: z.ZodType; contentTypes?: string[]; required?: boolean };
  responses: Record<number, TResponseDoc>;
}

const by = { by: true } as const;
const e = (description: string): TResponseDoc => ({ description, schema: ZError });
const ok = (schema: z.ZodType, description = 'OK'): TResponseDoc => ({ schema, description });

// The error answers shared by many routes (errors.ts maps codes to these statuses).
const E400 = e('Invalid input: `error.fields` names each offending field (path and message)');
const E401 = e('Missing or wrong bearer token (`WWW-Authenticate: Bearer`)');
const E401_SIGNED = e('Signature missing, wrong or outside the replay window');
const E403 = e('Not allowed: the token is not bound to a person who may do this');
const E404 = e('Unknown issue, theme or playbook');
const E409 = e('Refused by the workflow: `refusal` says why (e.g. closed, no_open_request, not_eligible)');
const E413 = e('Body larger than the configured limit');
const E415 = e('Unsupported Content-Type');
const E503 = e('Temporal (or the model) unavailable; retry');
const JSON_BODY_ERRORS = { 400: E400, 413: E413, 415: E415 } as const;

const operatorCommand = (summary: string, body: z.ZodType, result: z.ZodType): TRouteDoc => ({
  summary,
  tags: ['issues'],
  security: 'bearer',
  body: { schema: body },
  responses: { 200: ok(result, 'What the workflow recorded'), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: E404, 409: E409, 503: E503 },
});

const SLACK_HEADERS: THeaderDoc[] = [
  { name: 'X-Slack-Signature', description: 'v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>")', required: true },
  { name: 'X-Slack-Request-Timestamp', description: 'Unix seconds; older than 5 minutes is refused', required: true },
];

/** What each route does; the key is `METHOD /fastify/path`. HEAD routes are fastify's automatic twins of GET. */
export const ROUTE_DOCS: Record<string, TRouteDoc> = {
  // ── Operations ──
  'GET /healthz': { summary: 'Liveness', tags: ['operations'], security: 'none', responses: { 200: ok(ZHealth, 'The process serves requests') } },
  'GET /readyz': {
    summary: 'Readiness: Temporal and the audit store answer',
    tags: ['operations'],
    security: 'none',
    responses: { 200: ok(ZReady, 'Both dependencies answered'), 503: ok(ZReady, 'A dependency did not answer in time') },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured)',
    tags: ['operations'],
    security: 'metrics',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain; version=0.0.4', schema: z.string() }, 401: E401 },
  },
  'GET /openapi.json': { summary: 'This document (OpenAPI 3.1)', tags: ['operations'], security: 'none', responses: { 200: ok(ZOpenApiDocument, 'The OpenAPI 3.1 document') } },
  'GET /docs': {
    summary: 'This document in Swagger UI (HTML)',
    tags: ['operations'],
    security: 'none',
    responses: { 200: { description: 'The Swagger UI page', contentType: 'text/html', schema: z.string() } },
  },
  'GET /docs/:asset': {
    summary: "Swagger UI's own files (swagger-ui-dist) and its initializer",
    tags: ['operations'],
    security: 'none',
    responses: { 200: { description: 'The file (CSS, JavaScript or PNG)', contentType: '*/*', schema: z.string() }, 404: e('Not one of the allowlisted files') },
  },

  // ── Intake and triage ──
  'POST /v1/feedback': {
    summary: 'Submit one feedback item (or a batch under `items`); starts one FeedbackWorkflow per item',
    description:
      'A batch answers 202 when every item was accepted, 207 when some were, 400 when none was valid and 503 when none could be started. `Idempotency-Key` applies to single items only (batch items are keyed by their externalId).',
    tags: ['intake'],
    security: 'bearer',
    headers: [{ name: 'Idempotency-Key', description: 'Makes a retried single item a duplicate of the first; reusing it for a different item is refused with 422' }],
    body: { schema: ZFeedbackBody },
    responses: {
      202: ok(z.union([ZIntakeAccepted, ZIntakeBatch]), 'Accepted: the workflow started (or already existed); for a batch, per-item results'),
      207: ok(ZIntakeBatch, 'Batch partly accepted: per-item results'),
      400: { description: 'Invalid item (or no valid item in the batch)', schema: ZIntakeError },
      401: E401,
      413: E413,
      415: E415,
      422: { description: 'Idempotency-Key already used for a different item', schema: ZIntakeError },
      503: { description: 'Temporal unavailable: nothing was started; retry', schema: ZIntakeError },
    },
  },
  'POST /v1/classify': {
    summary: 'Triage one item synchronously (nothing is started)',
    description: '`source`, `externalId` and `receivedAt` may be left out.',
    tags: ['intake'],
    security: 'bearer',
    body: { schema: ZFeedbackItem.partial({ source: true, externalId: true, receivedAt: true }) },
    responses: {
      200: ok(ZTriageResult, 'The triage result (masked text, classification, severity, fragments)'),
      ...JSON_BODY_ERRORS,
      401: E401,
      429: e("The LLM classifier's provider is rate limiting (`Retry-After` passed on)"),
      502: e('The LLM classifier was refused by its provider'),
      503: e("The LLM classifier's provider is unreachable; retry"),
    },
  },
  'POST /v1/predict/outcome': {
    summary: 'Predict how a complaint will be resolved',
    description:
      'Calibrated probabilities of explanation / non-monetary relief / monetary relief, the risk of an untimely response, the model version and the strongest drivers. The text is masked before prediction.',
    tags: ['intake'],
    security: 'bearer',
    body: { schema: ZPredictOutcomeRequest },
    responses: { 200: ok(ZOutcomePrediction, 'The prediction'), ...JSON_BODY_ERRORS, 401: E401, 503: e('No outcome model is loaded') },
  },

  // ── The issue console ──
  'GET /v1/issues': {
    summary: 'Issues with titles, filtered, sorted by severity → reports → age, paged',
    tags: ['issues'],
    security: 'bearer',
    query: ZIssueListQuery,
    responses: { 200: ok(ZIssuePage, 'One page of issues'), 400: E400, 401: E401, 503: E503 },
  },
  'GET /v1/issues/:workflowId': {
    summary: 'One issue: state, why its reports were grouped, timeline, links, outlook (predicted outcome and timeliness risk, time to resolution)',
    tags: ['issues'],
    security: 'bearer',
    responses: { 200: ok(ZIssueDetail, 'The issue'), 400: e('Not an issue id (issue:<category>.<12 hex>)'), 401: E401, 404: E404, 503: E503 },
  },
  'GET /v1/issues/:workflowId/forecast': {
    summary: 'How long will this issue take?',
    description:
      'Time to remediation and to a verified fix (median and 80% interval, hours from the first report) from similar past issues in the audit trail; status insufficient_history when there are too few.',
    tags: ['issues'],
    security: 'bearer',
    responses: { 200: ok(ZForecastResponse, 'The forecast, with a summary in words'), 401: E401, 404: e('The audit trail holds nothing about the issue') },
  },
  'POST /v1/issues/:workflowId/steps/:stepId/decision': {
    summary: "Approve or reject a step waiting for approval, as the token's principal",
    tags: ['issues'],
    security: 'bearer',
    body: { schema: ZDecisionBody },
    responses: { 200: ok(ZDecisionResponse, 'What the workflow recorded'), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 409: E409, 503: E503 },
  },
  'POST /v1/issues/:workflowId/snooze': operatorCommand('Pause new remediation rounds (Update `snooze`)', ZSnoozeCommand.omit(by), ZSnoozeResult),
  'POST /v1/issues/:workflowId/close': operatorCommand('Close the issue; a pending step does not run (Update `close`)', ZCloseCommand.omit(by), ZCloseResult),
  'POST /v1/issues/:workflowId/reclassify': operatorCommand("Change the issue's category (Update `reclassify`)", ZReclassifyCommand.omit(by), ZReclassifyResult),
  'POST /v1/issues/:workflowId/merge': operatorCommand(
    'Merge the issue into `into` (Update `merge`): its reports move there, its pending step does not run, later reports are forwarded',
    ZMergeCommand.omit(by),
    ZMergeResult,
  ),
  'POST /v1/issues/:workflowId/split': operatorCommand(
    'Move reports (by `feedbackIds`, or every recent report grouped by `grouping`) into a new issue (Update `split`)',
    ZSplitBody,
    ZSplitResult,
  ),
  'POST /v1/issues/:workflowId/rehearse': {
    summary: 'Rehearse a playbook against the issue (nothing runs, nothing is sent or recorded)',
    tags: ['issues'],
    security: 'bearer',
    body: { schema: ZRehearseBody },
    responses: { 200: ok(ZRehearsal, 'What the playbook would do now, step by step'), ...JSON_BODY_ERRORS, 401: E401, 404: e('No message is linked to the issue, or no loaded playbook has the id') },
  },

  // ── The triage brain ──
  'GET /v1/themes': {
    summary: 'Emerging themes of unclassified messages',
    tags: ['brain'],
    security: 'bearer',
    query: ZListQuery,
    responses: { 200: ok(ZThemes, 'Themes, newest activity first'), 400: E400, 401: E401 },
  },
  'POST /v1/themes/:themeId/promote': {
    summary: 'Promote a theme to a taxonomy category proposal',
    tags: ['brain'],
    security: 'bearer',
    body: { schema: ZPromote },
    responses: { 201: ok(ZPromoteResult, 'The new taxonomy version was written'), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: E404, 409: e('The theme was already promoted') },
  },
  'GET /v1/review': {
    summary: 'Messages waiting for a human label',
    tags: ['brain'],
    security: 'bearer',
    query: ZListQuery,
    responses: { 200: ok(ZReviewQueue, 'Newest first'), 400: E400, 401: E401 },
  },
  'POST /v1/review/:workflowId': {
    summary: "Label a message, as the token's principal",
    tags: ['brain'],
    security: 'bearer',
    body: { schema: ZLabel },
    responses: { 201: ok(ZLabelResult, 'The label was recorded'), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: e('No classified message with this id') },
  },
  'POST /v1/model/reload': {
    summary: 'Retrain and reload the classifier from taxonomy + labeled data',
    tags: ['brain'],
    security: 'bearer',
    responses: { 200: ok(ZModelReloadedPayload, 'The model now serving'), 401: E401, 500: e('This process runs no classifier to reload') },
  },

  // ── Signed webhooks ──
  'POST /webhooks/zendesk': {
    summary: 'Zendesk webhook: a ticket becomes a feedback item',
    tags: ['webhooks'],
    security: 'zendesk',
    headers: [
      { name: 'X-Zendesk-Webhook-Signature', description: 'base64(HMAC-SHA256(secret, timestamp + raw body))', required: true },
      { name: 'X-Zendesk-Webhook-Signature-Timestamp', description: 'When Zendesk signed the request', required: true },
    ],
    body: { schema: z.record(z.string(), z.unknown()).meta({ description: "The webhook's JSON payload as configured in Zendesk (ticket id, subject, description, requester…)" }) },
    responses: {
      200: ok(ZZendeskIgnored, 'Not feedback (e.g. an agent comment): ignored'),
      202: ok(ZIntakeAccepted, 'The FeedbackWorkflow started (or already existed)'),
      ...JSON_BODY_ERRORS,
      401: E401_SIGNED,
      503: E503,
    },
  },
  'POST /slack/commands': {
    summary: 'The /loopwright slash command: snooze, close, reclassify, merge, split',
    description: 'Answered at once, ephemerally; the result follows through `response_url`.',
    tags: ['slack'],
    security: 'slack',
    headers: SLACK_HEADERS,
    body: { schema: ZSlackCommandForm, contentTypes: [FORM_TYPE] },
    responses: { 200: ok(ZSlackEphemeral, 'The acknowledgement shown to the caller only'), 400: E400, 401: E401_SIGNED, 413: E413, 415: E415 },
  },
  'POST /slack/interactions': {
    summary: 'Slack interactivity: Approve, Reject (reason modal) and its submission, Preview, and the "Act on this issue…" message shortcut (loopwright_issue) with its modal',
    description:
      'Acknowledged at once with an empty 200; a blank Reject reason, or a shortcut modal missing a field its action needs, answers `response_action: errors` to keep the modal open.',
    tags: ['slack'],
    security: 'slack',
    headers: SLACK_HEADERS,
    body: { schema: ZSlackInteractionForm, contentTypes: [FORM_TYPE] },
    responses: { 200: ok(ZSlackModalErrors, 'Acknowledged: empty, or the modal errors'), 400: E400, 401: E401_SIGNED, 413: E413, 415: E415 },
  },

  // ── Codec endpoint for the Temporal UI and CLI ──
  'POST /codec/encode': {
    summary: 'Payload codec: encode',
    tags: ['codec'],
    security: 'codec',
    headers: [{ name: 'X-Namespace', description: 'The namespace the payloads belong to (when the endpoint serves only some)' }],
    body: { schema: ZCodecPayloads },
    responses: { 200: ok(ZCodecPayloads, 'The payloads, encoded'), ...JSON_BODY_ERRORS, 401: E401, 403: e('Origin or namespace not allowed') },
  },
  'POST /codec/decode': {
    summary: 'Payload codec: decode',
    tags: ['codec'],
    security: 'codec',
    headers: [{ name: 'X-Namespace', description: 'The namespace the payloads belong to (when the endpoint serves only some)' }],
    body: { schema: ZCodecPayloads },
    responses: { 200: ok(ZCodecPayloads, 'The payloads, decoded'), ...JSON_BODY_ERRORS, 401: E401, 403: e('Origin or namespace not allowed') },
  },
  'GET /codec/session': {
    summary: 'The codec sign-in form (HTML) for a person with a browser',
    tags: ['codec'],
    security: 'none',
    responses: { 200: { description: 'The sign-in page', contentType: 'text/html', schema: z.string() }, 403: e('Origin not allowed') },
  },
  'POST /codec/session': {
    summary: 'Open a codec session: a codec token in, an HttpOnly cookie out',
    tags: ['codec'],
    security: 'none',
    body: { schema: ZCodecSessionBody, contentTypes: [FORM_TYPE, JSON_TYPE] },
    responses: { 200: ok(ZCodecSession, 'The session cookie is set'), 401: E401, 403: e('Origin not allowed'), 413: E413, 415: E415 },
  },
  'OPTIONS /codec/encode': { summary: 'CORS preflight', tags: ['codec'], security: 'none', responses: { 204: { description: 'Allowed methods and headers' }, 403: e('Origin not allowed') } },
  'OPTIONS /codec/decode': { summary: 'CORS preflight', tags: ['codec'], security: 'none', responses: { 204: { description: 'Allowed methods and headers' }, 403: e('Origin not allowed') } },
  'OPTIONS /codec/session': { summary: 'CORS preflight', tags: ['codec'], security: 'none', responses: { 204: { description: 'Allowed methods and headers' }, 403: e('Origin not allowed') } },
};

/** Every route may fail unexpectedly; its body then says nothing about internals. */
const E500 = e('Internal error (details only in the log, under the request id)');

/** The route's doc: its table entry plus the 500 every route can answer. */
export function routeDoc(method: string, url: string): TRouteDoc | undefined {
  const doc = ROUTE_DOCS[`${method} ${url}`];
  return doc && { ...doc, responses: { 500: E500, ...doc.responses } };
}

const isJson = (r: TResponseDoc): boolean => (r.contentType ?? JSON_TYPE) === JSON_TYPE;

/** A serializer that parses the answer with the status's zod schema: a drifting handler answers 500. */
function zodSerializerCompiler({ schema, method, url, httpStatus }: { schema: unknown; method: string; url: string; httpStatus?: string }) {
  if (!(schema instanceof z.ZodType)) return (data: unknown) => JSON.stringify(data);
  const zod = schema;
  return (data: unknown): string => {
    const r = zod.safeParse(data);
    if (!r.success) {
      const where = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new Error(`${method} ${url} answered ${httpStatus ?? '?'} with a body its schema refuses (${where})`);
    }
    return JSON.stringify(r.data);
  };
}

/**
 * Gives every route registered from now on its responses' zod schemas (fastify serialises through
 * them) and records it for the document. Call once, right after creating the app.
 */
export function attachRouteSchemas(app: FastifyInstance): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  app.setSerializerCompiler(zodSerializerCompiler);
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) routes.push({ method, url: r.url });
    const doc = methods.length === 1 ? routeDoc(methods[0]!, r.url) : undefined;
    if (!doc) return;
    const response: Record<string, z.ZodType> = {};
    for (const [status, res] of Object.entries(doc.responses)) if (res.schema && isJson(res)) response[status] = res.schema;
    r.schema = { ...(r.schema ?? {}), response };
  });
  return routes;
}

const jsonSchema = (t: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const s = z.toJSONSchema(t, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete s['$schema'];
  return s;
};

export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const SECURITY: Record<TSecurity, Array<Record<string, string[]>>> = {
  bearer: [{ bearer: [] }],
  none: [],
  metrics: [{}, { bearer: [] }],
  codec: [{ bearer: [] }, { codecSession: [] }],
  slack: [],
  zendesk: [],
};

function operation(method: string, url: string, doc: TRouteDoc | undefined): Record<string, unknown> {
  if (!doc) return { summary: 'Undocumented', 'x-undocumented': true, responses: { default: { description: 'Undocumented' } } };
  const path = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const query = doc.query
    ? Object.entries((jsonSchema(doc.query, 'input')['properties'] ?? {}) as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
    : [];
  const headers = (doc.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } }));
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses).sort(([a], [b]) => Number(a) - Number(b))) {
    responses[status] = {
      description: r.description,
      headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } },
      ...(r.schema ? { content: { [r.contentType ?? JSON_TYPE]: { schema: r.schema === ZError ? { $ref: '#/components/schemas/Error' } : jsonSchema(r.schema, 'output') } } } : {}),
    };
  }
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    operationId: `${method.toLowerCase()}${url.replace(/[:/{}._-]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    tags: doc.tags,
    security: SECURITY[doc.security],
    parameters: [...path, ...query, ...headers, { $ref: '#/components/parameters/RequestId' }],
    ...(doc.body
      ? {
          requestBody: {
            required: doc.body.required ?? true,
            content: Object.fromEntries((doc.body.contentTypes ?? [JSON_TYPE]).map((t) => [t, { schema: jsonSchema(doc.body!.schema, 'input') }])),
          },
        }
      : {}),
    responses,
  };
}

export function buildOpenApi(routes: ReadonlyArray<{ method: string; url: string }>, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const method = r.method.toLowerCase();
    if (method === 'head') continue;
    (paths[openApiPath(r.url)] ??= {})[method] = operation(r.method, r.url, routeDoc(r.method, r.url));
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Loopwright API',
      version,
      description:
        "Every response carries X-Request-Id (the caller's, when it sent a safe one: 1-128 of A-Z a-z 0-9 . _ : -). Errors share one body: `{ error: { code, message, fields? } }`. Every GET also answers HEAD. The service applies no rate limit of its own: a 429 (with Retry-After) passes on an upstream's, the LLM classifier's provider.",
    },
    security: [{ bearer: [] }],
    tags: ['operations', 'intake', 'issues', 'brain', 'webhooks', 'slack', 'codec'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API_TOKENS entry; a token bound to a person (U…:Name:TOKEN) acts as that person' },
        codecSession: { type: 'apiKey', in: 'cookie', name: 'loopwright_codec', description: 'Set by POST /codec/session' },
      },
      schemas: { Error: jsonSchema(ZError, 'output') },
      parameters: {
        RequestId: { name: 'X-Request-Id', in: 'header', required: false, description: 'Echoed back; generated when absent or unsafe', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
      },
      headers: { RequestId: { description: "The request's id (the caller's or a generated UUID); logged as reqId", schema: { type: 'string' } } },
    },
  };
}
