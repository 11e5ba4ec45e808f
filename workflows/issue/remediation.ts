// One remediation round of an IssueWorkflow: rank hypotheses, then for each playbook step render
// its templates, ask the policy, ask humans when needed, run the action, and on a permanent
// failure compensate the completed steps in reverse. Compensation failures are audited and
// escalated, never swallowed. Customer replies go through the same policy gate as any step.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { evaluatePolicy, rateLimitWindowMs } from '../../policies/evaluate.js';
import { ACTION_OUTPUTS, deriveCompensation, renderTemplate, TOUCHES_TICKETS, type TCompensation, type TPlaybookAction } from '../../playbooks/actions.js';
import type { TLoadedPlaybook, TPlaybookStep } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import type { TVerdict } from '../../policies/schema.js';
import { affectedCustomerCount, highestSeverity } from '../domain/issue-stats.js';
import { NEEDS_REVIEW } from '../domain/triage.js';
import type { TActionResult, TRootCauseResult } from '../activity-types.js';
import type { TStepOutcome } from '../messages.js';
import { actions, countRecentActions, rankRootCause } from './activities.js';
import type { ApprovalDesk } from './approval.js';
import { SYSTEM_ACTOR, type Journal } from './journal.js';
import { meanConfidence, recordStep, type TCarriedIssueState } from './state.js';

export interface TRoundContext {
  workflowId: string;
  fingerprint: string;
  loaded: TLoadedPlaybook;
  policy: TLoadedPolicy | null;
  state: TCarriedIssueState;
  journal: Journal;
  desk: ApprovalDesk;
  round: number;
  flush: () => Promise<void>;
  /** Publishes the status (search attribute, details) while a step waits for humans. */
  setStatus: (status: 'awaiting_approval' | 'remediating') => void;
}

interface TCompleted {
  step: TPlaybookStep;
  key: string;
  result: TActionResult;
}

type TStepResult = { kind: 'done'; result?: TActionResult } | { kind: 'failed'; error: string };

function errorInfo(e: unknown): { code?: string; message: string; retryable?: boolean } {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? undefined, message: cause.message.slice(0, 1_900), retryable: !cause.nonRetryable };
  return { message: (e instanceof Error ? e.message : String(e)).slice(0, 1_900) };
}

function issueValues(ctx: TRoundContext): Record<string, string | number> {
  const s = ctx.state;
  const iso = (t: number | null) => (t === null ? 'unknown' : new Date(t).toISOString());
  const top = s.hypotheses[0];
  return {
    'issue.workflowId': ctx.workflowId,
    'issue.fingerprint': ctx.fingerprint,
    'issue.category': s.category,
    'issue.severity': highestSeverity(s.stats) ?? 'low',
    'issue.occurrences': s.stats.total,
    'issue.customers': affectedCustomerCount(s.stats),
    'issue.firstSeen': iso(s.stats.firstSeen),
    'issue.lastSeen': iso(s.stats.lastSeen),
    'issue.hypothesis': top ? `${top.title} (score ${top.score.toFixed(2)})` : 'insufficient evidence',
    'playbook.id': ctx.loaded.playbook.id,
    'playbook.version': ctx.loaded.playbook.version,
  };
}

/** Renders every template field of an action (or compensation); throws LoopwrightError on a missing value. */
function render<T extends TPlaybookAction | TCompensation>(action: T, values: Record<string, string | number>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(action)) out[k] = typeof v === 'string' && k !== 'type' ? renderTemplate(v, values) : v;
  return out as T;
}

function actionKey(ctx: TRoundContext, stepId: string, type: string): string {
  // One recurring problem is one Jira ticket: its key never carries the round.
  return ctx.round === 1 || type === 'jira.create_issue' ? `${ctx.workflowId}/${stepId}` : `${ctx.workflowId}/${stepId}#r${ctx.round}`;
}

