// The Loopwright HTTP service as a fastify app factory: intake (/v1/feedback), synchronous triage
// (/v1/classify), the issue console (/v1/issues: list, detail, snooze/close/reclassify/merge/split as the
// workflow's Updates), the Zendesk webhook, Slack interactivity, health, readiness and metrics.
// worker/main.ts and the tests build it the same way, from clients they own; nothing here opens a
// connection or reads the environment.
// Must not: log request bodies or Authorization headers, hold module-level state, or wait for a
// workflow to finish inside a request.
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import { verifySlackSignature } from '../../activities/adapters/slack/slack-signature.js';
import type { SlackPort } from '../../activities/adapters/slack/slack-adapter.js';
import { verifyZendeskSignature } from '../../activities/adapters/zendesk/zendesk-signature.js';
import type { TriagePipeline } from '../../activities/triage/pipeline.js';
import type { TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { ZFeedbackItem } from '../../workflows/domain/feedback.js';
import { ZTriageResult } from '../../workflows/domain/triage.js';
import { createDecisionSubmitter, describeDecision, ZDecisionBody } from './approvals.js';
import { getIssue, issueIdFrom, issueOutlook, listIssues, ZIssueListQuery, ZIssuePage } from '../issues.js';
import { createCommandSubmitter, OPERATOR_COMMAND_DOCS, OPERATOR_COMMANDS } from './operator-commands.js';
import { createSlashCommands } from './slack-commands.js';
import { createIssueShortcut, parseShortcutInteraction } from './slack-shortcut.js';
import { CLI_USER_AGENT } from '../commands/types.js';
import { createBearerAuth, type TApiPrincipal, type TApiToken } from './auth.js';
import { registerCodecRoutes, type CodecEndpointConfig } from './codec.js';
import { registerBrainRoutes, type BrainHttpDeps } from './brain.js';
import { createErrorHandler, errorBody, fieldErrors } from './errors.js';
import { answer, answers, E400, E401, E401_SIGNED, E403, E404, E409, E413, E415, E503, errorAnswer, FORM_TYPE, JSON_BODY_ERRORS, parsedByHandler, registerOpenApi, SECURITY, type TAnswer, useZodCompilers } from './openapi.js';
import { registerDocsRoutes } from './docs.js';
import { applyIdempotencyKey, batchStatus, intakeItems, itemDigest, SIGNED_SOURCES, splitBody, startedDigest, startFailureCause, startFeedbackWorkflow, summarizeIntake, ZFeedbackBody, type TIntakeResult } from './intake.js';
import { createMetrics, type LoopwrightMetrics } from './metrics.js';
import { REDACT_PATHS } from '../logging.js';
import { loadForecast, registerOutcomeRoutes } from './predict.js';
import type { OutcomePredictor } from '../../activities/outcome/predictor.js';
import {
  ZDecisionResponse,
  ZHealth,
  ZIntakeAccepted,
  ZIntakeBatch,
  ZIntakeError,
  ZIssueDetail,
  ZOpenApiDocument,
  ZReady,
  ZSlackEphemeral,
  ZSlackModalErrors,
  ZZendeskIgnored,
} from './schemas.js';
import { createSlackInteractions, parseInteraction, reasonErrors } from './slack.js';
import { formFields, ZSlackCommandForm, ZSlackInteractionForm } from './slack-forms.js';
import { createPreviewClickHandler, registerRehearseRoutes } from './rehearse.js';
import { mapZendeskWebhook } from './zendesk.js';

export const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export interface HttpConfig {
  /** Accepted bearer tokens for /v1/*; at least one. A token bound to a principal may approve as that person. */
  apiTokens: TApiToken[];
  /** Enables POST /slack/commands and /slack/interactions (Approve/Reject and the preview need approvalTokenSecret too). */
  slackSigningSecret?: string;
  approvalTokenSecret?: string;
  /** Enables POST /webhooks/zendesk. */
  zendeskWebhookSecret?: string;
  bodyLimitBytes?: number;
  /** Where Slack's response_url must point; only tests change it. */
  slackResponseUrlPrefix?: string;
  /** Per dependency, for /readyz. */
  readinessTimeoutMs?: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /**
   * 'all' (default): every route. 'ops': /healthz, /readyz and /metrics only — what a worker
   * process (LOOPWRIGHT_ROLE=worker) serves, so intake never lands on a worker by accident.
   */
  surface?: 'all' | 'ops';
}

export interface HttpAppDeps {
  temporal: { client: Client; taskQueue: string };
  pipeline: TriagePipeline;
  audit: AuditStore;
  policy: TLoadedPolicy | null;
  config: HttpConfig;
  /** Shared with the worker so both record into one registry; created when absent. */
  metrics?: LoopwrightMetrics;
  /** Epoch ms; signatures' replay windows and defaults use it. */
  clock?: () => number;
  /** false/absent: silent; true or options: JSON logs (pino) with secrets and bodies redacted; or a logger instance. */
  logger?: boolean | { level?: string; stream?: NodeJS.WritableStream } | FastifyBaseLogger;
  fetch?: typeof fetch;
  /** Where issue details link to (the Temporal Web UI). */
  links?: { temporalUi?: { url: string; namespace: string } };
  /**
   * The Slack adapter: opens the Reject reason modal, the preview modal and the issue shortcut's
   * modal, answers modal submissions (ephemeral) and posts the shortcut's result in the thread.
   */
  slack?: Pick<SlackPort, 'openRejectModal' | 'openModal' | 'updateModal' | 'postEphemeral' | 'postThreadReply'>;
  /**
   * Enables POST /codec/encode and /codec/decode for the Temporal UI and CLI, with the process's
   * PayloadCodec; tokens default to config.apiTokens.
   */
  codec?: Omit<CodecEndpointConfig, 'tokens' | 'now'> & { tokens?: string[] };
  /** The resolution-outcome model (POST /v1/predict/outcome answers 503 without one). */
  outcome?: OutcomePredictor;
  /** Themes, review queue and model reload (worker/http/brain.ts). */
  brain?: BrainHttpDeps;
  /** The loaded playbooks: rehearsal by `playbookId` and the Slack preview (worker/http/rehearse.ts). */
  playbooks?: TLoadedPlaybook[] | (() => TLoadedPlaybook[]);
}

export interface LoopwrightHttp {
  metrics: LoopwrightMetrics;
  /** Resolves when every post-ack Slack click has been handled (tests, graceful shutdown). */
  drain(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    loopwright: LoopwrightHttp;
  }
  interface FastifyRequest {
    /** The person the request's API token acts as (null for tokens bound to nobody). */
    principal: TApiPrincipal | null;
  }
}

const REDACT = REDACT_PATHS;
/** An incoming X-Request-Id is kept when it is a sane token; anything else gets a fresh id. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The channel a decision came through: the `loopwright` CLI names itself in its User-Agent. */
export function decisionChannel(userAgent: string | undefined): 'cli' | 'api' {
  return userAgent?.startsWith(`${CLI_USER_AGENT}/`) ? 'cli' : 'api';
}

function loggerOptions(logger: HttpAppDeps['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (!logger) return { logger: false };
  if (logger === true) return { logger: { redact: { paths: REDACT, censor: '[redacted]' } } };
  if ('child' in logger && typeof logger.child === 'function') return { loggerInstance: logger };
  const o = logger as { level?: string; stream?: NodeJS.WritableStream };
  return { logger: { level: o.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, ...(o.stream ? { stream: o.stream } : {}) } };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function createHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? Date.now;
  const bodyLimit = deps.config.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metrics = deps.metrics ?? createMetrics();
  const readyTimeout = deps.config.readinessTimeoutMs ?? 2_000;

  const app = Fastify({
    bodyLimit,
    ...loggerOptions(deps.logger),
    return503OnClosing: true,
    // X-Request-Id: accepted from the caller (or a proxy), generated otherwise, logged as reqId (Fastify's default label; setting it is deprecated) and returned.
    requestIdHeader: false,
    genReqId: (req) => {
      const v = req.headers['x-request-id'];
      const id = Array.isArray(v) ? v[0] : v;
      return id && REQUEST_ID.test(id) ? id : randomUUID();
    },
  });
  // Before any route: the zod compilers, and (API role) the document of every route registered from here on.
  useZodCompilers(app);
  // The worker role (surface 'ops') serves health, readiness and metrics only: no API, so no API document.
  if (deps.config.surface !== 'ops') await registerOpenApi(app, '1');
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.setErrorHandler(createErrorHandler(bodyLimit));
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(errorBody('not_found', 'no such route')));

  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>): void => {
    const guarded = p.catch((e: unknown) => app.log.error({ err: (e as Error).name }, 'background task failed'));
    inflight.add(guarded);
    void guarded.finally(() => inflight.delete(guarded));
  };
  const drain = async (): Promise<void> => {
    while (inflight.size > 0) await Promise.all([...inflight]);
  };
  app.decorate('loopwright', { metrics, drain });
  app.addHook('onClose', drain);

  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  const ops = { tags: ['operations'], security: SECURITY.none };
  app.get('/healthz', { schema: { summary: 'Liveness', ...ops, response: answers({ 200: answer('The process serves requests', ZHealth) }) } }, async () => ({ status: 'ok' }));

  const readiness = { summary: 'Readiness: Temporal and the audit store answer', ...ops, response: answers({ 200: answer('Both dependencies answered', ZReady), 503: answer('A dependency did not answer in time', ZReady) }) };
  app.get('/readyz', { schema: readiness }, async (_req, reply) => {
    const check = async (fn: () => Promise<unknown>): Promise<'ok' | 'unreachable'> => {
      try {
        await withTimeout(fn(), readyTimeout);
        return 'ok';
      } catch {
        return 'unreachable';
      }
    };
    const [temporal, audit] = await Promise.all([
      check(() => deps.temporal.client.workflowService.getSystemInfo({})),
      check(() => deps.audit.search({ limit: 1 })),
    ]);
    const ready = temporal === 'ok' && audit === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: { temporal, audit } });
  });

  const metricsAuth = deps.config.metricsToken ? createBearerAuth([deps.config.metricsToken]) : null;
  const metricsDoc = {
    summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured)',
    tags: ['operations'],
    security: SECURITY.optionalBearer,
    response: answers({ 200: answer('Prometheus text exposition format', z.string(), 'text/plain; version=0.0.4'), 401: E401 }),
  };
  app.get('/metrics', { schema: metricsDoc }, async (req, reply) => {
    metricsAuth?.check(req.headers.authorization);
    return reply.type(metrics.contentType).send(await metrics.scrape());
  });

  if (deps.config.surface === 'ops') return app;

  // Every route the app registers (here and in plugins) is described at /openapi.json.
  app.get('/openapi.json', { schema: { summary: 'This document (OpenAPI 3.1)', ...ops, response: answers({ 200: answer('The OpenAPI 3.1 document', ZOpenApiDocument) }) } }, async () => app.swagger());
  await registerDocsRoutes(app);
  const auth = createBearerAuth(deps.config.apiTokens);

  // ── Authenticated API ──────────────────────────────────────────────────────────────────────
  await app.register(async (api) => {
    // onRequest runs before the body is read: an unauthenticated client cannot make us parse anything.
    api.decorateRequest('principal', null);
    api.addHook('onRequest', async (req) => {
      req.principal = auth.check(req.headers.authorization);
    });

    // A human decision on a step waiting for approval, as the token's principal (never as someone
    // named in the request). 200: what the workflow recorded; 409: refused (audited); 503: unreachable.
    const decisions = createDecisionSubmitter({ client: deps.temporal.client, audit: deps.audit, policy: deps.policy, log: app.log });
    const decisionDoc = {
      summary: "Approve or reject a step waiting for approval, as the token's principal",
      tags: ['issues'],
      body: ZDecisionBody,
      response: answers({ 200: answer('What the workflow recorded', ZDecisionResponse), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 409: E409, 503: E503 }),
    };
    // The principal is checked before the body (403 before 400): the handler parses.
    api.post<{ Params: { workflowId: string; stepId: string } }>('/v1/issues/:workflowId/steps/:stepId/decision', parsedByHandler(decisionDoc), async (req, reply) => {
      const attemptedAt = clock();
      if (!req.principal) throw new LoopwrightError('forbidden', 'this API token is not bound to an approver (API_TOKENS entry U…:Name:TOKEN)');
      const body = ZDecisionBody.safeParse(req.body);
      if (!body.success) throw new LoopwrightError('invalid_input', 'invalid decision', { details: { fields: fieldErrors(body.error.issues) } });
      const { workflowId, stepId } = req.params;
      const via = decisionChannel(req.headers['user-agent']);
      const outcome = await decisions.submit({
        workflowId,
        stepId,
        decision: body.data.decision,
        approver: req.principal,
        ...(body.data.reason !== undefined ? { reason: body.data.reason } : {}),
        via,
        attemptedAt,
      });
      if (outcome.kind === 'unreachable') return reply.code(503).send(errorBody('upstream_unavailable', outcome.message));
      if (outcome.kind === 'refused') {
        metrics.countApprovalDecision('refused', via);
        return reply.code(409).send({ ...errorBody('conflict', outcome.message), refusal: outcome.code });
      }
      // A recorded decision is counted once, by the worker, from the audited event (with this channel).
      return reply.code(200).send({ ...outcome.result, approver: req.principal, summary: describeDecision(outcome.result, body.data.decision) });
    });

    // ── The issue console: list, detail, and operator commands through the workflow's Updates ──
    const listDoc = {
      summary: 'Issues with titles, filtered, sorted by severity → reports → age, paged',
      tags: ['issues'],
      querystring: ZIssueListQuery,
      response: answers({ 200: answer('One page of issues', ZIssuePage), 400: E400, 401: E401, 503: E503 }),
    };
    // Filters validated by fastify (the type provider's validatorCompiler; errors.ts answers 400 with the fields).
    api.withTypeProvider<ZodTypeProvider>().get('/v1/issues', { schema: listDoc }, async (req) => listIssues(deps.temporal.client, req.query));

    const issueDoc = {
      summary: 'One issue: state, why its reports were grouped, timeline, links, outlook (predicted outcome and timeliness risk, time to resolution)',
      tags: ['issues'],
      response: answers({ 200: answer('The issue', ZIssueDetail), 400: errorAnswer('Not an issue id (issue:<category>.<12 hex>)'), 401: E401, 404: E404, 503: E503 }),
    };
    api.get<{ Params: { workflowId: string } }>('/v1/issues/:workflowId', { schema: issueDoc }, async (req) => {
      const detail = await getIssue(deps.temporal.client, issueIdFrom(req.params.workflowId), deps.links ?? {});
      // The predicted outcome (with timeliness risk) and the time-to-resolution forecast, in words.
      return { ...detail, outlook: issueOutlook(detail.state, await loadForecast(deps.audit, detail.id, clock())) };
    });

    // Operator commands through the workflow's Updates, as the token's principal; every refusal is
    // audited (operator-commands.ts). 200: what the workflow recorded; 400/403/404/409: refused.
    const commands = createCommandSubmitter({ client: deps.temporal.client, audit: deps.audit, log: app.log });
    for (const verb of OPERATOR_COMMANDS) {
      const { summary, body, result } = OPERATOR_COMMAND_DOCS[verb];
      const commandDoc = { summary, tags: ['issues'], body, response: answers({ 200: answer('What the workflow recorded', result), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: E404, 409: E409, 503: E503 }) };
      api.post<{ Params: { workflowId: string } }>(`/v1/issues/:workflowId/${verb}`, parsedByHandler(commandDoc), async (req, reply) => {
        const attemptedAt = clock();
        const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
        const outcome = await commands.submit({
          command: verb,
          workflowId: req.params.workflowId,
          args: body,
          actor: req.principal,
          attemptedBy: { type: 'system', id: 'api:unbound-token' },
          notAllowed: 'this API token is not bound to a person (API_TOKENS entry U…:Name:TOKEN); operator commands name who acted',
          via: decisionChannel(req.headers['user-agent']),
          attemptedAt,
        });
        if (outcome.kind === 'recorded') return reply.code(200).send(outcome.result);
        if (outcome.kind === 'unreachable') return reply.code(503).send(errorBody('upstream_unavailable', outcome.message));
        const code = ({ 400: 'invalid_input', 403: 'forbidden', 404: 'not_found', 409: 'conflict' } as const)[outcome.status];
        return reply.code(outcome.status).send({ ...errorBody(code, outcome.message, outcome.fields), refusal: outcome.code });
      });
    }

    const feedbackDoc = {
      summary: 'Submit one feedback item (or a batch under `items`); starts one FeedbackWorkflow per item',
      description:
        'A batch answers 202 when every item was accepted, 207 when some were, 400 when none was valid and 503 when none could be started. `Idempotency-Key` applies to single items only (batch items are keyed by their externalId).',
      tags: ['intake'],
      headers: z.object({ 'idempotency-key': z.string().optional().meta({ description: 'Makes a retried single item a duplicate of the first; reusing it for a different item is refused with 422' }) }),
      body: ZFeedbackBody,
      response: answers({
        202: answer('Accepted: the workflow started (or already existed); for a batch, per-item results', z.union([ZIntakeAccepted, ZIntakeBatch])),
        207: answer('Batch partly accepted: per-item results', ZIntakeBatch),
        400: answer('Invalid item (or no valid item in the batch)', ZIntakeError),
        401: E401,
        413: E413,
        415: E415,
        422: answer('Idempotency-Key already used for a different item', ZIntakeError),
        503: answer('Temporal unavailable: nothing was started; retry', ZIntakeError),
      }),
    };
    // Intake answers per batch item (202/207/400/503): the handler parses.
    api.post('/v1/feedback', parsedByHandler(feedbackDoc), async (req, reply) => {
      const split = splitBody(req.body);
      const { batch } = split;
      const idempotencyKey = req.headers['idempotency-key'];
      const key = Array.isArray(idempotencyKey) ? idempotencyKey[0] : idempotencyKey;
      if (key !== undefined && batch) {
        throw new LoopwrightError('invalid_input', 'Idempotency-Key applies to single items; batch items are keyed by their externalId', {
          details: { fields: [{ path: 'Idempotency-Key', message: 'not allowed on a batch' }] },
        });
      }
      const items = key !== undefined ? [applyIdempotencyKey(split.items[0], key)] : split.items;
      const results = await intakeItems(deps.temporal, items, (i) => (batch ? ['items', i] : []), {
        reservedSources: SIGNED_SOURCES,
        onStartFailed: (workflowId, cause) => req.log.warn({ workflowId, cause: startFailureCause(cause) }, 'feedback workflow start failed; the item is answered "failed" (the caller retries)'),
      });
      const summary = summarizeIntake(results);
      for (const [status, n] of Object.entries(summary)) if (n > 0) metrics.countIntake('api', status as TIntakeResult['status'], n);
      if (!batch) {
        const r = results[0]!;
        if (r.status === 'rejected') return reply.code(400).send({ ...errorBody('invalid_input', 'invalid feedback item', r.errors), ...(r.workflowId ? { workflowId: r.workflowId } : {}) });
        if (r.status === 'failed') return reply.code(503).send({ ...errorBody('upstream_unavailable', r.errors?.[0]?.message ?? 'start failed; retry'), workflowId: r.workflowId });
        if (key !== undefined && r.status === 'duplicate') {
          // A retry with the same key must carry the same item; a different one is a client bug that
          // would otherwise be silently dropped.
          const recorded = await startedDigest(deps.temporal, r.workflowId!);
          if (recorded !== null && recorded !== itemDigest(ZFeedbackItem.parse(items[0]))) {
            return reply.code(422).send({ ...errorBody('conflict', 'Idempotency-Key was already used for a different feedback item'), workflowId: r.workflowId });
          }
        }
        return reply.code(202).send({ workflowId: r.workflowId, status: r.status });
      }
      const status = batchStatus(summary);
      const body = { items: results, summary };
      if (status === 400) {
        return reply.code(400).send({ ...errorBody('invalid_input', 'no item in the batch is valid', results.flatMap((r) => r.errors ?? [])), ...body });
      }
      // Errors share one envelope: a batch of which nothing could be started says so beside the per-item results.
      if (status === 503) return reply.code(503).send({ ...errorBody('upstream_unavailable', 'no item could be started; retry the batch'), ...body });
      return reply.code(status).send(body);
    });

    await registerOutcomeRoutes(api, { ...(deps.outcome ? { predictor: deps.outcome } : {}), audit: deps.audit, clock });
    if (deps.brain) await registerBrainRoutes(api, { ...deps.brain, audit: deps.audit, clock });

    const classifyDoc = {
      summary: 'Triage one item synchronously (nothing is started)',
      description: '`source`, `externalId` and `receivedAt` may be left out.',
      tags: ['intake'],
      body: ZFeedbackItem.partial({ source: true, externalId: true, receivedAt: true }),
      response: answers({
        200: answer('The triage result (masked text, classification, severity, fragments)', ZTriageResult),
        ...JSON_BODY_ERRORS,
        401: E401,
        429: errorAnswer("The LLM classifier's provider is rate limiting (`Retry-After` passed on)"),
        502: errorAnswer('The LLM classifier was refused by its provider'),
        503: errorAnswer("The LLM classifier's provider is unreachable; retry"),
      }),
    };
    // The handler fills the fields only intake needs before parsing.
    api.post('/v1/classify', parsedByHandler(classifyDoc), async (req) => {
      const raw = req.body;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new LoopwrightError('invalid_input', 'request body must be a feedback item object', { details: { fields: [{ path: '(root)', message: 'expected an object' }] } });
      }
      // Classification needs no identity: fill what only intake needs, keep everything else strict.
      const parsed = ZFeedbackItem.safeParse({ source: 'api', externalId: 'classify', receivedAt: new Date(clock()).toISOString(), ...raw });
      if (!parsed.success) throw new LoopwrightError('invalid_input', 'invalid feedback item', { details: { fields: fieldErrors(parsed.error.issues) } });
      const started = performance.now();
      const result = await deps.pipeline.triage(parsed.data);
      metrics.observeClassification(result.classification.source, result.classification.category, (performance.now() - started) / 1000);
      return result;
    });
  });

  await registerRehearseRoutes(app, { audit: deps.audit, policy: deps.policy, apiTokens: deps.config.apiTokens, now: clock, ...(deps.playbooks ? { playbooks: deps.playbooks } : {}) });

  // ── Signed webhooks: their signatures cover the raw body, so these scopes parse it themselves ──
  const zendeskSecret = deps.config.zendeskWebhookSecret;
  if (zendeskSecret) {
    await app.register(async (hooks) => {
      hooks.removeContentTypeParser('application/json');
      hooks.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const zendeskDoc = {
        summary: 'Zendesk webhook: a ticket becomes a feedback item',
        tags: ['webhooks'],
        security: SECURITY.none,
        headers: z.object({
          'x-zendesk-webhook-signature': z.string().meta({ description: 'base64(HMAC-SHA256(secret, timestamp + raw body))' }),
          'x-zendesk-webhook-signature-timestamp': z.string().meta({ description: 'When Zendesk signed the request' }),
        }),
        body: z.record(z.string(), z.unknown()).meta({ description: "The webhook's JSON payload as configured in Zendesk (ticket id, subject, description, requester…)" }),
        response: answers({
          200: answer('Not feedback (e.g. an agent comment): ignored', ZZendeskIgnored),
          202: answer('The FeedbackWorkflow started (or already existed)', ZIntakeAccepted),
          ...JSON_BODY_ERRORS,
          401: E401_SIGNED,
          503: E503,
        }),
      };
      hooks.post('/webhooks/zendesk', parsedByHandler(zendeskDoc), async (req, reply) => {
        const raw = typeof req.body === 'string' ? req.body : '';
        const header = (name: string): string | undefined => {
          const v = req.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        const check = verifyZendeskSignature({
          secret: zendeskSecret,
          timestamp: header('x-zendesk-webhook-signature-timestamp'),
          signature: header('x-zendesk-webhook-signature'),
          body: raw,
          now: clock(),
        });
        if (!check.ok) throw new LoopwrightError('unauthorized', `Zendesk webhook signature ${check.reason}`);
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new LoopwrightError('invalid_input', 'request body is not valid JSON');
        }
        const mapped = mapZendeskWebhook(body, clock);
        if (mapped.kind === 'ignored') return reply.code(200).send({ status: 'ignored', reason: mapped.reason });
        const parsed = ZFeedbackItem.safeParse(mapped.item);
        if (!parsed.success) {
          metrics.countIntake('zendesk', 'rejected');
          throw new LoopwrightError('invalid_input', 'Zendesk ticket does not make a valid feedback item', { details: { fields: fieldErrors(parsed.error.issues) } });
        }
        const started = await startFeedbackWorkflow(deps.temporal, parsed.data);
        metrics.countIntake('zendesk', started.status);
        return reply.code(202).send(started);
      });
    });
  }

  if (deps.codec) {
    await registerCodecRoutes(app, { ...deps.codec, tokens: deps.codec.tokens ?? deps.config.apiTokens.map((t) => (typeof t === 'string' ? t : t.token)), now: clock });
  }

  const slackSecret = deps.config.slackSigningSecret;
  const tokenSecret = deps.config.approvalTokenSecret;
  /** A Slack route's documentation: signed, form-encoded, its body parsed by the handler after the signature check. */
  const slackRoute = (doc: { summary: string; description: string; body: z.ZodType; ok: TAnswer }) =>
    parsedByHandler({
      summary: doc.summary,
      description: doc.description,
      tags: ['slack'],
      security: SECURITY.none,
      headers: z.object({
        'x-slack-signature': z.string().meta({ description: 'v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>")' }),
        'x-slack-request-timestamp': z.string().meta({ description: 'Unix seconds; older than 5 minutes is refused' }),
      }),
      consumes: [FORM_TYPE],
      body: doc.body,
      response: answers({ 200: doc.ok, 400: E400, 401: E401_SIGNED, 413: E413, 415: E415 }),
    });
  /** The raw form body of a Slack request whose signature (signing secret, timestamp window) holds; 401 otherwise. */
  const verifiedSlackBody = (req: { body: unknown; headers: Record<string, string | string[] | undefined> }, secret: string): string => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const check = verifySlackSignature({ signingSecret: secret, timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature'), body: raw, now: clock() });
    if (!check.ok) throw new LoopwrightError('unauthorized', `Slack signature ${check.reason}`);
    return raw;
  };
  if (slackSecret) {
    // The /loopwright slash command (slack-commands.ts): signed like interactivity, acked at once.
    const slash = createSlashCommands({
      commands: createCommandSubmitter({ client: deps.temporal.client, audit: deps.audit, log: app.log }),
      policy: deps.policy,
      responseUrlPrefix: deps.config.slackResponseUrlPrefix ?? 'https://hooks.slack.com/',
      fetch: deps.fetch ?? fetch,
      now: clock,
      log: app.log,
    });
    await app.register(async (hooks) => {
      hooks.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const commandDoc = slackRoute({
        summary: 'The /loopwright slash command: snooze, close, reclassify, merge, split',
        description: 'Answered at once, ephemerally; the result follows through `response_url`.',
        body: ZSlackCommandForm,
        ok: answer('The acknowledgement shown to the caller only', ZSlackEphemeral),
      });
      hooks.post('/slack/commands', commandDoc, async (req, reply) => {
        const raw = verifiedSlackBody(req, slackSecret);
        const form = ZSlackCommandForm.safeParse(formFields(raw));
        if (!form.success) throw new LoopwrightError('invalid_input', 'invalid slash command form', { details: { fields: fieldErrors(form.error.issues) } });
        const { user_id: userId, user_name: userName, text, response_url: responseUrl } = form.data;
        const { ack, run } = slash.accept({ userId, userName: userName ?? userId, text: text ?? '', responseUrl });
        if (run) track(run());
        return reply.code(200).send(ack);
      });
    });
  }
  if (slackSecret) {
    // Approve/Reject and the preview need the approval-token secret; the issue shortcut does not.
    const slack = tokenSecret
      ? createSlackInteractions({
          client: deps.temporal.client,
          audit: deps.audit,
          policy: deps.policy,
          approvalTokenSecret: tokenSecret,
          metrics,
          responseUrlPrefix: deps.config.slackResponseUrlPrefix ?? 'https://hooks.slack.com/',
          fetch: deps.fetch ?? fetch,
          now: clock,
          log: app.log,
          ...(deps.slack ? { slack: deps.slack } : {}),
        })
      : null;
    const preview = tokenSecret
      ? createPreviewClickHandler({
          audit: deps.audit,
          policy: deps.policy,
          ...(deps.playbooks ? { playbooks: deps.playbooks } : {}),
          now: clock,
          responseUrlPrefix: deps.config.slackResponseUrlPrefix ?? 'https://hooks.slack.com/',
          fetch: deps.fetch ?? fetch,
          ...(deps.slack ? { slack: deps.slack } : {}),
        })
      : null;
    // The "Act on this issue…" message shortcut (slack-shortcut.ts): the modal, then the same Updates as /loopwright.
    const shortcut = createIssueShortcut({
      commands: createCommandSubmitter({ client: deps.temporal.client, audit: deps.audit, log: app.log }),
      policy: deps.policy,
      slack: deps.slack,
      responseUrlPrefix: deps.config.slackResponseUrlPrefix ?? 'https://hooks.slack.com/',
      fetch: deps.fetch ?? fetch,
      now: clock,
      log: app.log,
    });
    await app.register(async (hooks) => {
      hooks.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const interactionDoc = slackRoute({
        summary: 'Slack interactivity: Approve, Reject (reason modal) and its submission, Preview, and the "Act on this issue…" message shortcut (loopwright_issue) with its modal',
        description:
          'Acknowledged at once with an empty 200; a blank Reject reason, or a shortcut modal missing a field its action needs, answers `response_action: errors` to keep the modal open.',
        body: ZSlackInteractionForm,
        ok: answer('Acknowledged: empty, or the modal errors', ZSlackModalErrors),
      });
      hooks.post('/slack/interactions', interactionDoc, async (req, reply) => {
        const raw = verifiedSlackBody(req, slackSecret);
        const form = ZSlackInteractionForm.safeParse(formFields(raw));
        if (!form.success) throw new LoopwrightError('invalid_input', 'invalid interaction form', { details: { fields: fieldErrors(form.error.issues) } });
        const interaction = parseInteraction(form.data.payload);
        // Ack first (Slack's 3 s deadline); the query, the authorization check and the Update follow.
        if (interaction?.kind === 'click' && slack) track(slack.handleClick(interaction));
        // Read-only: the rehearsal of the pending step in a modal (the trigger id lives 3 s).
        if (interaction?.kind === 'preview' && preview) track(preview.handle(interaction));
        if (interaction?.kind === 'reason' && slack) {
          // A blank reason keeps the modal open with the message under the field.
          const errors = reasonErrors(interaction);
          if (errors) return reply.code(200).send(errors);
          track(slack.handleReason(interaction));
        }
        if (!interaction) {
          const s = parseShortcutInteraction(JSON.parse(form.data.payload) as unknown);
          if (s?.kind === 'issue_shortcut') track(shortcut.open(s));
          if (s?.kind === 'issue_modal') {
            // A field the chosen action needs is missing: the modal stays open with the message under it.
            const errors = shortcut.check(s);
            if (errors) return reply.code(200).send(errors);
            track(shortcut.submit(s));
          }
        }
        return reply.code(200).send();
      });
    });
  }

  return app;
}
