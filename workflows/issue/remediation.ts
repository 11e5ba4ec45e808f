// The steps of a remediation round: render a step's templates, ask the policy, ask humans when
// needed, run the action (fanned out over tickets in chunks), and on a permanent failure
// compensate the completed steps in reverse, ticket by ticket. Integrations that are down make a
// step wait and retry later (audited as degraded), never fail the workflow. Everything a resumed
// round needs is in `ctx.round` (round-state.ts).
import { patched } from '@temporalio/workflow';
import { evaluatePolicy, rateLimitWindowMs } from '../../policies/evaluate.js';
import { issueTitle } from '../domain/issue-title.js';
import { issueReport } from '../domain/issue-report.js';
import {
  ACTION_OUTPUTS,
  deriveCompensation,
  renderTemplate,
  textTarget,
  TOUCHES_TICKETS,
  type TCompensation,
  type TPlaybookAction,
} from '../../playbooks/actions.js';
import type { TPlaybookStep } from '../../playbooks/schema.js';
import type { TVerdict } from '../../policies/schema.js';
import { affectedCustomerCount, highestSeverity } from '../domain/issue-stats.js';
import { issueOutcome } from '../domain/outcome.js';
import type { TActionResult, TRootCauseResult, TTicketResult } from '../activity-types.js';
import type { TStepOutcome } from '../messages.js';
import { actions, countRecentActions, rankRootCause } from './activities.js';
import * as ev from './audit-payloads.js';
import type { TRerankRecord } from './audit-payloads.js';
import { errorInfo, isConfigurationOutage, ticketResultsSoFar, type TErrorInfo } from './errors.js';
import type { TRoundContext, TStepInFlight } from './round-state.js';
import { issueTemplateValues, stepPolicyInput } from './policy-input.js';
import { recordStep } from './state.js';

type TStepResult = { kind: 'done'; result?: TActionResult } | { kind: 'failed'; error: string };

const MAX_RETRY_LATER_MS = 3_600_000;

function issueValues(ctx: TRoundContext): Record<string, string | number> {
  return issueTemplateValues(
    { workflowId: ctx.workflowId, fingerprint: ctx.fingerprint },
    ctx.state,
    ctx.round.playbook.playbook,
    ctx.state.hypotheses[0] ?? null,
  );
}

/**
 * Renders every template field of an action (or compensation) with the one Liquid engine
 * (playbooks/templates.ts: pure, synchronous, bundled into the workflow); throws LoopwrightError
 * on a missing value. Rendering issues no command, so only its success or failure is replay-relevant.
 */
function render<T extends TPlaybookAction | TCompensation>(action: T, values: Record<string, string | number>): T {
  const out: Record<string, unknown> = {};
  const target = textTarget(action.type);
  for (const [k, v] of Object.entries(action))
    out[k] = typeof v === 'string' && k !== 'type' ? renderTemplate(v, values, target) : v;
  return out as T;
}

/** Idempotency key of a step: the execution chain and the round, so a recurrence never reuses an old result. */
export function actionKey(ctx: TRoundContext, stepId: string): string {
  return `${ctx.workflowId}/${ctx.chainId}/r${ctx.round.n}/${stepId}`;
}

function noteStep(
  ctx: TRoundContext,
  step: TPlaybookStep,
  outcome: TStepOutcome['outcome'],
  verdict: TStepOutcome['verdict'],
  detail?: string,
  externalRef?: string,
): void {
  recordStep(ctx.state, {
    stepId: step.id,
    actionType: step.action.type,
    verdict,
    outcome,
    ...(detail ? { detail } : {}),
    ...(externalRef ? { externalRef } : {}),
  });
  // Later steps may quote this one's outputs; a step that did not run says so instead of breaking them.
  if (outcome !== 'succeeded')
    for (const field of ACTION_OUTPUTS[step.action.type])
      ctx.round.outputs[`steps.${step.id}.${field}`] ??= `(not run: ${outcome})`;
}

async function policyVerdict(
  ctx: TRoundContext,
  stepId: string,
  action: TPlaybookAction,
  tickets: string[],
): Promise<TVerdict> {
  const policy = ctx.round.policy?.policy;
  const windowMs = policy ? rateLimitWindowMs(policy, action.type) : null;
  const recentActionCount = windowMs === null ? 0 : await countRecentActions({ actionType: action.type, windowMs });
  const verdict = evaluatePolicy(policy, stepPolicyInput(ctx.state, action.type, tickets, recentActionCount));
  ctx.journal.add(ev.policyVerdict(stepId, verdict));
  return verdict;
}

