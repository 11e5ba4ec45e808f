// The HTTP API described as OpenAPI 3.1, served at /openapi.json. Paths come from the routes the
// app actually registered (fastify's onRoute hook), so a route cannot be missing; request and
// response bodies come from the same zod schemas the handlers parse with, through zod's own
// JSON Schema output (draft 2020-12, the dialect OpenAPI 3.1 uses). Hand-assembled rather than
// @fastify/swagger: our handlers parse with zod themselves (no fastify schema on the routes), and
// no new dependency is needed for a document this size.
// Must not: describe a route that is not registered, or a schema that differs from the handler's.
import { z } from 'zod';
import { ZFeedbackItem } from '../../workflows/domain/feedback.js';
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
import { ZModelReloadedPayload } from '../../activities/audit/events.js';
import { ZOutcomePrediction } from '../../workflows/domain/outcome.js';
import { ZLabel, ZListQuery, ZPromote } from './brain.js';
import { ZCodecPayloads } from './codec.js';
import { ZPredictOutcomeRequest } from './predict.js';
import { ZRehearseBody } from './rehearse.js';

export interface TRouteDoc {
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  response?: z.ZodType;
  /** false: no bearer token (health, signed webhooks, codec's own auth). */
  auth?: boolean;
}

const ZError = z.object({ error: z.object({ code: z.string(), message: z.string(), fields: z.array(z.object({ path: z.string(), message: z.string() })).optional() }), refusal: z.string().optional() });
const by = { by: true } as const;

/** What each route does; the key is `METHOD /fastify/path`. */
export const ROUTE_DOCS: Record<string, TRouteDoc> = {
  'GET /healthz': { summary: 'Liveness', auth: false },
  'GET /readyz': { summary: 'Readiness: Temporal and the audit store answer', auth: false },
  'GET /metrics': { summary: 'Prometheus metrics (bearer METRICS_TOKEN when set)', auth: false },
  'GET /openapi.json': { summary: 'This document', auth: false },
  'GET /docs': { summary: 'This document in Swagger UI (HTML)', auth: false },
  'GET /docs/:asset': { summary: "Swagger UI's own files (swagger-ui-dist) and its initializer", auth: false },
  'POST /v1/feedback': { summary: 'Submit one feedback item (or a batch under `items`); starts one FeedbackWorkflow per item', body: ZFeedbackItem },
  'POST /v1/classify': { summary: 'Triage one item synchronously (nothing is started)', body: ZFeedbackItem.partial() },
  'GET /v1/issues': { summary: 'Issues with titles, filtered, sorted by severity → reports → age, paged', query: ZIssueListQuery, response: ZIssuePage },
  'GET /v1/issues/:workflowId': { summary: 'One issue: state, why its reports were grouped, timeline, links, outlook (predicted outcome and timeliness risk, time to resolution)' },
  'POST /v1/issues/:workflowId/steps/:stepId/decision': {
    summary: "Approve or reject a step waiting for approval, as the token's principal",
    body: z.strictObject({ decision: z.enum(['approve', 'reject']), reason: z.string().max(1_000).optional() }),
  },
  'POST /v1/issues/:workflowId/snooze': { summary: 'Pause new remediation rounds (Update `snooze`)', body: ZSnoozeCommand.omit(by), response: ZSnoozeResult },
  'POST /v1/issues/:workflowId/close': { summary: 'Close the issue; a pending step does not run (Update `close`)', body: ZCloseCommand.omit(by), response: ZCloseResult },
  'POST /v1/issues/:workflowId/reclassify': { summary: "Change the issue's category (Update `reclassify`)", body: ZReclassifyCommand.omit(by), response: ZReclassifyResult },
  'POST /v1/issues/:workflowId/merge': {
    summary: 'Merge the issue into `into` (Update `merge`): its reports move there, its pending step does not run, later reports are forwarded',
    body: ZMergeCommand.omit(by),
    response: ZMergeResult,
  },
  'POST /v1/issues/:workflowId/split': {
    summary: 'Move reports (by `feedbackIds`, or every recent report grouped by `grouping`) into a new issue (Update `split`)',
    body: ZSplitBody,
    response: ZSplitResult,
  },
  'GET /v1/issues/:workflowId/forecast': { summary: 'Time-to-resolution forecast from similar past issues' },
  'POST /v1/issues/:workflowId/rehearse': { summary: 'Rehearse a playbook against the issue (nothing runs)', body: ZRehearseBody },
  'POST /v1/predict/outcome': { summary: 'Predict how a complaint will end', body: ZPredictOutcomeRequest, response: ZOutcomePrediction },
  'GET /v1/themes': { summary: 'Emerging themes of unclassified messages', query: ZListQuery },
  'POST /v1/themes/:themeId/promote': { summary: 'Promote a theme to a taxonomy category proposal', body: ZPromote },
  'GET /v1/review': { summary: 'Messages waiting for a human label', query: ZListQuery },
  'POST /v1/review/:workflowId': { summary: "Label a message, as the token's principal", body: ZLabel },
  'POST /v1/model/reload': { summary: 'Retrain and reload the classifier from taxonomy + labeled data', response: ZModelReloadedPayload },
  'POST /webhooks/zendesk': { summary: 'Zendesk webhook (HMAC signature over timestamp + body)', auth: false },
  'POST /slack/commands': {
    summary: 'The /loopwright slash command (signed, form-encoded): snooze, close, reclassify, merge, split; answered ephemerally, the result through response_url',
    auth: false,
  },
  'POST /slack/interactions': { summary: 'Slack interactivity: Approve, Reject (reason modal) and its submission (signed)', auth: false },
  'POST /codec/encode': { summary: 'Payload codec for the Temporal UI and CLI: encode', auth: false, body: ZCodecPayloads, response: ZCodecPayloads },
  'POST /codec/decode': { summary: 'Payload codec for the Temporal UI and CLI: decode', auth: false, body: ZCodecPayloads, response: ZCodecPayloads },
  'GET /codec/session': { summary: 'Codec session status', auth: false },
  'POST /codec/session': { summary: 'Open a codec session', auth: false },
};

const schema = (t: z.ZodType): Record<string, unknown> => {
  const s = z.toJSONSchema(t, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete s['$schema'];
  return s;
};

export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function buildOpenApi(routes: ReadonlyArray<{ method: string; url: string }>, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const method = r.method.toLowerCase();
    if (method === 'head' || method === 'options') continue;
    const doc = ROUTE_DOCS[`${r.method} ${r.url}`];
    const params = [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = doc?.query
      ? Object.entries((schema(doc.query)['properties'] ?? {}) as Record<string, unknown>).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }))
      : [];
    (paths[openApiPath(r.url)] ??= {})[method] = {
      summary: doc?.summary ?? 'Undocumented',
      ...(doc ? {} : { 'x-undocumented': true }),
      ...(doc?.auth === false ? { security: [] } : {}),
      ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
      ...(doc?.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(doc.body) } } } } : {}),
      responses: {
        '200': { description: 'OK', ...(doc?.response ? { content: { 'application/json': { schema: schema(doc.response) } } } : {}) },
        ...(doc?.auth === false ? {} : { '401': { description: 'Missing or wrong bearer token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } }),
        '4XX': { description: 'Refused; `error.code` says why', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Loopwright API', version, description: 'Every response carries X-Request-Id (the caller\'s, when it sent a safe one).' },
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Error: schema(ZError) } },
  };
}
