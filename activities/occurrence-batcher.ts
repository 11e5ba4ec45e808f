// Routing occurrences to IssueWorkflows in batches. Every FeedbackWorkflow's routing activity
// hands its occurrence to this batcher; occurrences for the same issue that arrive within a short
// linger window (or until a batch is full) travel in ONE signal-with-start, so a busy fingerprint
// spends one signal per batch instead of one per message (the server allows 10,000 signals per
// run). Each caller waits until its batch is signalled; a failed signal fails every caller of that
// batch, whose activities retry (the workflow drops duplicates by feedback id); a run at the
// server's signal limit is retried here first, since the workflow is continuing as new.
// Hand-written: it is a dozen lines of per-key queueing, the same shape as audit/group-commit.ts.
import type { Client } from '@temporalio/client';
import { ISSUE_WORKFLOW, occurrencesSignal, type TOccurrence } from '../workflows/messages.js';
import type { TIssueWorkflowInput } from '../workflows/issue/state.js';

export interface OccurrenceRouterOptions {
  /** How long the first occurrence of a batch waits for others (ms). */
  lingerMs?: number;
  /** A batch is signalled at once at this size (keeps a signal well under the 256 KB payload warning). */
  maxBatch?: number;
  /** Attempts when the issue's run is at the server's signal limit (it continues as new shortly). */
  signalLimitRetries?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Batch {
  input: TIssueWorkflowInput;
  occurrences: TOccurrence[];
  waiters: Waiter[];
  timer: NodeJS.Timeout | null;
}

export interface OccurrenceRouter {
  route(issueWorkflowId: string, input: TIssueWorkflowInput, occurrence: TOccurrence): Promise<void>;
  /** Signals every open batch now. */
  flush(): Promise<void>;
}

export function createOccurrenceRouter(client: Client, taskQueue: string, opts: OccurrenceRouterOptions = {}): OccurrenceRouter {
  const lingerMs = opts.lingerMs ?? 25;
  const maxBatch = opts.maxBatch ?? 100;
  const signalLimitRetries = opts.signalLimitRetries ?? 20;
  const open = new Map<string, Batch>();

  async function send(id: string, batch: Batch): Promise<void> {
    if (batch.timer) clearTimeout(batch.timer);
    if (open.get(id) === batch) open.delete(id);
    for (let attempt = 1; ; attempt++) {
      try {
        await client.workflow.signalWithStart(ISSUE_WORKFLOW, {
          workflowId: id,
          taskQueue,
          args: [batch.input],
          signal: occurrencesSignal,
          signalArgs: [batch.occurrences],
        });
        batch.waiters.forEach((w) => w.resolve());
        return;
      } catch (e) {
        // A run at the server's signal limit is about to continue as new: the next run takes it.
        if (attempt < signalLimitRetries && /limit for signal/i.test((e as Error).message + String((e as { cause?: Error }).cause?.message ?? ''))) {
          await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
          continue;
        }
        batch.waiters.forEach((w) => w.reject(e));
        return;
      }
    }
  }

  return {
    route(id, input, occurrence) {
      return new Promise<void>((resolve, reject) => {
        let batch = open.get(id);
        if (!batch) {
          batch = { input, occurrences: [], waiters: [], timer: null };
          const b = batch;
          b.timer = setTimeout(() => void send(id, b), lingerMs);
          open.set(id, batch);
        }
        batch.occurrences.push(occurrence);
        batch.waiters.push({ resolve, reject });
        if (batch.occurrences.length >= maxBatch) void send(id, batch);
      });
    },
    async flush() {
      await Promise.all([...open.entries()].map(([id, b]) => send(id, b)));
    },
  };
}