/** Renders and decides a step (once: a resumed round finds it in ctx.round.current). */
/**
 * A recurrence after a verified resolution: the playbook's rule decides whether the Jira step files
 * a new issue linked to the old one or reopens the old one (whose key later steps then quote).
 */
function recurrenceAction(ctx: TRoundContext, step: TPlaybookStep): TPlaybookAction {
  const old = ctx.state.jiraKey;
  if (step.action.type !== 'jira.create_issue' || !ctx.round.recurrence || !old || !patched('recurrence-jira-rule'))
    return step.action;
  const rule = ctx.round.playbook.playbook.recurrence;
  if (rule?.jira !== 'reopen') return { ...step.action, relatesTo: old };
  ctx.round.outputs[`steps.${step.id}.issueKey`] = old;
  ctx.round.outputs[`steps.${step.id}.issueUrl`] = ctx.state.jiraUrl ?? old;
  return { type: 'jira.transition', issueKey: old, transition: rule.reopenTransition };
}

async function prepare(
  ctx: TRoundContext,
  step: TPlaybookStep,
  tickets: string[],
): Promise<TStepInFlight | TStepResult> {
  const base = recurrenceAction(ctx, step);
  const type = base.type;
  const key = actionKey(ctx, step.id);
  let action: TPlaybookAction;
  try {
    action = render(base, { ...issueValues(ctx), ...ctx.round.outputs });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    ctx.journal.add(ev.actionFailed(type, step.id, key, { code: 'invalid_input', message, retryable: false }));
    noteStep(ctx, step, 'failed', 'deny', message);
    return { kind: 'failed', error: message };
  }
  if (TOUCHES_TICKETS[type] && tickets.length === 0) {
    ctx.journal.note('step_skipped', `${step.id}: no customer tickets to act on`);
    noteStep(ctx, step, 'skipped', 'allow', 'no tickets');
    return { kind: 'done' };
  }
  const verdict = await policyVerdict(ctx, step.id, action, tickets);
  if (verdict.dryRun) {
    noteStep(ctx, step, 'dry_run', verdict.kind, `would ${verdict.kind}`);
    return { kind: 'done' };
  }
  if (verdict.kind === 'deny') {
    noteStep(ctx, step, 'skipped', 'deny', verdict.reasons.join(', '));
    return { kind: 'done' };
  }
  return {
    stepId: step.id,
    action,
    verdict,
    tickets,
    idempotencyKey: key,
    stage: verdict.kind === 'needs_approval' ? 'approval' : 'act',
    approval: null,
    attempts: 0,
    firstFailureAt: null,
    retryAt: null,
    chunks: [],
  };
}

