// Starting FeedbackWorkflows: the one code path the HTTP API, the Zendesk webhook and the
// `import` command share. The workflow id `feedback:<source>:<externalId>` is the dedup key, so a
// re-delivered item is reported as a duplicate of the same workflow id, never an error and never
// processed twice. Batches validate item by item: invalid items are reported by index with field
// errors while the valid ones start.
// Honesty rules: a source that has its own signed channel (zendesk) cannot be claimed through the
// generic API, or anyone with an API token could pre-empt a real ticket's workflow id; an item that
// repeats an id earlier in the same batch reports what happened to that earlier item (a failed start
// is never followed by `duplicate`); an `Idempotency-Key` reused with a different item is refused.
// Must not: log or echo item text, or report an item as started when Temporal refused it.
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { feedbackWorkflowId, ZExternalId, ZFeedbackItem, type TFeedbackItem } from '../../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW } from '../../workflows/messages.js';
import { fieldErrors, type TFieldError } from './errors.js';

export const MAX_BATCH_ITEMS = 1_000;
/** Concurrent starts per request: enough to hide the round trip, few enough not to swamp the frontend. */
const START_CONCURRENCY = 32;

/** Sources that only their signed webhook may use; the generic API refuses them. */
export const SIGNED_SOURCES: ReadonlyMap<string, string> = new Map([['zendesk', 'POST /webhooks/zendesk']]);

/** Memo field holding a digest of the item a workflow was started with (Idempotency-Key reuse check). */
export const INTAKE_DIGEST_MEMO = 'intakeDigest';

export type TIntakeStatus = 'started' | 'duplicate' | 'rejected' | 'failed';

export interface TIntakeResult {
  index: number;
  /** Absent only when the item is too malformed to name its workflow (bad source or externalId). */
  workflowId?: string;
  status: TIntakeStatus;
  errors?: TFieldError[];
}

export interface TemporalTarget {
  client: Client;
  taskQueue: string;
}

/** SHA-256 of the item's canonical JSON (keys sorted): equal items have equal digests. */
export function itemDigest(item: TFeedbackItem): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(item)), 'utf8').digest('base64url');
}

/** Starts one item's workflow; `duplicate` when that id already ran or runs. */
export async function startFeedbackWorkflow(temporal: TemporalTarget, item: TFeedbackItem): Promise<{ workflowId: string; status: 'started' | 'duplicate' }> {
  const workflowId = feedbackWorkflowId(item);
  try {
    await temporal.client.workflow.start(FEEDBACK_WORKFLOW, {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [item],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { [INTAKE_DIGEST_MEMO]: itemDigest(item) },
    });
    return { workflowId, status: 'started' };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, status: 'duplicate' };
    throw new LoopwrightError('upstream_unavailable', 'could not start the feedback workflow (Temporal unavailable); retry', { cause: e });
  }
}

/**
 * The digest recorded when `workflowId` was started, or null when the workflow predates digests.
 * Throws `upstream_unavailable` when Temporal cannot be asked.
 */
export async function startedDigest(temporal: TemporalTarget, workflowId: string): Promise<string | null> {
  try {
    const d = await temporal.client.workflow.getHandle(workflowId).describe();
    const v = d.memo?.[INTAKE_DIGEST_MEMO];
    return typeof v === 'string' ? v : null;
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', 'could not read the existing workflow (Temporal unavailable); retry', { cause: e });
  }
}

const ZBatch = z.strictObject({ items: z.array(z.unknown()).min(1, 'items must not be empty').max(MAX_BATCH_ITEMS, `at most ${MAX_BATCH_ITEMS} items per batch`) });
/**
 * POST /v1/feedback's body as documented: one item, `{ items: [...] }` or a bare array. splitBody
 * checks the batch's envelope (ZBatch) and intakeItems each item (ZFeedbackItem), so one invalid
 * item is refused alone; this union states the same limits for the OpenAPI document.
 */
export const ZFeedbackBody = z.union([
  ZFeedbackItem,
  ZBatch.extend({ items: z.array(ZFeedbackItem).min(1).max(MAX_BATCH_ITEMS) }),
  z.array(ZFeedbackItem).min(1).max(MAX_BATCH_ITEMS),
]);

/**
 * The request body as a list of raw items: `{ items: [...] }` or a bare array is a batch, any
 * other object is one item. Throws `invalid_input` for an envelope that is not one of those.
 */
export function splitBody(body: unknown): { batch: boolean; items: unknown[] } {
  if (Array.isArray(body)) body = { items: body };
  if (body !== null && typeof body === 'object' && 'items' in body) {
    const parsed = ZBatch.safeParse(body);
    if (!parsed.success) {
      throw new LoopwrightError('invalid_input', 'invalid batch', { details: { fields: fieldErrors(parsed.error.issues) } });
    }
    return { batch: true, items: parsed.data.items };
  }
  if (body === null || typeof body !== 'object') {
    throw new LoopwrightError('invalid_input', 'request body must be a feedback item object or { "items": [...] }', { details: { fields: [{ path: '(root)', message: 'expected an object' }] } });
  }
  return { batch: false, items: [body] };
}

/**
 * Applies an `Idempotency-Key` header to a single item: the key stands in for a missing
 * externalId, and must equal a given one (two different names for one message are ambiguous).
 */
