// Routing occurrences to IssueWorkflows in batches, paced per issue. Every FeedbackWorkflow's
// routing activity hands its occurrence to this router; occurrences for one issue travel together
// in ONE signal-with-start, and each issue has at most one signal in flight from this process,
// sent at most once per `minIntervalMs`: whatever arrives meanwhile waits and leaves in the next
// batch. So however busy a fingerprint is, one worker process sends it at most
// 1000 / minIntervalMs signals a second (10 by default), each with up to `maxBatch` occurrences.
// That pace is what keeps a run under the server's signal limit (10,000 per run): the workflow
// continues as new after `continueAsNewAfterSignals` (2,000), and the headroom between the two is
// signals this pace takes minutes to use, far longer than a workflow task takes to see them.
// If a run is at the limit anyway (a slow worker, many routing processes), the send waits for the
// next run (the workflow is continuing as new) up to `signalLimitWaitMs`, counted in `stats()`.
// Each caller waits until its batch is signalled; a failed signal fails every caller of that
// batch, whose activities retry (the workflow drops duplicates by feedback id).
// Hand-written: per-key queueing with a timer, the same shape as audit/group-commit.ts; no
// library paces per key with signal-with-start's retry rule.
import type { Client } from '@temporalio/client';
import { ISSUE_WORKFLOW, occurrencesSignal, type TOccurrence } from '../workflows/messages.js';
import type { TIssueWorkflowInput } from '../workflows/issue/state.js';

export interface OccurrenceRouterOptions {
  /** How long the first occurrence of a batch waits for others (ms). */
  lingerMs?: number;
  /** At most this many occurrences per signal (keeps a signal well under the 256 KB payload warning). */
  maxBatch?: number;
  /** At least this long between two signals to the same issue from this process (ms). */
  minIntervalMs?: number;
  /** How long a batch waits while the issue's run is at the server's signal limit (ms). */
  signalLimitWaitMs?: number;
}

export interface OccurrenceRouterStats {
  signals: number;
  occurrences: number;
  /** Sends refused because the run was at the server's signal limit (then retried). */
  signalLimitHits: number;
}

interface Pending {
  occurrence: TOccurrence;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Lane {
  input: TIssueWorkflowInput;
  queue: Pending[];
  timer: NodeJS.Timeout | null;
  inFlight: boolean;
  lastSentAt: number;
}

export interface OccurrenceRouter {
  route(issueWorkflowId: string, input: TIssueWorkflowInput, occurrence: TOccurrence): Promise<void>;
  /** Resolves when every occurrence routed so far has been signalled (or failed). */
  flush(): Promise<void>;
  stats(): OccurrenceRouterStats;
}

const isSignalLimit = (e: unknown): boolean => /limit for signal/i.test(`${(e as Error)?.message ?? ''} ${(e as { cause?: Error })?.cause?.message ?? ''}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createOccurrenceRouter(client: Client, taskQueue: string, opts: OccurrenceRouterOptions = {}): OccurrenceRouter {
  const lingerMs = opts.lingerMs ?? 25;
  const maxBatch = opts.maxBatch ?? 100;
  const minIntervalMs = opts.minIntervalMs ?? 100;
  const signalLimitWaitMs = opts.signalLimitWaitMs ?? 10 * 60_000;
  const lanes = new Map<string, Lane>();
  const stats: OccurrenceRouterStats = { signals: 0, occurrences: 0, signalLimitHits: 0 };
  const idle: Array<() => void> = [];

  async function signal(id: string, input: TIssueWorkflowInput, occurrences: TOccurrence[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await client.workflow.signalWithStart(ISSUE_WORKFLOW, { workflowId: id, taskQueue, args: [input], signal: occurrencesSignal, signalArgs: [occurrences] });
        stats.signals += 1;
        stats.occurrences += occurrences.length;
        return;
      } catch (e) {
        if (!isSignalLimit(e) || Date.now() - started >= signalLimitWaitMs) throw e;
        // The run is at the signal limit and about to continue as new: the next run takes the batch.
        stats.signalLimitHits += 1;
        await sleep(Math.min(2_000, 50 * 2 ** attempt));
      }
    }
  }

  /** Sends the lane's next batch when nothing is in flight and the pacing allows. */
  function pump(id: string, lane: Lane): void {
    if (lane.inFlight || lane.timer || lane.queue.length === 0) return;
    const wait = Math.max(0, lane.lastSentAt + minIntervalMs - Date.now());
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = null;
        pump(id, lane);
      }, wait);
      return;
    }
    const batch = lane.queue.splice(0, maxBatch);
    lane.inFlight = true;
    lane.lastSentAt = Date.now();
    void signal(
      id,
      lane.input,
      batch.map((p) => p.occurrence),
    ).then(
      () => batch.forEach((p) => p.resolve()),
      (e: unknown) => batch.forEach((p) => p.reject(e)),
    ).finally(() => {
      lane.inFlight = false;
      if (lane.queue.length > 0) pump(id, lane);
      else if (!lane.timer) lanes.delete(id);
      if (lanes.size === 0) idle.splice(0).forEach((f) => f());
    });
  }

  return {
    route(id, input, occurrence) {
      return new Promise<void>((resolve, reject) => {
        let lane = lanes.get(id);
        if (!lane) {
          // A new lane lingers once so the first burst leaves as one batch.
          lane = { input, queue: [], timer: null, inFlight: false, lastSentAt: Date.now() - minIntervalMs + lingerMs };
          lanes.set(id, lane);
        }
        lane.queue.push({ occurrence, resolve, reject });
        pump(id, lane);
      });
    },
    flush() {
      return lanes.size === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r));
    },
    stats: () => ({ ...stats }),
  };
}