/** Policy → (approval) → action for one step; resumes a step a continue-as-new interrupted. */
export async function runStep(ctx: TRoundContext, step: TPlaybookStep, tickets: string[]): Promise<TStepResult> {
  const s = ctx.state;
  if (ctx.round.current?.stepId !== step.id) {
    const prepared = await prepare(ctx, step, tickets);
    if ('kind' in prepared) return prepared;
    ctx.round.current = prepared;
  }
  const p = ctx.round.current;
  if (p.stage === 'approval') {
    const outcome = await ctx.desk.obtain(ctx, p, {
      issue: {
        category: s.category,
        severity: highestSeverity(s.stats) ?? 'low',
        occurrences: s.stats.total,
        customers: affectedCustomerCount(s.stats),
        excerpt: s.excerpt,
        title: issueTitle(s.category, s.excerpt),
        tiers: s.tiers,
        tickets: p.tickets,
        jiraKey: s.jiraKey,
        jiraUrl: s.jiraUrl,
        // Shown to the approvers; an activity input, not a command: histories replay unchanged.
        ...(s.outcome ? { predictedOutcome: issueOutcome(s.outcome)! } : {}),
      },
      evidence: s.evidence,
      hypotheses: s.hypotheses,
    });
    if (outcome !== 'approved') {
      noteStep(ctx, step, outcome, 'needs_approval');
      return { kind: 'done' };
    }
    p.stage = 'act';
    p.approval = null;
  }
  ctx.checkpoint();
  if (p.attempts === 0 && p.chunks.length === 0)
    ctx.journal.add(ev.actionStarted(p.action.type, step.id, p.idempotencyKey));
  await ctx.flush();
  const run = await act(ctx, p);
  if (run.kind === 'failed') {
    ctx.journal.add(ev.actionFailed(p.action.type, step.id, p.idempotencyKey, run.error));
    noteStep(ctx, step, 'failed', p.verdict.kind, run.error.message);
    // The chunks of tickets this step did change before it failed are undone with the others, and
    // (patched later) so are the tickets the failing chunk itself changed before its failing ticket.
    const changedInFailingChunk = (p.chunkSoFar ?? []).filter((t) => t.outcome === 'changed');
    if (changedInFailingChunk.length > 0 && patched('compensate-failing-chunk')) {
      const applied = p.tickets.slice(0, p.chunks.length * ctx.settings.fanOutChunk);
      const result = mergeChunks([...p.chunks, partialChunk(p.action, changedInFailingChunk)]);
      ctx.round.completed.push({
        stepId: step.id,
        action: p.action,
        key: p.idempotencyKey,
        result,
        tickets: [...applied, ...changedInFailingChunk.map((t) => t.id)],
      });
    } else if (p.chunks.length > 0 && patched('compensate-partial-fan-out')) {
      ctx.round.completed.push({
        stepId: step.id,
        action: p.action,
        key: p.idempotencyKey,
        result: mergeChunks(p.chunks),
        tickets: p.tickets.slice(0, p.chunks.length * ctx.settings.fanOutChunk),
      });
    }
    return { kind: 'failed', error: run.error.message };
  }
  const result = run.result;
  ctx.journal.add(ev.actionSucceeded(p.action.type, step.id, p.idempotencyKey, result));
  const skipped = (result.tickets ?? [])
    .filter((t) => t.outcome === 'skipped')
    .map((t) => ({ ticket: t.id, reason: t.reason ?? 'skipped' }));
  if (skipped.length > 0) ctx.journal.add(ev.ticketsSkipped(p.action.type, step.id, p.idempotencyKey, skipped));
  for (const [field, value] of Object.entries(result.outputs)) ctx.round.outputs[`steps.${step.id}.${field}`] = value;
  if (result.dryRun) {
    noteStep(ctx, step, 'dry_run', p.verdict.kind, 'integration not configured');
    return { kind: 'done', result };
  }
  if (p.action.type === 'jira.create_issue' && result.outputs.issueKey) {
    s.jiraKey = result.outputs.issueKey;
    s.jiraUrl = result.outputs.issueUrl ?? null;
  }
  ctx.round.completed.push({ stepId: step.id, action: p.action, key: p.idempotencyKey, result, tickets: p.tickets });
  noteStep(ctx, step, 'succeeded', p.verdict.kind, undefined, result.externalRef);
  return { kind: 'done', result };
}

/**
 * Runs the action, in chunks of tickets for the zendesk.* types. A transient failure (the
 * activity's own retries exhausted) waits and retries later, up to settings.giveUpAfterMs.
 */
async function act(
  ctx: TRoundContext,
  p: TStepInFlight,
): Promise<{ kind: 'ok'; result: TActionResult } | { kind: 'failed'; error: TErrorInfo }> {
  const chunk = ctx.settings.fanOutChunk;
  const chunks = TOUCHES_TICKETS[p.action.type] ? Math.max(1, Math.ceil(p.tickets.length / chunk)) : 1;
  while (p.chunks.length < chunks) {
    if (p.retryAt !== null) await ctx.wait(() => false, Math.max(0, p.retryAt - Date.now()));
    const i = p.chunks.length;
    const first =
      !ctx.state.steps.some((x) => x.outcome === 'succeeded') && ctx.state.stats.firstSeen !== null && i === 0;
    try {
      const result = await actions.runAction({
        workflowId: ctx.workflowId,
        stepId: p.stepId,
        idempotencyKey: p.idempotencyKey,
        action: p.action,
        tickets: TOUCHES_TICKETS[p.action.type] ? p.tickets.slice(i * chunk, (i + 1) * chunk) : [],
        dryRun: false,
        ...(first ? { issueFirstSeen: ctx.state.stats.firstSeen as number } : {}),
        // Activity input only (no command changes): the Jira description's evidence, quotes, hypotheses and links.
        ...(p.action.type === 'jira.create_issue' ? { report: issueReport(ctx.state) } : {}),
      });
      p.chunks.push(p.chunkSoFar ? withEarlierChanges(result, p.chunkSoFar) : result);
      delete p.chunkSoFar;
      if (p.attempts > 0)
        ctx.journal.add(
          ev.degraded({
            component: component(p.action.type),
            operation: p.action.type,
            stepId: p.stepId,
            outcome: 'recovered',
            attempt: p.attempts,
          }),
        );
      p.attempts = 0;
      p.firstFailureAt = null;
      p.retryAt = null;
    } catch (e) {
      const error = errorInfo(e);
      const soFar = ticketResultsSoFar(e);
      if (soFar.length > 0) p.chunkSoFar = mergeTicketResults(p.chunkSoFar ?? [], soFar);
      p.firstFailureAt ??= Date.now();
      // A revoked token or a missing Slack channel is waited out like a 5xx (patched: older runs failed the step).
      const waitOut =
        error.retryable === true ||
        (isConfigurationOutage(component(p.action.type), error) && patched('config-outage-retry-later'));
      if (!waitOut || Date.now() - p.firstFailureAt >= ctx.settings.giveUpAfterMs) {
        if (waitOut)
          ctx.journal.add(
            ev.degraded({
              component: component(p.action.type),
              operation: p.action.type,
              stepId: p.stepId,
              error,
              outcome: 'gave_up',
              attempt: p.attempts,
            }),
          );
        return { kind: 'failed', error };
      }
      p.attempts += 1;
      p.retryAt = Date.now() + Math.min(MAX_RETRY_LATER_MS, ctx.settings.retryLaterMs * 2 ** (p.attempts - 1));
      ctx.journal.add(
        ev.degraded({
          component: component(p.action.type),
          operation: p.action.type,
          stepId: p.stepId,
          error,
          outcome: 'retry_later',
          retryAt: p.retryAt,
          attempt: p.attempts,
        }),
      );
      ctx.refreshDetails();
      await ctx.flush();
    }
  }
  return { kind: 'ok', result: mergeChunks(p.chunks) };
}

