// `loopwright status`: what is going on right now. Open issues are the running IssueWorkflows
// (Temporal visibility), each with its live `state` (status, occurrences, pending approvals);
// recent actions and decisions come from the audit store. Read-only: it never signals.
// Must not: print message text (the audit payloads it shows are ids, types and outcomes).
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { openAuditStore, type AuditStore, type TAuditEvent } from '../../activities/audit/index.js';
import { describeForecast, forecastResolution, issueHistories } from '../../activities/outcome/resolution-forecast.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { ISSUE_WORKFLOW, stateQuery, type TIssueState } from '../../workflows/messages.js';
import { connectTemporalFromEnv, type ConnectTemporal } from './approve.js';
import { resolveAuditDbUrl } from './audit.js';
import { existsSync } from 'node:fs';
import { parseAuditUrl } from '../../activities/audit/index.js';
import { groupingUrlFor, openGroupingStore } from '../../activities/grouping/index.js';
import { describeThemes, type TThemeView } from '../../activities/grouping/themes.js';
import { renderThemes } from './themes.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright status [--limit N] [--hours H] [--db URL] [--json]

Open issues (running IssueWorkflows) with their pending approvals, and the most recent actions
and approval decisions from the audit trail.

options:
  --limit N   at most N issues and N recent events (default 20)
  --hours H   recent events from the last H hours (default 24)
  --db URL    audit store (default: $AUDIT_DB_URL, else a postgres $DATABASE_URL, else ./data/audit.sqlite)
  --json      one JSON document instead of tables
environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, LOOPWRIGHT_PAYLOAD_KEYS(_FILE) (default: the local dev server's key file)
`;

const FORECAST_KINDS = ['received', 'classified', 'issue_linked', 'action_succeeded', 'verified', 'reopened', 'closed'] as const;
const RECENT_KINDS = ['action_succeeded', 'action_failed', 'approved', 'rejected', 'approval_timed_out', 'compensated', 'compensation_failed'] as const;

class UsageError extends Error {}

export interface TStatusReport {
  openIssues: Array<{ workflowId: string; state: TIssueState | null; error?: string; forecast?: string }>;
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

export async function collectStatus(client: Client, audit: AuditStore, opts: { limit: number; hours: number; now: number }): Promise<TStatusReport> {
  const openIssues: TStatusReport['openIssues'] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${ISSUE_WORKFLOW}' AND ExecutionStatus = 'Running'` })) {
    if (openIssues.length >= opts.limit) break;
    try {
      openIssues.push({ workflowId: wf.workflowId, state: await client.workflow.getHandle(wf.workflowId).query(stateQuery) });
    } catch (e) {
      openIssues.push({ workflowId: wf.workflowId, state: null, error: (e as Error).message.slice(0, 200) });
    }
  }
  // Time to resolution: similar issues of the last 90 days (activities/outcome/resolution-forecast.ts).
  if (openIssues.length > 0) {
    const history = await audit.search({ kind: [...FORECAST_KINDS], from: new Date(opts.now - 90 * 86_400_000).toISOString(), limit: 100_000 });
    const histories = issueHistories(history);
    for (const i of openIssues) {
      const f = forecastResolution(histories, i.workflowId, opts.now);
      if (f) i.forecast = describeForecast(f);
    }
  }
  const events = await audit.search({ kind: [...RECENT_KINDS], from: new Date(opts.now - opts.hours * 3_600_000).toISOString(), limit: 100_000 });
  const recent = events
    .slice(-opts.limit)
    .reverse()
    .map((e) => ({ at: e.at, workflowId: e.workflowId, kind: e.kind, summary: describeEvent(e) }));
  return { openIssues, recent };
}

/** The themes part of the status, from the grouping store beside the audit store (none when it does not exist yet). */
export async function collectThemes(auditUrl: string, opts: { limit: number; now: number }): Promise<TThemeView[] | undefined> {
  const url = groupingUrlFor(auditUrl);
  const target = parseAuditUrl(url);
  if (target.backend === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) return undefined;
  const store = await openGroupingStore(url);
  try {
    return describeThemes(await store.groups('theme'), await store.members('theme', null), { now: opts.now }).filter((t) => t.open).slice(0, opts.limit);
  } finally {
    await store.close();
  }
}

export function renderStatus(r: TStatusReport): string {
  const lines: string[] = [];
  lines.push(`Open issues (${r.openIssues.length})`);
  if (r.openIssues.length === 0) lines.push('  none');
  for (const i of r.openIssues) {
    if (!i.state) {
      lines.push(`  ${i.workflowId}  (state unavailable: ${i.error ?? 'no answer'})`);
      continue;
    }
    const s = i.state;
    lines.push(`  ${i.workflowId}  ${s.status}  ${s.category}  ${s.occurrences} reports / ${s.customers} customers  max ${s.maxSeverity}${s.jiraKey ? `  ${s.jiraKey}` : ''}`);
    if (s.predictedOutcome) {
      const o = s.predictedOutcome;
      lines.push(`    likely outcome: relief ${Math.round(o.reliefProbability * 100)}% (refund ${Math.round(o.probabilities.monetary_relief * 100)}%), untimely risk ${Math.round(o.timelinessRisk * 100)}% (${o.modelVersion})`);
    }
    if (i.forecast) lines.push(`    time to resolution: ${i.forecast}`);
    for (const p of s.pendingApprovals) {
      lines.push(`    awaiting approval: step ${p.stepId} (${p.actionType}) from ${p.approverGroup}, ${p.approvals.length}/${p.approvalsRequired}, deadline ${p.deadline}`);
    }
  }
  const pending = r.openIssues.reduce((n, i) => n + (i.state?.pendingApprovals.length ?? 0), 0);
  lines.push('', `Pending approvals: ${pending}`, '', `Recent actions and decisions (${r.recent.length})`);
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
      try {
        const parsed = parseArgs({
          args: argv,
          strict: true,
          options: {
            limit: { type: 'string', default: '20' },
            hours: { type: 'string', default: '24' },
            db: { type: 'string' },
            json: { type: 'boolean', default: false },
            help: { type: 'boolean', short: 'h', default: false },
          },
        });
        v = parsed.values;
        if (!v.help && (!/^\d+$/.test(v.limit) || Number(v.limit) < 1)) throw new UsageError(`--limit must be a positive integer, got "${v.limit}"`);
        if (!v.help && !(Number(v.hours) > 0)) throw new UsageError(`--hours must be a positive number, got "${v.hours}"`);
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
          const report: TStatusReport = await collectStatus(session.client, audit, { limit: Number(v.limit), hours: Number(v.hours), now: Date.now() });
          const themes = await collectThemes(resolveAuditDbUrl(v.db, io.env), { limit: Number(v.limit), now: Date.now() });
          if (themes) report.themes = themes;
          io.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
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
