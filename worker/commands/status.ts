// `loopwright status`: what is going on right now. Issues come from worker/issues.ts (visibility +
// each issue's live `state`), as a table sorted by severity, reports and age, with their human
// titles, filtered by status, category and severity; pending approvals are listed under it; recent
// actions and decisions come from the audit store. Read-only: it never signals.
// Must not: print message text beyond the issue's masked title excerpt.
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { openAuditStore, type AuditStore, type TAuditEvent } from '../../activities/audit/index.js';
import { forecastResolution, issueHistories } from '../../activities/outcome/resolution-forecast.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import type { z } from 'zod';
import { stateQuery, type TIssueState, type TPendingApproval } from '../../workflows/messages.js';
import { issueOutlook, listIssues, parseIssueListQuery, type TIssuePage, type ZIssueListQuery } from '../issues.js';
import { connectTemporalFromEnv, type ConnectTemporal } from './approve.js';
import { resolveAuditDbUrl } from './audit.js';
import { existsSync } from 'node:fs';
import { parseAuditUrl } from '../../activities/audit/index.js';
import { groupingUrlFor, openGroupingStore } from '../../activities/grouping/index.js';
import type { TThemeView } from '../../activities/grouping/themes.js';
import { listThemes } from '../../activities/grouping/theme-list.js';
import { renderThemes } from './themes.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright status [--status S[,S]] [--category C[,C]] [--severity MIN] [--closed]
                         [--sort severity|reports|last_seen|age] [--limit N] [--hours H] [--db URL] [--json]

Issues with their titles, sorted by severity, then reports, then age (oldest first); the pending
approvals; and the most recent actions and approval decisions from the audit trail.

options:
  --status S       only these statuses (watching, investigating, awaiting_approval, remediating,
                   verifying, resolved, reopened, snoozed, closed)
  --category C     only these categories
  --severity MIN   at least this severity (low, medium, high, critical)
  --closed         include closed issues (default: open ones)
  --sort KEY       severity (default), reports, last_seen or age
  --limit N        at most N issues and N recent events (default 20)
  --hours H        recent events from the last H hours (default 24)
  --db URL         audit store (default: $AUDIT_DB_URL, else a postgres $DATABASE_URL, else ./data/audit.sqlite)
  --json           one JSON document instead of tables
environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, LOOPWRIGHT_PAYLOAD_KEYS(_FILE) (default: the local dev server's key file)
`;

const FORECAST_KINDS = ['received', 'classified', 'issue_linked', 'action_succeeded', 'verified', 'reopened', 'closed'] as const;
const RECENT_KINDS = ['action_succeeded', 'action_failed', 'approved', 'rejected', 'approval_timed_out', 'compensated', 'compensation_failed'] as const;

class UsageError extends Error {}

export interface TStatusReport {
  issues: TIssuePage;
  pending: Array<{ id: string; title: string; approval: TPendingApproval }>;
  /** Per listed issue: its predicted outcome and time-to-resolution forecast, when known. */
  outlook: Array<{ id: string; outcome?: string; forecast?: string }>;
  recent: Array<{ at: string; workflowId: string; kind: string; summary: string }>;
  /** Emerging themes (needs_review clustered by meaning), largest first; absent without a grouping store. */
  themes?: TThemeView[];
}

function describeEvent(e: TAuditEvent): string {
  switch (e.kind) {
    case 'action_succeeded':
      return `${e.payload.actionType}${e.payload.stepId ? ` (${e.payload.stepId})` : ''}${e.payload.dryRun ? ' [dry run]' : ''}${e.payload.externalRef ? ` → ${e.payload.externalRef}` : ''}`;
    case 'action_failed':
      return `${e.payload.actionType}${e.payload.stepId ? ` (${e.payload.stepId})` : ''}: ${e.payload.error.code ?? 'failed'}`;
    case 'approved':
      return `${e.payload.stepId} approved by ${e.payload.approverName} (${e.payload.approverId})`;
    case 'rejected':
      return `${e.payload.stepId} rejected by ${e.payload.approverName} (${e.payload.approverId})`;
    case 'approval_timed_out':
      return `${e.payload.stepId} timed out${e.payload.escalateTo ? `, escalated to ${e.payload.escalateTo}` : ''}`;
    case 'compensated':
    case 'compensation_failed':
      return `${e.payload.actionType} compensated${e.kind === 'compensation_failed' ? ' FAILED' : ''}`;
    default:
      return e.kind;
  }
}

export async function collectStatus(
  client: Client,
  audit: AuditStore,
  opts: { query: z.output<typeof ZIssueListQuery>; hours: number; now: number },
): Promise<TStatusReport> {
  const issues = await listIssues(client, opts.query);
  const pending: TStatusReport['pending'] = [];
  const outlook: TStatusReport['outlook'] = [];
  // Time to resolution: similar issues of the last 90 days (activities/outcome/resolution-forecast.ts).
  const histories =
    issues.items.length > 0 ? issueHistories(await audit.search({ kind: [...FORECAST_KINDS], from: new Date(opts.now - 90 * 86_400_000).toISOString(), limit: 100_000 })) : null;
  for (const row of issues.items) {
    let s: TIssueState | undefined;
    try {
      s = await client.workflow.getHandle(row.id).query(stateQuery);
    } catch {
      // Answered a moment ago; a run that just ended has nothing pending.
    }
    for (const approval of s?.pendingApprovals ?? []) pending.push({ id: row.id, title: row.title, approval });
    const o = issueOutlook(s, histories ? forecastResolution(histories, row.id, opts.now) : null);
    if (o.outcome || o.forecast) outlook.push({ id: row.id, ...(o.outcome ? { outcome: o.outcome } : {}), ...(o.forecast ? { forecast: o.forecast } : {}) });
  }
  const events = await audit.search({ kind: [...RECENT_KINDS], from: new Date(opts.now - opts.hours * 3_600_000).toISOString(), limit: 100_000 });
  const recent = events
    .slice(-opts.query.limit)
    .reverse()
    .map((e) => ({ at: e.at, workflowId: e.workflowId, kind: e.kind, summary: describeEvent(e) }));
  return { issues, pending, outlook, recent };
}

/** The themes part of the status, from the grouping store beside the audit store (none when it does not exist yet). */
export async function collectThemes(auditUrl: string, opts: { limit: number; now: number }): Promise<TThemeView[] | undefined> {
  const url = groupingUrlFor(auditUrl);
  const target = parseAuditUrl(url);
  if (target.backend === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) return undefined;
  const store = await openGroupingStore(url);
  try {
    return (await listThemes(store, { now: opts.now })).filter((t) => t.open).slice(0, opts.limit);
  } finally {
    await store.close();
  }
}


/** `45s`, `12m`, `3h`, `13d`. */
export function ageInWords(fromIso: string | null, now: number): string {
  if (!fromIso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3_600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** `in 3h (2026-11-29 22:30 UTC)`, or `passed 5m ago (…)`: a deadline a person reads at a glance. */
export function deadlineInWords(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const at = new Date(t).toISOString().replace('T', ' ').replace(/:\d{2}\.\d{3}Z$/, ' UTC');
  return t >= now ? `in ${ageInWords(new Date(now).toISOString(), t)} (${at})` : `passed ${ageInWords(iso, now)} ago (${at})`;
}

/** A plain-text table: columns padded to their widest cell, numbers right-aligned, the last column free. */
export function table(header: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function renderStatus(r: TStatusReport, now: number = Date.now(), sort = 'severity'): string {
  const lines: string[] = [];
  const shown = r.issues.items.length;
  lines.push(`Issues: ${shown} of ${r.issues.total}${r.issues.truncated ? '+' : ''}, by ${sort.replace('_', ' ')}${r.issues.next ? ` (more: --limit ${r.issues.total})` : ''}`);
  if (shown === 0) lines.push('  none');
  else {
    const title = (t: string) => (t.length > 70 ? `${t.slice(0, 69)}…` : t);
    const rows = r.issues.items.map((i) => [
      i.severity,
      i.status,
      String(i.reports),
      String(i.customers),
      ageInWords(i.firstSeen, now),
      ageInWords(i.lastSeen, now),
      i.pendingApprovals > 0 ? String(i.pendingApprovals) : '',
      i.jiraKey ?? '',
      i.id,
      title(i.title),
    ]);
    lines.push(...table(['SEVERITY', 'STATUS', 'REPORTS', 'CUSTOMERS', 'AGE', 'LAST', 'PENDING', 'JIRA', 'ID', 'TITLE'], rows, new Set([2, 3, 4, 5, 6])).map((l) => `  ${l}`));
  }
  if (r.outlook.length > 0) {
    lines.push('', 'Outlook');
    for (const o of r.outlook) {
      if (o.outcome) lines.push(`  ${o.id}  likely outcome: ${o.outcome}`);
      if (o.forecast) lines.push(`  ${o.id}  time to resolution: ${o.forecast}`);
    }
  }
  lines.push('', `Pending approvals: ${r.pending.length}`);
  for (const p of r.pending) {
    const a = p.approval;
    lines.push(`  ${p.id}  step ${a.stepId} (${a.actionType}) asks ${a.approverGroup}: ${a.approvals.length} of ${a.approvalsRequired} approvals, deadline ${deadlineInWords(a.deadline, now)}`);
  }
  lines.push('', `Recent actions and decisions (${r.recent.length})`);
  if (r.recent.length === 0) lines.push('  none');
  for (const e of r.recent) lines.push(`  ${e.at}  ${e.kind.padEnd(18)} ${e.workflowId}  ${e.summary}`);
  return `${lines.join('\n')}\n${r.themes ? `\n${renderThemes(r.themes)}` : ''}`;
}

export function createStatusCommand(connect: ConnectTemporal = connectTemporalFromEnv, openAudit: (url: string) => Promise<AuditStore> = (url) => openAuditStore(url)): CliCommand {
  return {
    name: 'status',
    summary: 'open issues, pending approvals and recent actions',
    async run(argv: string[], io: CliIo) {
      let v;
      let query: z.output<typeof ZIssueListQuery> | undefined;
      try {
        const parsed = parseArgs({
          args: argv,
          strict: true,
          options: {
            limit: { type: 'string', default: '20' },
            hours: { type: 'string', default: '24' },
            status: { type: 'string' },
            category: { type: 'string' },
            severity: { type: 'string' },
            closed: { type: 'boolean', default: false },
            sort: { type: 'string', default: 'severity' },
            db: { type: 'string' },
            json: { type: 'boolean', default: false },
            help: { type: 'boolean', short: 'h', default: false },
          },
        });
        v = parsed.values;
        if (!v.help && (!/^\d+$/.test(v.limit) || Number(v.limit) < 1)) throw new UsageError(`--limit must be a positive integer, got "${v.limit}"`);
        if (!v.help && !(Number(v.hours) > 0)) throw new UsageError(`--hours must be a positive number, got "${v.hours}"`);
        if (!v.help) {
          try {
            query = parseIssueListQuery({
              limit: v.limit,
              sort: v.sort,
              closed: String(v.closed),
              ...(v.status ? { status: v.status } : {}),
              ...(v.category ? { category: v.category } : {}),
              ...(v.severity ? { severity: v.severity } : {}),
            });
          } catch (e) {
            const fields = isLoopwrightError(e) ? (e.details['fields'] as Array<{ path: string; message: string }> | undefined) : undefined;
            throw new UsageError(fields?.map((f) => `--${f.path}: ${f.message}`).join('; ') ?? (e as Error).message);
          }
        }
      } catch (e) {
        io.stderr.write(`loopwright status: ${(e as Error).message}\n\n${USAGE}`);
        return 2;
      }
      if (v.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      let audit: AuditStore;
      try {
        audit = await openAudit(resolveAuditDbUrl(v.db, io.env));
      } catch (e) {
        io.stderr.write(`loopwright status: ${isLoopwrightError(e) ? e.message : 'cannot open the audit store'}\n`);
        return 1;
      }
      try {
        const session = await connect(io.env);
        try {
          const now = Date.now();
          const report: TStatusReport = await collectStatus(session.client, audit, { query: query!, hours: Number(v.hours), now });
          const themes = await collectThemes(resolveAuditDbUrl(v.db, io.env), { limit: Number(v.limit), now });
          if (themes) report.themes = themes;
          io.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, now, query!.sort));
          return 0;
        } finally {
          await session.close();
        }
      } catch (e) {
        if (!isLoopwrightError(e) && !(e instanceof Error)) throw e;
        io.stderr.write(`loopwright status: ${e instanceof LoopwrightError ? e.message : `Temporal query failed: ${e.message}`}\n`);
        return 1;
      } finally {
        await audit.close();
      }
    },
  };
}

export const command: CliCommand = createStatusCommand();