function component(actionType: string): 'slack' | 'jira' | 'zendesk' {
  return actionType.split('.')[0] as 'slack' | 'jira' | 'zendesk';
}

function mergeChunks(chunks: TActionResult[]): TActionResult {
  if (chunks.length === 1) return chunks[0]!;
  const tickets = chunks.flatMap((c) => c.tickets ?? []);
  const count = chunks.reduce((n, c) => n + Number(c.outputs.ticketCount ?? 0), 0);
  return {
    outputs: { ...chunks[0]!.outputs, ticketCount: String(count) },
    externalRef: `${count} tickets`,
    created: chunks.some((c) => c.created),
    dryRun: chunks.every((c) => c.dryRun),
    tickets,
  };
}

/** What a failing chunk did change, as a chunk result (each ticket with its own prior state). */
function partialChunk(action: TPlaybookAction, changed: TTicketResult[]): TActionResult {
  const previousPriority = changed.find((t) => t.previousPriority)?.previousPriority ?? 'normal';
  return {
    outputs: {
      ticketCount: String(changed.length),
      ...(action.type === 'zendesk.set_priority' ? { previousPriority } : {}),
    },
    externalRef: `${changed.length} tickets`,
    created: true,
    dryRun: false,
    tickets: changed,
  };
}

/** Per ticket, a later attempt's result, except that an earlier attempt's change is kept (what to undo). */
function mergeTicketResults(earlier: TTicketResult[], later: TTicketResult[]): TTicketResult[] {
  const byId = new Map(earlier.map((t) => [t.id, t]));
  for (const t of later) if (byId.get(t.id)?.outcome !== 'changed') byId.set(t.id, t);
  return [...byId.values()];
}

/**
 * A chunk that succeeded on a retry after an attempt that failed part-way: tickets the failed attempt
 * changed read as unchanged now (the tag is there, the priority set); keep what they were before us.
 */
function withEarlierChanges(result: TActionResult, earlier: TTicketResult[]): TActionResult {
  if (!result.tickets) return result;
  const changed = new Map(earlier.filter((t) => t.outcome === 'changed').map((t) => [t.id, t]));
  const tickets = result.tickets.map((t) => (t.outcome !== 'changed' && changed.has(t.id) ? changed.get(t.id)! : t));
  return { ...result, tickets, created: result.created || tickets.some((t) => t.outcome === 'changed') };
}

/** Escalation channel for a failure the automation cannot fix: the action's last escalation group. */
function escalationChannel(ctx: TRoundContext, actionType: string): string | null {
  const p = ctx.round.policy?.policy;
  if (!p) return null;
  const rule = p.actions[actionType];
  const group = rule ? (rule.escalation.at(-1) ?? rule.approverGroup) : null;
  const first = Object.values(p.approverGroups)[0];
  return (group ? p.approverGroups[group]?.channel : undefined) ?? first?.channel ?? null;
}

