// POST /v1/predict/outcome and GET /v1/issues/:workflowId/forecast. The first: how a complaint is likely to be resolved (calibrated probability per
// outcome, timeliness risk, model version, the features that drove it), without starting any
// workflow. The text is masked before the model sees it, as in the loop. Registered by app.ts in
// its authenticated scope with one line; the request schema, the statuses and the response schemas
// (which fastify serialises through) live here, in each route's `schema`.
// Must not: log or echo the text, or answer without a model (503 names what to do instead).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { OUTCOME_FIELDS, TOutcomeRecord } from '../../activities/outcome/dataset.js';
import type { OutcomePredictor } from '../../activities/outcome/predictor.js';
import { describeForecast, forecastResolution, issueHistories, type TResolutionForecast } from '../../activities/outcome/resolution-forecast.js';
import type { AuditStore } from '../../activities/audit/index.js';
import { maskPii } from '../../activities/triage/pii.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { MAX_FEEDBACK_TEXT_CHARS } from '../../workflows/domain/feedback.js';
import { ZOutcomePrediction } from '../../workflows/domain/outcome.js';
import { fieldErrors } from './errors.js';
import { answer, answers, E401, errorAnswer, JSON_BODY_ERRORS, parsedByHandler } from './openapi.js';
import { ZForecastResponse } from './schemas.js';

const S = z.string().max(500).optional();
/** The model's structured fields (activities/outcome/dataset.ts OUTCOME_FIELDS), written out for the OpenAPI document. */
const ZOutcomeFields = z.strictObject({
  product: S,
  sub_product: S,
  issue: S,
  sub_issue: S,
  company: S,
  state: S,
  channel: S,
  tags: S,
  consent: S,
  sent_lag: S,
  tier: S,
  category: S,
} satisfies Record<(typeof OUTCOME_FIELDS)[number], typeof S>);

export const ZPredictOutcomeRequest = z.strictObject({
  /** The complaint's text; may be empty (structured fields alone still predict). */
  text: z.string().max(MAX_FEEDBACK_TEXT_CHARS).default(''),
  /** The model's structured fields; unknown values contribute nothing. */
  fields: ZOutcomeFields.default({}),
});
export type TPredictOutcomeRequest = z.input<typeof ZPredictOutcomeRequest>;

export interface OutcomeRouteDeps {
  predictor?: OutcomePredictor;
  /** For GET /v1/issues/:workflowId/forecast (time to resolution from the audit history). */
  audit?: Pick<AuditStore, 'search'>;
  clock?: () => number;
}

const FORECAST_KINDS = ['received', 'classified', 'issue_linked', 'action_succeeded', 'verified', 'reopened', 'closed'] as const;
/** Similar issues are looked for in this much history. */
const FORECAST_HISTORY_MS = 90 * 86_400_000;

/** The time-to-resolution forecast of one issue from the audit history (null when the trail knows nothing of it). */
export async function loadForecast(audit: Pick<AuditStore, 'search'>, workflowId: string, now: number): Promise<TResolutionForecast | null> {
  const events = await audit.search({ kind: [...FORECAST_KINDS], from: new Date(now - FORECAST_HISTORY_MS).toISOString(), limit: 100_000 });
  return forecastResolution(issueHistories(events), workflowId, now);
}

/** Registers the route on an (authenticated) fastify scope. */
export async function registerOutcomeRoutes(api: FastifyInstance, deps: OutcomeRouteDeps): Promise<void> {
  const predictDoc = {
    summary: 'Predict how a complaint will be resolved',
    description:
      'Calibrated probabilities of explanation / non-monetary relief / monetary relief, the risk of an untimely response, the model version and the strongest drivers. The text is masked before prediction.',
    tags: ['intake'],
    body: ZPredictOutcomeRequest,
    response: answers({ 200: answer('The prediction', ZOutcomePrediction), ...JSON_BODY_ERRORS, 401: E401, 503: errorAnswer('No outcome model is loaded') }),
  };
  api.post('/v1/predict/outcome', parsedByHandler(predictDoc), async (req) => {
    const parsed = ZPredictOutcomeRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new LoopwrightError('invalid_input', 'invalid outcome prediction request', { details: { fields: fieldErrors(parsed.error.issues) } });
    if (!deps.predictor) throw new LoopwrightError('upstream_unavailable', 'no outcome model is loaded: train one with loopwright train-outcome (models/outcome/model.json or OUTCOME_MODEL)');
    const text = parsed.data.text.trim() === '' ? '' : maskPii(parsed.data.text).masked.text;
    const fields = Object.fromEntries(Object.entries(parsed.data.fields).filter(([, v]) => v !== undefined && v.trim() !== '')) as TOutcomeRecord['fields'];
    const record: TOutcomeRecord = { id: 'api', receivedAt: NaN, text, fields, outcome: null, untimely: null };
    return deps.predictor.predict(record);
  });

  // Time to remediation and to a verified fix for an issue, from similar past issues (404 when the
  // trail holds nothing about it); the issue console and /v1/issues/:id show this.
  const audit = deps.audit;
  if (!audit) return;
  const forecastDoc = {
    summary: 'How long will this issue take?',
    description:
      'Time to remediation and to a verified fix (median and 80% interval, hours from the first report) from similar past issues in the audit trail; status insufficient_history when there are too few.',
    tags: ['issues'],
    response: answers({ 200: answer('The forecast, with a summary in words', ZForecastResponse), 401: E401, 404: errorAnswer('The audit trail holds nothing about the issue') }),
  };
  api.get<{ Params: { workflowId: string } }>('/v1/issues/:workflowId/forecast', { schema: forecastDoc }, async (req) => {
    const forecast = await loadForecast(audit, req.params.workflowId, (deps.clock ?? Date.now)());
    if (!forecast) throw new LoopwrightError('not_found', `no audit history for ${req.params.workflowId} in the last 90 days`);
    return { ...forecast, summary: describeForecast(forecast) };
  });
}
