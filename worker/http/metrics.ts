// Prometheus metrics of one Loopwright process, on a registry created per instance (no global
// default registry, so two apps in one test process never collide and a scrape shows only ours).
// The HTTP layer records what it observes itself (request rate and latency, intake outcomes,
// synchronous classification); the worker records the rest through the same object (verdicts,
// pending approvals, action outcomes, time-to-triage and time-to-remediation).
// Names follow Prometheus conventions: our metrics carry the loopwright_ prefix and base units
// (seconds, _total on counters); the default process and Node metrics keep their standard names
// (process_cpu_seconds_total, nodejs_heap_size_used_bytes, …) so stock dashboards work. The
// Temporal runtime's own metrics (served by its exporter on loopback) are appended to a scrape.
// Visibility counts are cached, so a scrape costs at most one visibility query per cache period.
// Must not: use labels with unbounded values (ids, text): only routes, statuses, enums.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type TActionMode = 'auto' | 'approved' | 'denied';
export type TDecisionVia = 'slack' | 'cli' | 'api' | 'unknown';

export interface LoopwrightMetrics {
  readonly registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  countIntake(channel: 'api' | 'zendesk' | 'import', status: 'started' | 'duplicate' | 'rejected' | 'failed', n?: number): void;
  observeClassification(source: string, category: string, seconds: number): void;
  countVerdict(kind: 'allow' | 'deny' | 'needs_approval'): void;
  setPendingApprovals(n: number): void;
  countApprovalDecision(decision: 'approve' | 'reject' | 'refused', via: TDecisionVia): void;
  /** An infrastructure activity (audit, config, counts) still failing after many attempts. */
  countInfraRetry(activity: string): void;
  /** An integration (Slack, Jira, Zendesk, ranker) failed or recovered in a step: the workflow's `degraded` audit events. */
  countDegraded(component: string, outcome: string): void;
  countAction(mode: TActionMode): void;
  observeTimeToTriage(seconds: number): void;
  observeTimeToRemediation(seconds: number): void;
  /** The text of one scrape: our registry plus the Temporal runtime's metrics when configured. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(
  opts: {
    prefix?: string;
    defaultMetrics?: boolean;
    /** Asked at scrape time (e.g. a visibility count of issues awaiting approval); failures keep the last value. */
    countPendingApprovals?: () => Promise<number>;
    /** How long a visibility count is reused (default 15 s): scrapes stay cheap however often they come. */
    visibilityCacheMs?: number;
    /** The Temporal runtime's Prometheus exporter (http://127.0.0.1:9464/metrics), appended to each scrape. */
    runtimeMetricsUrl?: string;
    fetch?: typeof fetch;
    now?: () => number;
  } = {},
): LoopwrightMetrics {
  const p = opts.prefix ?? 'loopwright_';
  const registry = new Registry();
  // Standard names for the standard metrics: no prefix.
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const now = opts.now ?? Date.now;

  const requests = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    // Intake targets p99 < 50 ms, so the buckets are fine-grained below 100 ms.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const intake = new Counter({
    name: `${p}intake_items_total`,
    help: 'Feedback items received, by channel and outcome (started, duplicate, rejected, failed)',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
  });
  const classification = new Histogram({
    name: `${p}classification_duration_seconds`,
    help: 'Triage latency by classification source (offline, llm, cascade)',
    labelNames: ['source'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 15],
    registers: [registry],
  });
  const classified = new Counter({
    name: `${p}classifications_total`,
    help: 'Classifications by source and category (categories are bounded by the taxonomy)',
    labelNames: ['source', 'category'] as const,
    registers: [registry],
  });
  const verdicts = new Counter({ name: `${p}policy_verdicts_total`, help: 'Policy verdicts by kind', labelNames: ['kind'] as const, registers: [registry] });
  const countPending = opts.countPendingApprovals;
  const cacheMs = opts.visibilityCacheMs ?? 15_000;
  let pendingAt = -Infinity;
  let refreshing: Promise<void> | null = null;
  const refreshPending = (gauge: Gauge): Promise<void> => {
    refreshing ??= (async () => {
      try {
        gauge.set(await countPending!());
        pendingAt = now();
      } catch {
        // Temporal unreachable: /readyz reports it; the gauge keeps its last value.
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };
  const pending = new Gauge({
    name: `${p}pending_approvals`,
    help: 'Issues waiting for a human approval decision',
    registers: [registry],
    ...(countPending
      ? {
          async collect() {
            if (now() - pendingAt >= cacheMs) await refreshPending(this);
          },
        }
      : {}),
  });
  const decisions = new Counter({
    name: `${p}approval_decisions_total`,
    help: 'Approval decisions the workflows recorded, by outcome and the channel they came through (slack, cli, api); Slack clicks refused before reaching a workflow count as refused/slack',
    labelNames: ['decision', 'via'] as const,
    registers: [registry],
  });
  const actions = new Counter({
    name: `${p}actions_total`,
    help: 'Remediation actions by how they were allowed; auto / (auto + approved + denied) is the auto-remediation rate',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  const hours = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600];
  // Intake → triaged takes milliseconds when idle, seconds in a burst, minutes only when workers were down.
  const ttt = new Histogram({
    name: `${p}time_to_triage_seconds`,
    help: 'From intake (triage scheduled) to the audited classification',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  const ttr = new Histogram({ name: `${p}time_to_remediation_seconds`, help: 'From first occurrence to first successful remediation', buckets: hours, registers: [registry] });

  const infraRetries = new Counter({
    name: `${p}infra_activity_retries_total`,
    help: 'Attempts of infrastructure activities (audit, config load, rate-limit counts) after a long streak of failures; they retry without a cap',
    labelNames: ['activity'] as const,
    registers: [registry],
  });

  const degraded = new Counter({
    name: `${p}integration_degraded_total`,
    help: 'Integration failures the IssueWorkflows turned into outcomes (retry_later, continued, escalated, gave_up) and recoveries, by component',
    labelNames: ['component', 'outcome'] as const,
    registers: [registry],
  });

  return {
    registry,
    observeRequest: (route, method, status, seconds) => requests.observe({ route, method, status: String(status) }, seconds),
    countIntake: (channel, status, n = 1) => intake.inc({ channel, status }, n),
    observeClassification: (source, category, seconds) => {
      classification.observe({ source }, seconds);
      classified.inc({ source, category });
    },
    countVerdict: (kind) => verdicts.inc({ kind }),
    setPendingApprovals: (n) => pending.set(n),
    countApprovalDecision: (decision, via) => decisions.inc({ decision, via }),
    countAction: (mode) => actions.inc({ mode }),
    countInfraRetry: (activity) => infraRetries.inc({ activity }),
    countDegraded: (component, outcome) => degraded.inc({ component, outcome }),
    observeTimeToTriage: (s) => ttt.observe(s),
    observeTimeToRemediation: (s) => ttr.observe(s),
    contentType: registry.contentType,
    async scrape() {
      const ours = await registry.metrics();
      if (!opts.runtimeMetricsUrl) return ours;
      try {
        const res = await (opts.fetch ?? fetch)(opts.runtimeMetricsUrl, { signal: AbortSignal.timeout(1_000) });
        if (!res.ok) return ours;
        return `${ours.trimEnd()}\n${(await res.text()).trimEnd()}\n`;
      } catch {
        return ours; // the runtime exporter is not up (yet): our metrics still scrape
      }
    },
  };
}