export function applyIdempotencyKey(raw: unknown, key: string): unknown {
  const parsed = ZExternalId.safeParse(key);
  if (!parsed.success) {
    throw new LoopwrightError('invalid_input', 'invalid Idempotency-Key header', { details: { fields: fieldErrors(parsed.error.issues, ['Idempotency-Key']) } });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  if (r['externalId'] === undefined) return { ...r, externalId: key };
  if (r['externalId'] !== key) {
    throw new LoopwrightError('invalid_input', 'Idempotency-Key and externalId differ; send one, or the same value in both', {
      details: { fields: [{ path: 'externalId', message: 'must equal the Idempotency-Key header' }] },
    });
  }
  return raw;
}

function nameOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const ok = ZFeedbackItem.shape.source.safeParse(r['source']).success && ZFeedbackItem.shape.externalId.safeParse(r['externalId']).success;
  return ok ? feedbackWorkflowId({ source: r['source'] as string, externalId: r['externalId'] as string }) : undefined;
}

/**
 * What an operator needs from a failed start (gRPC code and the server's words), without the item:
 * the error's name, its gRPC status code when it has one, and its message cut to 300 characters.
 */
export function startFailureCause(cause: unknown): { name: string; code?: number; message: string } {
  const e = cause as { name?: unknown; code?: unknown; details?: unknown; message?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof cause;
  const code = typeof e?.code === 'number' ? e.code : undefined;
  const text = typeof e?.details === 'string' && e.details ? e.details : typeof e?.message === 'string' ? e.message : String(cause);
  return { name, ...(code !== undefined ? { code } : {}), message: text.slice(0, 300) };
}

export interface IntakeOptions {
  /** Sources this caller may not use, with the channel that owns each (default: none; the API passes SIGNED_SOURCES). */
  reservedSources?: ReadonlyMap<string, string>;
  /** Told why a start failed (the item is answered `failed`; the cause is for the operator's log, not the caller). */
  onStartFailed?: (workflowId: string, cause: unknown) => void;
}

/** Validates and starts every item; the result has one entry per input, in input order. */
export async function intakeItems(temporal: TemporalTarget, raw: readonly unknown[], pathPrefix: (i: number) => PropertyKey[], opts: IntakeOptions = {}): Promise<TIntakeResult[]> {
  const results: TIntakeResult[] = new Array(raw.length);
  const valid: Array<{ index: number; item: TFeedbackItem }> = [];
  const pathOf = (index: number, ...rest: string[]): string => [...pathPrefix(index).map(String), ...rest].join('.') || '(root)';
  raw.forEach((r, index) => {
    const parsed = ZFeedbackItem.safeParse(r);
    const workflowId = nameOf(r);
    if (!parsed.success) {
      results[index] = { index, ...(workflowId ? { workflowId } : {}), status: 'rejected', errors: fieldErrors(parsed.error.issues, pathPrefix(index)) };
      return;
    }
    const owner = opts.reservedSources?.get(parsed.data.source);
    if (owner) {
      results[index] = {
        index,
        ...(workflowId ? { workflowId } : {}),
        status: 'rejected',
        errors: [{ path: pathOf(index, 'source'), message: `source "${parsed.data.source}" arrives only through its signed channel (${owner}); use another source id` }],
      };
      return;
    }
    valid.push({ index, item: parsed.data });
  });
  // The same id twice in one batch: the later item waits for the first one's outcome and reports
  // it truthfully (duplicate when the first started or already existed, failed when it failed).
  const firstById = new Map<string, { index: number; outcome: Promise<TIntakeResult> }>();
  let next = 0;
  const startOne = async (index: number, item: TFeedbackItem): Promise<TIntakeResult> => {
    try {
      return { index, ...(await startFeedbackWorkflow(temporal, item)) };
    } catch (e) {
      opts.onStartFailed?.(feedbackWorkflowId(item), e instanceof LoopwrightError && e.cause !== undefined ? e.cause : e);
      return { index, workflowId: feedbackWorkflowId(item), status: 'failed', errors: [{ path: pathOf(index), message: e instanceof LoopwrightError ? e.message : 'start failed; retry' }] };
    }
  };
  const worker = async (): Promise<void> => {
    while (next < valid.length) {
      const { index, item } = valid[next++]!;
      const id = feedbackWorkflowId(item);
      const first = firstById.get(id);
      if (first) {
        const earlier = await first.outcome;
        results[index] =
          earlier.status === 'failed'
            ? { index, workflowId: id, status: 'failed', errors: [{ path: pathOf(index), message: `same id as item ${first.index}, whose start failed; retry` }] }
            : { index, workflowId: id, status: 'duplicate' };
        continue;
      }
      const outcome = startOne(index, item);
      firstById.set(id, { index, outcome });
      results[index] = await outcome;
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, valid.length) }, worker));
  return results;
}

export function summarizeIntake(results: readonly TIntakeResult[]): Record<TIntakeStatus, number> {
  const s = { started: 0, duplicate: 0, rejected: 0, failed: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

/**
 * The HTTP status of a batch answer: 202 when every item was accepted (started or duplicate),
 * 207 when some were and some were not, 503 when none was and at least one start failed (retry
 * the whole request), 400 when every item was invalid.
 */
export function batchStatus(summary: Record<TIntakeStatus, number>): 202 | 207 | 400 | 503 {
  const accepted = summary.started + summary.duplicate;
  const refused = summary.rejected + summary.failed;
  if (refused === 0) return 202;
  if (accepted > 0) return 207;
  return summary.failed > 0 ? 503 : 400;
}
