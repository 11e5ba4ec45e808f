// The issue console's read side, shared by GET /v1/issues(/:id) and `loopwright status`: which
// issues exist (Temporal visibility over IssueWorkflow and its search attributes), each one's live
// state (the `state` query), sorted the way people triage: severity, then reports, then age.
// Visibility on SQL stores cannot order by custom attributes, so a page is built from at most
// `scanLimit` listed issues, queried with bounded concurrency; `truncated` says when more matched.
// Must not: build a visibility query from unchecked input (every filter value is validated), or
// change anything (commands go through the workflow's Updates, worker/http/app.ts).
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { describeForecast, type TResolutionForecast } from '../activities/outcome/resolution-forecast.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { outcomeInWords } from '../workflows/domain/outcome.js';
import { ISSUE_WORKFLOW, SA, stateQuery, timelineQuery, type TIssueState, type TTimelineEntry } from '../workflows/messages.js';

const SEVERITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
const ZToken = z.string().regex(/^[a-z0-9_.-]{1,80}$/, 'lowercase letters, digits, _ . - only');
const csv = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item).min(1).max(20));

export const ZIssueListQuery = z.strictObject({
  /** Issue status(es), comma-separated: watching, awaiting_approval, … closed. */
  status: csv(ZToken).optional(),
  category: csv(ZToken).optional(),
  /** Minimum severity: low < medium < high < critical. */
  severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
  /** Include closed and merged issues (default: open ones only; a merged issue only forwards to its survivor). */
  closed: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  sort: z.enum(['severity', 'reports', 'last_seen', 'age']).default('severity'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque cursor from the previous page's `next`. */
  cursor: z
    .string()
    .regex(/^\d{1,6}$/, 'cursor is the `next` value of the previous page')
    .optional(),
});
export type TIssueListQuery = z.input<typeof ZIssueListQuery>;

export const ZIssueRow = z.object({
  id: z.string(),
  title: z.string(),
  category: z.string(),
  status: z.string(),
  severity: z.string(),
  reports: z.number().int(),
  customers: z.number().int(),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  pendingApprovals: z.number().int(),
  jiraKey: z.string().nullable(),
});
export type TIssueRow = z.infer<typeof ZIssueRow>;

export const ZIssuePage = z.object({
  items: z.array(ZIssueRow),
  /** Pass as `cursor` for the next page; null on the last. */
  next: z.string().nullable(),
  /** Issues that matched the filters (up to the scan limit). */
  total: z.number().int(),
  /** True when more issues matched than were scanned. */
  truncated: z.boolean(),
});
export type TIssuePage = z.infer<typeof ZIssuePage>;

function quote(v: string): string {
  // Values are validated tokens; quoting is still escaped so the query cannot be broken out of.
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function visibilityQuery(q: z.output<typeof ZIssueListQuery>): string {
  const parts = [`WorkflowType = '${ISSUE_WORKFLOW}'`];
  if (!q.closed) parts.push(`ExecutionStatus = 'Running'`);
  if (q.status) parts.push(`${SA.status.name} IN (${q.status.map(quote).join(', ')})`);
  if (q.category) parts.push(`${SA.category.name} IN (${q.category.map(quote).join(', ')})`);
  if (q.severity) {
    const allowed = Object.keys(SEVERITY_RANK).filter((s) => SEVERITY_RANK[s]! >= SEVERITY_RANK[q.severity!]!);
    parts.push(`${SA.severity.name} IN (${allowed.map(quote).join(', ')})`);
  }
  return parts.join(' AND ');
}

export function rowOf(id: string, s: TIssueState): TIssueRow {
  return {
    id,
    title: s.title ?? s.category,
    category: s.category,
    status: s.status,
    severity: s.maxSeverity,
    reports: s.occurrences,
    customers: s.customers,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    pendingApprovals: s.pendingApprovals.length,
    jiraKey: s.jiraKey,
  };
}

const time = (iso: string | null, missing: number) => (iso ? Date.parse(iso) : missing);

export function compareRows(sort: z.output<typeof ZIssueListQuery>['sort']): (a: TIssueRow, b: TIssueRow) => number {
  const bySeverity = (a: TIssueRow, b: TIssueRow) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0);
  const byReports = (a: TIssueRow, b: TIssueRow) => b.reports - a.reports;
  const byAge = (a: TIssueRow, b: TIssueRow) => time(a.firstSeen, Infinity) - time(b.firstSeen, Infinity);
  const byLastSeen = (a: TIssueRow, b: TIssueRow) => time(b.lastSeen, -Infinity) - time(a.lastSeen, -Infinity);
  const order = {
    severity: [bySeverity, byReports, byAge],
    reports: [byReports, bySeverity, byAge],
    last_seen: [byLastSeen, bySeverity, byReports],
    age: [byAge, bySeverity, byReports],
  }[sort];
  return (a, b) => {
    for (const f of order) {
      const d = f(a, b);
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    return a.id.localeCompare(b.id);
  };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

export function parseIssueListQuery(raw: unknown): z.output<typeof ZIssueListQuery> {
  const parsed = ZIssueListQuery.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new LoopwrightError('invalid_input', 'invalid issue filters', {
      details: { fields: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(query)', message: i.message })) },
    });
  }
  return parsed.data;
}

export async function listIssues(client: Client, query: z.output<typeof ZIssueListQuery>, opts: { scanLimit?: number; concurrency?: number } = {}): Promise<TIssuePage> {
  const scanLimit = opts.scanLimit ?? 500;
  const ids: string[] = [];
  let truncated = false;
  for await (const wf of client.workflow.list({ query: visibilityQuery(query), pageSize: 100 })) {
    if (ids.length >= scanLimit) {
      truncated = true;
      break;
    }
    ids.push(wf.workflowId);
  }
  const states = await mapLimited([...new Set(ids)], opts.concurrency ?? 8, async (id) => {
    try {
      return rowOf(id, await client.workflow.getHandle(id).query(stateQuery));
    } catch {
      // A closed run whose worker cannot answer (or a race with continue-as-new): listed as unknown.
      return null;
    }
  });
  // Visibility lags the workflow by a moment: the live state is checked against the filters too.
  const rows = states
    .filter((r): r is TIssueRow => r !== null)
    .filter((r) => (!query.status || query.status.includes(r.status)) && (!query.category || query.category.includes(r.category)) && (query.closed || (r.status !== 'closed' && r.status !== 'merged')))
    .sort(compareRows(query.sort));
  const offset = query.cursor ? Number(query.cursor) : 0;
  const items = rows.slice(offset, offset + query.limit);
  return { items, next: offset + query.limit < rows.length ? String(offset + query.limit) : null, total: rows.length, truncated };
}

/** `issue:billing.1bb6074f9b2f` or just `billing.1bb6074f9b2f`. */
export function issueIdFrom(raw: string): string {
  const id = raw.startsWith('issue:') ? raw : `issue:${raw}`;
  if (!/^issue:[a-z0-9_]+\.[0-9a-f]{12}$/.test(id)) throw new LoopwrightError('invalid_input', `"${raw}" is not an issue id (issue:<category>.<12 hex>)`);
  return id;
}

export interface TIssueDetail {
  id: string;
  state: TIssueState;
  timeline: TTimelineEntry[];
  links: { temporal?: string; jira?: string };
  /** How the issue is likely to end, in words (the numbers are in state.predictedOutcome and /forecast). */
  outlook?: TIssueOutlook;
}

/** The issue console's outlook line: predicted outcome with timeliness risk, and time to resolution. */
export interface TIssueOutlook {
  /** `monetary relief (refund) 45% · relief 70% · untimely risk 8% (outcome@…)`; null without a prediction. */
  outcome: string | null;
  /** describeForecast of the time-to-resolution forecast; null when the audit trail knows nothing of the issue. */
  forecast: string | null;
}

export function issueOutlook(state: Pick<TIssueState, 'predictedOutcome'> | undefined, forecast: TResolutionForecast | null): TIssueOutlook {
  const o = state?.predictedOutcome;
  return { outcome: o ? outcomeInWords(o) : null, forecast: forecast ? describeForecast(forecast) : null };
}

export async function getIssue(client: Client, id: string, links: { temporalUi?: { url: string; namespace: string } } = {}): Promise<TIssueDetail> {
  const handle = client.workflow.getHandle(id);
  let state: TIssueState;
  let timeline: TTimelineEntry[];
  try {
    [state, timeline] = await Promise.all([handle.query(stateQuery), handle.query(timelineQuery)]);
  } catch (e) {
    if ((e as Error).name === 'WorkflowNotFoundError') throw new LoopwrightError('not_found', `no issue ${id}`);
    throw new LoopwrightError('upstream_unavailable', `issue ${id} could not be queried`, { cause: e });
  }
  return {
    id,
    state,
    timeline,
    links: {
      ...(links.temporalUi
        ? { temporal: `${links.temporalUi.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.temporalUi.namespace)}/workflows/${encodeURIComponent(id)}` }
        : {}),
      ...(state.jiraUrl ? { jira: state.jiraUrl } : {}),
    },
  };
}
