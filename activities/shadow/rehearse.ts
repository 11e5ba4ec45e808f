// Playbook rehearsal: what a playbook would do on one live issue if its round started now (steps,
// rendered texts, the policy verdict of each step, who would be asked), without running anything.
// The issue is rebuilt from the audit store alone (its linked messages' received and classified
// events, folded by the workflow's own absorbOccurrences; its reclassification, latest root-cause
// hypotheses and replied tickets from its own trail), so a rehearsal needs no Temporal connection and
// cannot disturb the running workflow. The round is planned by round-plan.ts, as in shadow replays;
// the rate-limit input counts the actions the store recorded, as the countRecentActions activity does.
// Must not: write to the store (it is read through readOnlyAudit), signal, or call an integration.
import { selectPlaybook, type TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { affectedCustomerCount, createTriggerCursor, detectTrigger, highestSeverity } from '../../workflows/domain/issue-stats.js';
import { occurrenceOutcome } from '../../workflows/domain/outcome.js';
import { NEEDS_REVIEW } from '../../workflows/domain/triage.js';
import { absorbOccurrences, initialIssueState, type TCarriedIssueState } from '../../workflows/issue/state.js';
import { issueWorkflowId, type TOccurrence } from '../../workflows/messages.js';
import type { AuditStore, TAuditEvent } from '../audit/index.js';
import { FINGERPRINT_VERSION } from '../triage/fingerprint.js';
import { ticketOf } from '../routing.js';
import { planRound, type TRoundPlan } from './round-plan.js';
import { readOnlyAudit } from './sources.js';
import { countOf } from '../../workflows/domain/plural.js';

const PAGE = 50_000;

export interface TIssueSnapshot {
  issueWorkflowId: string;
  fingerprint: string;
  state: TCarriedIssueState;
  hypothesis?: string;
  /** The issue's latest round: its playbook and what its steps that already ran returned (`steps.<id>.<field>`). */
  round?: { playbookVersion: string; outputs: Record<string, string> };
}

export interface TRehearsal {
  issue: {
    workflowId: string;
    category: string;
    severity: string;
    occurrences: number;
    customers: number;
    tickets: number;
    firstSeen: string | null;
    lastSeen: string | null;
  };
  playbook: string;
  policy: string;
  /** Whether the loop would pick this playbook for the issue, and why (or why not). */
  selection: { selected: boolean; reason: string };
  /** Whether the playbook's trigger would fire on the reports so far. */
  trigger: { fired: boolean; reason: string };
  round: TRoundPlan;
  /** Always true: a rehearsal runs nothing, sends nothing and records nothing. */
  sideEffects: 'none';
}

/** `issue:<fingerprint>` for a bare fingerprint key, the id itself otherwise. */
export function normalizeIssueId(ref: string): string {
  return ref.startsWith('issue:') ? ref : issueWorkflowId(ref);
}

async function linkedMessages(audit: AuditStore, issueId: string): Promise<string[]> {
  const out = new Set<string>();
  let afterSeq = 0;
  for (;;) {
    const page = await audit.search({ kind: 'issue_linked', afterSeq, limit: PAGE });
    for (const e of page) if (e.kind === 'issue_linked' && e.payload.issueWorkflowId === issueId) out.add(e.workflowId);
    if (page.length < PAGE) return [...out];
    afterSeq = page[page.length - 1]!.seq;
  }
}

function occurrenceOf(trail: TAuditEvent[], category: string): TOccurrence | null {
  const received = trail.find((e) => e.kind === 'received');
  const classified = trail.find((e) => e.kind === 'classified');
  if (!received || received.kind !== 'received' || !classified || classified.kind !== 'classified') return null;
  const p = received.payload;
  const ticketId = ticketOf({ source: p.source, externalId: p.externalId });
  const level = classified.payload.severity?.level;
  return {
    feedbackId: `${p.source}:${p.externalId}`,
    ...(ticketId ? { ticketId } : {}),
    source: p.source,
    ...(p.customerRef ? { customerId: p.customerRef } : {}),
    tier: (['free', 'standard', 'premium', 'enterprise'].includes(p.customerTier ?? '') ? p.customerTier : 'unknown') as TOccurrence['tier'],
    ...(p.customerValue !== undefined ? { lifetimeValue: p.customerValue } : {}),
    severity: (['low', 'medium', 'high', 'critical'].includes(level ?? '') ? level : 'low') as TOccurrence['severity'],
    confidence: classified.payload.confidence,
    category,
    at: p.receivedAt ?? received.at,
    evidence: [],
    excerpt: (p.maskedText ?? '').slice(0, 500),
    // What routing carries to the workflow: the policy's outcome conditions judge the issue's mean.
    ...(classified.payload.outcome ? { outcome: occurrenceOutcome(classified.payload.outcome) } : {}),
  };
}

/** The issue as its workflow holds it, rebuilt from the audit store; null when the store knows no message of it. */
export async function loadIssueSnapshot(store: AuditStore, ref: string): Promise<TIssueSnapshot | null> {
  const audit = readOnlyAudit(store);
  const id = normalizeIssueId(ref);
  const key = id.slice('issue:'.length);
  const category = key.split('.')[0] ?? NEEDS_REVIEW;
  const feedbackIds = await linkedMessages(audit, id);
  if (feedbackIds.length === 0) return null;
  const state = initialIssueState({ key, category, features: [], version: FINGERPRINT_VERSION });
  const occurrences: TOccurrence[] = [];
  for (const fid of feedbackIds) {
    const occ = occurrenceOf(await audit.trail(fid), category);
    if (occ) occurrences.push(occ);
  }
  occurrences.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  absorbOccurrences(state, occurrences);
  let hypothesis: string | undefined;
  let round: TIssueSnapshot['round'];
  for (const e of await audit.trail(id)) {
    if (e.kind === 'playbook_selected') round = { playbookVersion: e.payload.playbookVersion, outputs: {} };
    if (e.kind === 'action_succeeded' && round && e.payload.stepId && !e.payload.dryRun) {
      for (const [field, value] of Object.entries(e.payload.result ?? {})) if (typeof value === 'string') round.outputs[`steps.${e.payload.stepId}.${field}`] = value;
    }
    if (e.kind === 'reclassified') state.category = e.payload.to;
    if (e.kind === 'customer_replied' && !e.payload.dryRun) state.repliedTickets.push(...e.payload.ticketRefs);
    if (e.kind === 'hypotheses') {
      const top = e.payload.items[0];
      hypothesis = top ? `${top.summary.replace(/^[a-z_]+: /, '')} (score ${top.score.toFixed(2)})` : undefined;
    }
  }
  return { issueWorkflowId: id, fingerprint: key, state, ...(hypothesis ? { hypothesis } : {}), ...(round ? { round } : {}) };
}

/** How many times each action type succeeded (live, not dry run) in its rate-limit window before `now`. */
async function recentActionCounts(audit: AuditStore, policy: TLoadedPolicy | null, types: string[], now: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const type of new Set(types)) {
    const auto = policy?.policy.actions[type]?.auto;
    if (!auto) continue;
    const from = new Date(now - auto.rateLimit.perMinutes * 60_000).toISOString();
    const events = await audit.search({ kind: 'action_succeeded', from, limit: 10_000 });
    out.set(type, events.filter((e) => e.kind === 'action_succeeded' && e.payload.actionType === type && !e.payload.dryRun).length);
  }
  return out;
}

