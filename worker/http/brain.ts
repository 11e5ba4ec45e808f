// HTTP routes of the triage brain (issue #13 points 6 and 7), registered inside the authenticated
// /v1 scope by one line in app.ts: emerging themes (GET /v1/themes, POST …/promote), the review
// queue (GET /v1/review, POST /v1/review/:workflowId) and retraining (POST /v1/model/reload).
// Labels and promotions act as the API token's principal (a token bound to a person), never as
// someone named in the body. The decisions live in worker/brain/, shared with the CLI.
// Must not: return unmasked text (only masked texts from the audit trail and the theme store).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import type { GroupingStore } from '../../activities/grouping/store.js';
import { describeThemes } from '../../activities/grouping/themes.js';
import type { SentenceEncoder } from '../../activities/triage/ports.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { promoteTheme } from '../brain/promote.js';
import type { TReloadResult } from '../brain/reloadable-pipeline.js';
import { DEFAULT_REVIEW_BELOW, labelMessage, listReviewQueue } from '../brain/review.js';
import { fieldErrors } from './errors.js';

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

  api.get('/v1/themes', async (req) => {
    const q = parse(ZListQuery, req.query, 'query');
    const themes = describeThemes(await deps.grouping.groups('theme'), await deps.grouping.members('theme', null), { now: clock(), days: q.days }).slice(0, q.limit);
    return { themes };
  });

  api.post<{ Params: { themeId: string } }>('/v1/themes/:themeId/promote', async (req, reply) => {
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

  api.get('/v1/review', async (req) => {
    const q = parse(ZListQuery, req.query, 'query');
    return { items: await listReviewQueue(deps.audit, { below: q.below, limit: q.limit }) };
  });

  api.post<{ Params: { workflowId: string } }>('/v1/review/:workflowId', async (req, reply) => {
    const reviewer = principalOf(req.principal);
    const body = parse(ZLabel, req.body, 'label');
    const result = await labelMessage(
      { audit: deps.audit, taxonomy: deps.taxonomy(), labeledFile: deps.labeledFile, grouping: deps.grouping, ...(deps.encoder ? { encoder: deps.encoder } : {}) },
      { workflowId: req.params.workflowId, ...(body.category ? { category: body.category } : {}), ...(body.themeId ? { themeId: body.themeId } : {}), reviewer, at: new Date(clock()) },
    );
    return reply.code(201).send(result);
  });

  api.post('/v1/model/reload', async (req) => {
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