async function policyVerdict(ctx: TRoundContext, stepId: string, action: TPlaybookAction, tickets: string[]): Promise<TVerdict> {
  const s = ctx.state;
  const windowMs = ctx.policy ? rateLimitWindowMs(ctx.policy.policy, action.type) : null;
  const recentActionCount = windowMs === null ? 0 : await countRecentActions({ actionType: action.type, windowMs });
  const touches = TOUCHES_TICKETS[action.type];
  const verdict = evaluatePolicy(ctx.policy?.policy, {
    actionType: action.type,
    category: s.category,
    confidence: Math.min(1, Math.max(0, meanConfidence(s))),
    severity: highestSeverity(s.stats) ?? 'low',
    customerTiers: s.tiers,
    blastRadius: { tickets: touches ? tickets.length : 0, customers: touches ? Math.min(tickets.length, affectedCustomerCount(s.stats)) : 0 },
    recentActionCount,
    needsReview: s.category === NEEDS_REVIEW,
  });
  ctx.journal.record(
    {
      kind: 'policy_verdict',
      actor: SYSTEM_ACTOR,
      payload: {
        actionType: action.type,
        stepId,
        verdict: verdict.kind,
        reasons: verdict.reasons,
        policyVersion: verdict.policyVersion,
        ...(verdict.risk ? { riskLevel: verdict.risk } : {}),
        ...(verdict.approverGroup ? { approverGroups: [verdict.approverGroup, ...verdict.escalationChain] } : {}),
        dryRun: verdict.dryRun,
      },
    },
    `policy ${verdict.policyVersion}: ${verdict.dryRun ? 'would ' : ''}${verdict.kind} ${stepId} (${action.type}): ${verdict.reasons.join(', ')}`,
  );
  return verdict;
}

/** Policy → (approval) → action for one step. Skips are done, not failures. */
async function runStep(ctx: TRoundContext, step: TPlaybookStep, outputs: Record<string, string | number>, completed: TCompleted[]): Promise<TStepResult> {
  const s = ctx.state;
  const type = step.action.type;
  const key = actionKey(ctx, step.id, type);
  const note = (outcome: TStepOutcome['outcome'], verdict: TStepOutcome['verdict'], detail?: string, externalRef?: string) => {
    recordStep(s, { stepId: step.id, actionType: type, verdict, outcome, ...(detail ? { detail } : {}), ...(externalRef ? { externalRef } : {}) });
    // Later steps may quote this one's outputs; a step that did not run says so instead of breaking them.
    if (outcome !== 'succeeded') for (const field of ACTION_OUTPUTS[type]) outputs[`steps.${step.id}.${field}`] ??= `(not run: ${outcome})`;
  };

  let action: TPlaybookAction;
  try {
    action = render(step.action, { ...issueValues(ctx), ...outputs });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    ctx.journal.record({ kind: 'action_failed', actor: SYSTEM_ACTOR, payload: { actionType: type, stepId: step.id, idempotencyKey: key, error: { code: 'invalid_input', message, retryable: false } } }, `cannot render ${step.id}: ${message}`);
    note('failed', 'deny', message);
    return { kind: 'failed', error: message };
  }
  const tickets = TOUCHES_TICKETS[type] ? s.tickets.slice() : [];
  if (TOUCHES_TICKETS[type] && tickets.length === 0) {
    ctx.journal.note('step_skipped', `${step.id}: no customer tickets to act on`);
    note('skipped', 'allow', 'no tickets');
    return { kind: 'done' };
  }

  const verdict = await policyVerdict(ctx, step.id, action, tickets);
  if (verdict.dryRun) {
    note('dry_run', verdict.kind, `would ${verdict.kind}`);
    return { kind: 'done' };
  }
  if (verdict.kind === 'deny') {
    note('skipped', 'deny', verdict.reasons.join(', '));
    return { kind: 'done' };
  }
  if (verdict.kind === 'needs_approval') {
    ctx.setStatus('awaiting_approval');
    const { outcome } = await ctx.desk.obtain(
      ctx.workflowId,
      step.id,
      verdict,
      action,
      {
        issue: { category: s.category, severity: highestSeverity(s.stats) ?? 'low', occurrences: s.stats.total, customers: affectedCustomerCount(s.stats), excerpt: s.excerpt },
        evidence: s.evidence,
        hypotheses: s.hypotheses,
      },
      ctx.flush,
    );
    ctx.setStatus('remediating');
    if (outcome !== 'approved') {
      note(outcome, 'needs_approval');
      return { kind: 'done' };
    }
  }

  ctx.journal.record({ kind: 'action_started', actor: SYSTEM_ACTOR, payload: { actionType: type, stepId: step.id, idempotencyKey: key } }, `running ${step.id} (${type})`);
  await ctx.flush();
  try {
    const first = !s.steps.some((x) => x.outcome === 'succeeded') && s.stats.firstSeen !== null;
    const result = await actions.runAction({
      workflowId: ctx.workflowId,
      stepId: step.id,
      idempotencyKey: key,
      action,
      tickets,
      dryRun: false,
      ...(first ? { issueFirstSeen: s.stats.firstSeen as number } : {}),
    });
    ctx.journal.record(
      {
        kind: 'action_succeeded',
        actor: SYSTEM_ACTOR,
        payload: {
          actionType: type,
          stepId: step.id,
          idempotencyKey: key,
          dryRun: result.dryRun,
          ...(result.externalRef ? { externalRef: result.externalRef } : {}),
          result: { ...result.outputs, created: result.created },
        },
      },
      result.dryRun
        ? `${step.id} recorded as a dry run: the integration is not configured`
        : `${step.id} done${result.externalRef ? `: ${result.externalRef}` : ''}${result.created ? '' : ' (already existed)'}`,
    );
    for (const [field, value] of Object.entries(result.outputs)) outputs[`steps.${step.id}.${field}`] = value;
    if (result.dryRun) {
      note('dry_run', verdict.kind, 'integration not configured');
      return { kind: 'done', result };
    }
    if (type === 'jira.create_issue' && result.outputs.issueKey) s.jiraKey = result.outputs.issueKey;
    completed.push({ step, key, result });
    note('succeeded', verdict.kind, undefined, result.externalRef);
    return { kind: 'done', result };
  } catch (e) {
    const error = errorInfo(e);
    ctx.journal.record({ kind: 'action_failed', actor: SYSTEM_ACTOR, payload: { actionType: type, stepId: step.id, idempotencyKey: key, error } }, `${step.id} failed: ${error.message}`);
    note('failed', verdict.kind, error.message);
    return { kind: 'failed', error: error.message };
  }
}