export async function rehearsePlaybook(store: AuditStore, snapshot: TIssueSnapshot, playbook: TLoadedPlaybook, policy: TLoadedPolicy | null, now: number = Date.now()): Promise<TRehearsal> {
  const audit = readOnlyAudit(store);
  const s = snapshot.state;
  const severity = highestSeverity(s.stats) ?? 'low';
  const chosen = selectPlaybook([playbook], { category: s.category, severity });
  const selection = chosen
    ? { selected: true, reason: chosen.reason }
    : { selected: false, reason: `${playbook.version} does not match this issue (category ${s.category}, severity ${severity}); rehearsed anyway` };
  const trigger = detectTrigger(s.stats, playbook.playbook.trigger, createTriggerCursor());
  const types = [...playbook.playbook.steps.map((x) => x.action.type), 'zendesk.public_reply'];
  const counts = await recentActionCounts(audit, policy, types, now);
  const round = planRound({
    issueWorkflowId: snapshot.issueWorkflowId,
    fingerprint: snapshot.fingerprint,
    state: s,
    playbook,
    policy,
    at: now,
    trigger: trigger.reason,
    ...(snapshot.hypothesis ? { hypothesis: snapshot.hypothesis } : {}),
    recentActions: (type) => counts.get(type) ?? 0,
    // Rehearsing the playbook of the round in progress: later steps quote what earlier ones returned.
    ...(snapshot.round?.playbookVersion === playbook.version ? { outputs: snapshot.round.outputs } : {}),
  });
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    issue: {
      workflowId: snapshot.issueWorkflowId,
      category: s.category,
      severity,
      occurrences: s.stats.total,
      customers: affectedCustomerCount(s.stats),
      tickets: s.tickets.length,
      firstSeen: iso(s.stats.firstSeen),
      lastSeen: iso(s.stats.lastSeen),
    },
    playbook: playbook.version,
    policy: policy?.version ?? 'none (every step denied)',
    selection,
    trigger: { fired: trigger.fired, reason: trigger.reason },
    round,
    sideEffects: 'none',
  };
}

