// Starting FeedbackWorkflows: the one code path the HTTP API, the Zendesk webhook and the
// `import` command share. The workflow id `feedback:<source>:<externalId>` is the dedup key, so a
// re-delivered item is reported as a duplicate of the same workflow id, never an error and never
// processed twice. Batches validate item by item: invalid items are reported by index with field
// errors while the valid ones start.
// Must not: log or echo item text, or report an item as started when Temporal refused it.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { feedbackWorkflowId, ZFeedbackItem, type TFeedbackItem } from '../../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW } from '../../workflows/messages.js';
import { fieldErrors, type TFieldError } from './errors.js';

export const MAX_BATCH_ITEMS = 1_000;
/** Concurrent starts per request: enough to hide the round trip, few enough not to swamp the frontend. */
const START_CONCURRENCY = 32;

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

/** Starts one item's workflow; `duplicate` when that id already ran or runs. */
export async function startFeedbackWorkflow(temporal: TemporalTarget, item: TFeedbackItem): Promise<{ workflowId: string; status: 'started' | 'duplicate' }> {
  const workflowId = feedbackWorkflowId(item);
  try {
    await temporal.client.workflow.start(FEEDBACK_WORKFLOW, {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [item],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { workflowId, status: 'started' };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, status: 'duplicate' };
    throw new LoopwrightError('upstream_unavailable', 'could not start the feedback workflow (Temporal unavailable); retry', { cause: e });
  }
}

const ZBatch = z.strictObject({ items: z.array(z.unknown()).min(1, 'items must not be empty').max(MAX_BATCH_ITEMS, `at most ${MAX_BATCH_ITEMS} items per batch`) });

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

function nameOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const ok = ZFeedbackItem.shape.source.safeParse(r['source']).success && ZFeedbackItem.shape.externalId.safeParse(r['externalId']).success;
  return ok ? feedbackWorkflowId({ source: r['source'] as string, externalId: r['externalId'] as string }) : undefined;
}

/** Validates and starts every item; the result has one entry per input, in input order. */
export async function intakeItems(temporal: TemporalTarget, raw: readonly unknown[], pathPrefix: (i: number) => PropertyKey[]): Promise<TIntakeResult[]> {
  const results: TIntakeResult[] = new Array(raw.length);
  const valid: Array<{ index: number; item: TFeedbackItem }> = [];
  raw.forEach((r, index) => {
    const parsed = ZFeedbackItem.safeParse(r);
    if (parsed.success) valid.push({ index, item: parsed.data });
    else {
      const workflowId = nameOf(r);
      results[index] = { index, ...(workflowId ? { workflowId } : {}), status: 'rejected', errors: fieldErrors(parsed.error.issues, pathPrefix(index)) };
    }
  });
  // The same item twice in one batch: the second is a duplicate of the first, without a round trip.
  const firstIndexById = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < valid.length) {
      const { index, item } = valid[next++]!;
      const id = feedbackWorkflowId(item);
      if (firstIndexById.has(id)) {
        results[index] = { index, workflowId: id, status: 'duplicate' };
        continue;
      }
      firstIndexById.set(id, index);
      try {
        const started = await startFeedbackWorkflow(temporal, item);
        results[index] = { index, ...started };
      } catch (e) {
        results[index] = {
          index,
          workflowId: id,
          status: 'failed',
          errors: [{ path: pathPrefix(index).map(String).join('.') || '(root)', message: e instanceof LoopwrightError ? e.message : 'start failed; retry' }],
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, valid.length) }, worker));
  return results;
}