/** Escalation channel for a failure the automation cannot fix: the action's last escalation group. */
function escalationChannel(ctx: TRoundContext, actionType: string): string | null {
  const p = ctx.policy?.policy;
  if (!p) return null;
  const rule = p.actions[actionType];
  const group = rule ? (rule.escalation.at(-1) ?? rule.approverGroup) : null;
  const first = Object.values(p.approverGroups)[0];
  return (group ? p.approverGroups[group]?.channel : undefined) ?? first?.channel ?? null;
}

export async function escalateToHumans(ctx: TRoundContext, actionType: string, keySuffix: string, text: string): Promise<void> {
  const channel = escalationChannel(ctx, actionType);
  if (!channel) {
    ctx.journal.note('escalation_impossible', `no escalation channel for ${actionType}: ${text}`);
    return;
  }
  try {
    await actions.escalate({ workflowId: ctx.workflowId, idempotencyKey: `${ctx.workflowId}/escalate/${keySuffix}`, channel, text });
    ctx.journal.record({ kind: 'escalated', actor: SYSTEM_ACTOR, payload: { target: channel, reason: text.slice(0, 1_900) } }, `escalated to ${channel}: ${text}`);
  } catch (e) {
    const error = errorInfo(e);
    ctx.journal.record(
      { kind: 'action_failed', actor: SYSTEM_ACTOR, payload: { actionType: 'slack.post_message', idempotencyKey: `${ctx.workflowId}/escalate/${keySuffix}`, error } },
      `escalation to ${channel} failed: ${error.message}`,
    );
  }
}

async function compensate(ctx: TRoundContext, completed: TCompleted[]): Promise<void> {
  for (const done of [...completed].reverse()) {
    const comp = deriveCompensation(done.step.action);
    if (!comp) continue;
    const key = `${done.key}/compensate`;
    const values: Record<string, string | number> = {};
    for (const [f, v] of Object.entries(done.result.outputs)) values[`result.${f}`] = v;
    try {
      const rendered = render(comp, values);
      await actions.compensateAction({ workflowId: ctx.workflowId, stepId: done.step.id, idempotencyKey: key, compensates: done.key, compensation: rendered, tickets: ctx.state.tickets.slice(), dryRun: false });
      ctx.journal.record({ kind: 'compensated', actor: SYSTEM_ACTOR, payload: { actionType: comp.type, stepId: done.step.id, idempotencyKey: key, compensates: done.key } }, `compensated ${done.step.id} with ${comp.type}`);
      recordStep(ctx.state, { stepId: done.step.id, actionType: done.step.action.type, verdict: 'allow', outcome: 'compensated' });
    } catch (e) {
      const error = errorInfo(e);
      ctx.journal.record(
        { kind: 'compensation_failed', actor: SYSTEM_ACTOR, payload: { actionType: comp.type, stepId: done.step.id, idempotencyKey: key, compensates: done.key, error } },
        `compensation of ${done.step.id} failed: ${error.message}`,
      );
      await escalateToHumans(ctx, done.step.action.type, `${done.step.id}-compensation-r${ctx.round}`, `Compensation of ${done.step.id} (${comp.type}) failed for ${ctx.workflowId}: ${error.message}. Manual clean-up needed.`);
    }
  }
}