const OUTLOOK: Record<string, string> = {
  would_run: 'would run automatically',
  would_ask: 'would ask for approval',
  would_not_run: 'would not run',
  render_failed: 'would fail to render (the round would stop and compensate here)',
};

/** Plain text for the terminal. */
export function formatRehearsal(r: TRehearsal): string {
  const i = r.issue;
  const lines = [
    `rehearsal of ${r.playbook} on ${i.workflowId}`,
    `  issue: ${i.category}, ${i.severity}, ${countOf(i.occurrences, 'report')} from ${countOf(i.customers, 'customer')}, ${countOf(i.tickets, 'ticket')} waiting; first ${i.firstSeen ?? '?'}, last ${i.lastSeen ?? '?'}`,
    `  policy: ${r.policy}`,
    `  selection: ${r.selection.reason}`,
    `  trigger on the reports so far: ${r.trigger.fired ? 'would fire' : 'would not fire'} (${r.trigger.reason})`,
    '',
  ];
  r.round.steps.forEach((s, n) => {
    lines.push(`${n + 1}. ${s.stepId} (${s.actionType}${s.customerFacing ? ', customer-facing' : ''}): ${OUTLOOK[s.outlook]} [${s.verdict}]`);
    if (s.tickets || s.actionType.startsWith('zendesk.')) lines.push(`   tickets: ${s.tickets}${s.tickets === 0 ? ' (none yet: the loop skips the step until a ticket joins the issue)' : ''}`);
    lines.push(`   why: ${s.reasons.join('; ')}`);
    if (s.approval) {
      const a = s.approval;
      lines.push(`   who would be asked: ${a.group} in ${a.channel ?? '(no channel)'}: ${a.members.join(', ')}; ${a.approvalsRequired} approval(s) within ${a.timeoutMinutes} min${a.escalation.length ? `, then ${a.escalation.map((x) => `${x.group} (${x.channel ?? '?'})`).join(', then ')}` : ', then rejected'}`);
    }
    for (const [field, text] of Object.entries(s.rendered)) lines.push(`   ${field}: ${text.trimEnd().replace(/\n/g, '\n     ')}`);
  });
  lines.push('', 'Nothing was run, sent or recorded.');
  return `${lines.join('\n')}\n`;
}
