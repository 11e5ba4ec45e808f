// HTTP routes of the triage brain (issue #13 points 6 and 7), registered inside the authenticated
// /v1 scope by one line in app.ts: emerging themes (GET /v1/themes, POST …/promote), the review
// queue (GET /v1/review, POST /v1/review/:workflowId) and retraining (POST /v1/model/reload).
// Labels and promotions act as the API token's principal (a token bound to a person), never as
// someone named in the body. The decisions live in worker/brain/, shared with the CLI.
// Must not: return unmasked text (only masked texts from the audit trail and the theme store).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import type { GroupingStore } from '../../activities/grouping/store.js';
import { listThemes } from '../../activities/grouping/theme-list.js';
import type { SentenceEncoder } from '../../activities/triage/ports.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { promoteTheme } from '../brain/promote.js';
import type { TReloadResult } from '../brain/reloadable-pipeline.js';
import { DEFAULT_REVIEW_BELOW, labelMessage, listReviewQueue } from '../brain/review.js';
import { fieldErrors } from './errors.js';
import { answer, answers, E400, E401, E403, E404, errorAnswer, JSON_BODY_ERRORS, parsedByHandler } from './openapi.js';
import { ZLabelResult, ZPromoteResult, ZReviewQueue, ZThemes } from './schemas.js';
import { ZModelReloadedPayload } from '../../activities/audit/events.js';

export interface BrainHttpDeps {
  grouping: GroupingStore;
  /** The taxonomy labels are checked against (the one the pipeline runs). */
  taxonomy: () => TTaxonomy;
  /** TAXONOMY as configured (a bundled name or a file), for promotions. */
  taxonomySource: string;
  labeledFile: string;
  encoder?: SentenceEncoder;
  /** Retrains the running pipeline; absent where this process runs no pipeline. */
  reload?: () => Promise<TReloadResult>;
  clock?: () => number;
}

export const ZLabel = z.strictObject({ category: z.string().min(1).max(64).optional(), themeId: z.string().min(1).max(100).optional() }).refine((b) => b.category || b.themeId, 'category or themeId is required');
export const ZPromote = z.strictObject({ category: z.string().min(1).max(64), description: z.string().min(10).max(1_000).optional(), ownerTeam: z.string().min(1).max(100).optional() });
export const ZListQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(20), days: z.coerce.number().int().min(1).max(90).default(7), below: z.coerce.number().min(0).max(1).default(DEFAULT_REVIEW_BELOW) });

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new LoopwrightError('invalid_input', `invalid ${what}`, { details: { fields: fieldErrors(r.error.issues) } });
  return r.data;
}

export async function registerBrainRoutes(api: FastifyInstance, deps: BrainHttpDeps & { audit: AuditStore }): Promise<void> {
  const clock = deps.clock ?? Date.now;
  const principalOf = (p: { id: string; name: string } | null) => {
    if (!p) throw new LoopwrightError('forbidden', 'this API token is not bound to a person (API_TOKENS entry U…:Name:TOKEN); labels and promotions record who made them');
    return p;
  };

  const tags = ['brain'];
  const themesDoc = { summary: 'Emerging themes of unclassified messages', tags, querystring: ZListQuery, response: answers({ 200: answer('Themes, newest activity first', ZThemes), 400: E400, 401: E401 }) };
  // Queries are validated by fastify (the type provider's validatorCompiler; errors.ts answers 400 with the fields).
  const zapi = api.withTypeProvider<ZodTypeProvider>();
  zapi.get('/v1/themes', { schema: themesDoc }, async (req) => {
    const q = req.query;
    const themes = (await listThemes(deps.grouping, { now: clock(), days: q.days })).slice(0, q.limit);
    return { themes };
  });

  const promoteDoc = {
    summary: 'Promote a theme to a taxonomy category proposal',
    tags,
    body: ZPromote,
    response: answers({ 201: answer('The new taxonomy version was written', ZPromoteResult), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: E404, 409: errorAnswer('The theme was already promoted') }),
  };
  // The principal is checked before the body (403 before 400): the handlers parse.
  api.post<{ Params: { themeId: string } }>('/v1/themes/:themeId/promote', parsedByHandler(promoteDoc), async (req, reply) => {
    const reviewer = principalOf(req.principal);
    const body = parse(ZPromote, req.body, 'promotion');
    const result = await promoteTheme(
      { store: deps.grouping, audit: deps.audit },
      {
        themeId: req.params.themeId,
        category: body.category,
        ...(body.description ? { description: body.description } : {}),
        ...(body.ownerTeam ? { ownerTeam: body.ownerTeam } : {}),
        taxonomy: deps.taxonomySource,
        reviewer,
        now: new Date(clock()),
      },
    );
    return reply.code(201).send(result);
  });

  const reviewDoc = { summary: 'Messages waiting for a human label', tags, querystring: ZListQuery, response: answers({ 200: answer('Newest first', ZReviewQueue), 400: E400, 401: E401 }) };
  zapi.get('/v1/review', { schema: reviewDoc }, async (req) => {
    const q = req.query;
    return { items: await listReviewQueue(deps.audit, { below: q.below, limit: q.limit }) };
  });

  const labelDoc = {
    summary: "Label a message, as the token's principal",
    tags,
    body: ZLabel,
    response: answers({ 201: answer('The label was recorded', ZLabelResult), ...JSON_BODY_ERRORS, 401: E401, 403: E403, 404: errorAnswer('No classified message with this id') }),
  };
  api.post<{ Params: { workflowId: string } }>('/v1/review/:workflowId', parsedByHandler(labelDoc), async (req, reply) => {
    const reviewer = principalOf(req.principal);
    const body = parse(ZLabel, req.body, 'label');
    const result = await labelMessage(
      { audit: deps.audit, taxonomy: deps.taxonomy(), labeledFile: deps.labeledFile, grouping: deps.grouping, ...(deps.encoder ? { encoder: deps.encoder } : {}) },
      { workflowId: req.params.workflowId, ...(body.category ? { category: body.category } : {}), ...(body.themeId ? { themeId: body.themeId } : {}), reviewer, at: new Date(clock()) },
    );
    return reply.code(201).send(result);
  });

  const reloadDoc = {
    summary: 'Retrain and reload the classifier from taxonomy + labeled data',
    tags,
    response: answers({ 200: answer('The model now serving', ZModelReloadedPayload), 401: E401, 500: errorAnswer('This process runs no classifier to reload') }),
  };
  api.post('/v1/model/reload', { schema: reloadDoc }, async (req) => {
    if (!deps.reload) throw new LoopwrightError('invalid_config', 'this process runs no classifier to reload', { retryable: false });
    const result = await deps.reload();
    await deps.audit.append({
      workflowId: 'system:model',
      eventKey: `reloaded:${result.modelVersion}:${new Date(clock()).toISOString()}`,
      actor: req.principal ? { type: 'user', id: req.principal.id, displayName: req.principal.name } : { type: 'system', id: 'api' },
      kind: 'model_reloaded',
      payload: result,
    });
    return result;
  });
}