/** Runs every step of the playbook; returns false when the round failed and was compensated. */
export async function runPlaybookSteps(ctx: TRoundContext): Promise<boolean> {
  const outputs: Record<string, string | number> = {};
  const completed: TCompleted[] = [];
  for (const step of ctx.loaded.playbook.steps) {
    const r = await runStep(ctx, step, outputs, completed);
    if (r.kind === 'failed') {
      await ctx.flush();
      await compensate(ctx, completed);
      await escalateToHumans(ctx, step.action.type, `${step.id}-failed-r${ctx.round}`, `Playbook ${ctx.loaded.version} step ${step.id} failed for ${ctx.workflowId}: ${r.error}. Completed steps were compensated.`);
      return false;
    }
  }
  return true;
}

/** Public replies to the customers waiting on tickets, once per ticket, through the policy gate. */
export async function replyToCustomers(ctx: TRoundContext, template: string, maxReplies: number): Promise<void> {
  const s = ctx.state;
  const tickets = s.tickets.filter((t) => !s.repliedTickets.includes(t)).slice(0, maxReplies);
  if (tickets.length === 0) return;
  const step: TPlaybookStep = { id: 'customer-reply', action: { type: 'zendesk.public_reply', body: template } };
  const saved = s.tickets;
  s.tickets = tickets;
  try {
    const r = await runStep(ctx, step, {}, []);
    if (r.kind === 'done' && r.result) {
      s.repliedTickets.push(...tickets);
      if (s.repliedTickets.length > 5_000) s.repliedTickets.splice(0, s.repliedTickets.length - 5_000);
      ctx.journal.record(
        { kind: 'customer_replied', actor: SYSTEM_ACTOR, payload: { idempotencyKey: actionKey(ctx, step.id, 'zendesk.public_reply'), ticketRefs: tickets, templateId: ctx.loaded.version, channel: 'zendesk', dryRun: r.result.dryRun } },
        `${r.result.dryRun ? 'would have replied' : 'replied'} to ${tickets.length} customer ticket(s)`,
      );
    }
  } finally {
    s.tickets = saved;
  }
}

/** Ranks root-cause hypotheses; an unavailable ranker means insufficient evidence, not a guess. */
export async function investigate(ctx: TRoundContext, spikeAt: number): Promise<TRootCauseResult> {
  const s = ctx.state;
  let ranking: TRootCauseResult;
  try {
    ranking = await rankRootCause({ workflowId: ctx.workflowId, category: s.category, firstSeen: s.stats.firstSeen ?? spikeAt, spikeAt, evidence: s.evidence, tiers: s.tiers, ...(s.segmentProfile ? { profile: s.segmentProfile } : {}) });
  } catch (e) {
    ranking = { verdict: 'insufficient_evidence', hypotheses: [], rankerVersion: 'unavailable', unavailableSources: [errorInfo(e).message] };
  }
  s.hypotheses = ranking.hypotheses.slice(0, 5);
  ctx.journal.record(
    {
      kind: 'hypotheses',
      actor: SYSTEM_ACTOR,
      payload: { items: s.hypotheses.map((h) => ({ id: h.id, summary: `${h.kind}: ${h.title}`.slice(0, 1_900), score: Math.min(1, Math.max(0, h.score)), evidenceRefs: h.reasons.slice(0, 10).map((r) => r.slice(0, 290)) })), rankerVersion: ranking.rankerVersion },
    },
    (ranking.verdict === 'ranked' ? `top hypothesis: ${s.hypotheses[0]?.title ?? '?'}` : 'root cause: insufficient evidence') +
      (ranking.unavailableSources.length > 0 ? ` (degraded: ${ranking.unavailableSources.length} context source(s) unavailable)` : ''),
  );
  return ranking;
}