export async function escalateToHumans(
  ctx: TRoundContext,
  actionType: string,
  keySuffix: string,
  text: string,
): Promise<void> {
  const channel = escalationChannel(ctx, actionType);
  if (!channel) {
    ctx.journal.note('escalation_impossible', `no escalation channel for ${actionType}: ${text}`);
    return;
  }
  const key = `${ctx.workflowId}/${ctx.chainId}/escalate/${keySuffix}`;
  try {
    await actions.escalate({ workflowId: ctx.workflowId, idempotencyKey: key, channel, text });
    ctx.journal.add(ev.escalated(channel, text));
  } catch (e) {
    ctx.journal.add(ev.escalationFailed(key, channel, errorInfo(e)));
  }
}

/** Undoes the completed steps in reverse, each ticket back to its own prior state. */
export async function compensate(ctx: TRoundContext): Promise<void> {
  for (const done of [...ctx.round.completed].reverse()) {
    const comp = deriveCompensation(done.action);
    if (!comp) continue;
    const key = `${done.key}/compensate`;
    const values: Record<string, string | number> = {};
    for (const [f, v] of Object.entries(done.result.outputs)) values[`result.${f}`] = v;
    try {
      const rendered = render(comp, values);
      await actions.compensateAction({
        workflowId: ctx.workflowId,
        stepId: done.stepId,
        idempotencyKey: key,
        compensates: done.key,
        compensation: rendered,
        tickets: done.tickets,
        ...(done.result.tickets ? { ticketResults: done.result.tickets } : {}),
        dryRun: false,
      });
      ctx.journal.add(ev.compensated(comp.type, done.stepId, key, done.key));
      recordStep(ctx.state, {
        stepId: done.stepId,
        actionType: done.action.type,
        verdict: 'allow',
        outcome: 'compensated',
      });
    } catch (e) {
      const error = errorInfo(e);
      ctx.journal.add(ev.compensationFailed(comp.type, done.stepId, key, done.key, error));
      await escalateToHumans(
        ctx,
        done.action.type,
        `${done.stepId}-compensation-r${ctx.round.n}`,
        `Compensation of ${done.stepId} (${comp.type}) failed for ${ctx.workflowId}: ${error.message}. Manual clean-up needed.`,
      );
    }
  }
  ctx.round.completed = [];
}

/** Public replies to the customers waiting on tickets, once per ticket, through the policy gate. */
export async function replyToCustomers(ctx: TRoundContext, template: string, stepId: string): Promise<void> {
  const s = ctx.state;
  const replied = new Set(s.repliedTickets);
  // A snapshot: tickets that arrive while this step waits stay in s.tickets for the next reply.
  const tickets =
    ctx.round.current?.stepId === stepId
      ? ctx.round.current.tickets
      : s.tickets.filter((t) => !replied.has(t)).slice(0, ctx.settings.maxRepliesPerRound);
  if (tickets.length === 0) return;
  const step: TPlaybookStep = { id: stepId, action: { type: 'zendesk.public_reply', body: template } };
  const r = await runStep(ctx, step, tickets);
  ctx.round.current = null;
  if (r.kind === 'done' && r.result) {
    const done = r.result.tickets ? r.result.tickets.filter((t) => t.outcome !== 'skipped').map((t) => t.id) : tickets;
    s.repliedTickets.push(...done);
    if (s.repliedTickets.length > 5_000) s.repliedTickets.splice(0, s.repliedTickets.length - 5_000);
    ctx.journal.add(ev.customerReplied(actionKey(ctx, stepId), done, ctx.round.playbook.version, r.result.dryRun));
  }
}

/**
 * Ranks root-cause hypotheses; an unavailable ranker means insufficient evidence, not a guess.
 * `rerank`: this is a verifying round's ranking again, on more reports (audited with the first's).
 */
export async function investigate(
  ctx: TRoundContext,
  spikeAt: number,
  rerank?: TRerankRecord,
): Promise<TRootCauseResult> {
  const s = ctx.state;
  let ranking: TRootCauseResult;
  try {
    ranking = await rankRootCause({
      workflowId: ctx.workflowId,
      category: s.category,
      firstSeen: s.stats.firstSeen ?? spikeAt,
      spikeAt,
      evidence: s.evidence,
      tiers: s.tiers,
      ...(s.segmentProfile ? { profile: s.segmentProfile } : {}),
    });
  } catch (e) {
    ranking = {
      verdict: 'insufficient_evidence',
      hypotheses: [],
      rankerVersion: 'unavailable',
      unavailableSources: [errorInfo(e).message],
    };
  }
  s.hypotheses = ranking.hypotheses.slice(0, 5);
  ctx.journal.add(ev.hypotheses(ranking, rerank));
  return ranking;
}
