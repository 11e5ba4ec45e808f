// The activities of Loopwright's workflows, built by one factory from the clients the worker owns
// (STYLE: createActivities = (deps) => ({...})). Every I/O the loop performs happens here:
// triage, routing to issue workflows, audit appends, root-cause context, and playbook actions
// through the Jira, Slack and Zendesk ports. Adapter errors are coded LoopwrightErrors; `failure`
// turns them into retryable or non-retryable ApplicationFailures so Temporal's retry policy sees
// the same classification the adapters made.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AuditStore, TAuditAppend } from './audit/index.js';
import { createGroupCommit } from './audit/group-commit.js';
import { canonicalJson } from './audit/canonical.js';
import type { TriagePipeline } from './triage/pipeline.js';
import { recordFromFeedback } from './outcome/dataset.js';
import type { OutcomePredictor } from './outcome/predictor.js';
import { outcomeInWords } from '../workflows/domain/outcome.js';
import type { ContextSource } from './context/ports.js';
import { contextSearchRange, rankHypotheses, RANKER_VERSION, type TRankIssueInput, type TRankOptions } from './context/rank.js';
import { isLoopwrightError, LoopwrightError } from '../workflows/domain/errors.js';
import type { TFeedbackItem } from '../workflows/domain/feedback.js';
import type { TFingerprint, TTriageResult } from '../workflows/domain/triage.js';
import { absorbIssueSignal, ISSUE_WORKFLOW, issueWorkflowId, occurrencesSignal, type TAbsorbedIssue, type TOccurrence } from '../workflows/messages.js';
import type { TIssueSettings, TIssueWorkflowInput } from '../workflows/issue/state.js';
import type { TLoadedPlaybook } from '../playbooks/schema.js';
import type { TLoadedPolicy } from '../policies/loader.js';
import { createOccurrenceRouter, type OccurrenceRouterOptions } from './occurrence-batcher.js';
import type {
  TActionRequest,
  TActionResult,
  TApprovalClose,
  TApprovalMessageRef,
  TApprovalProgress,
  TApprovalRequest,
  TCompensationRequest,
  TEscalation,
  TRootCauseRequest,
  TRootCauseResult,
  TTicketResult,
} from '../workflows/activity-types.js';
import { runPlaybookAction, runCompensation, type TIntegrations } from './actions.js';
import { loadParentMessage, parentFeedbackId, planRoutes } from './routing.js';
import { createGrouper, type Grouper, type GroupingOptions, type TGroupingDecision } from './grouping/assign.js';
import { mergeFolds, retryBusyFolds, type TFoldOutcome } from './grouping/fold.js';
import { createEvidenceJoiner } from './grouping/evidence-join.js';
import { adoptionRecord, applyGrouping, groupingRecord, joinRecord } from './grouping/route.js';
import { adoptedOccurrence, movesOf, occurrenceFromTrail, redirectMovedTicket } from './report-trail.js';
import { issueIsOpen, issueIsRunning } from './grouping/open-issues.js';
import type { TApprovalRequest as TSlackApprovalRequest } from './adapters/slack/approval-blocks.js';
import { escalationReplyText } from './adapters/slack/approval-blocks.js';
import { approvalQuestion, customerFacingText, isIrreversible, reachInWords, reasonInWords } from './approval-wording.js';
import { TOUCHES_TICKETS } from '../playbooks/actions.js';
import { issueTitle } from '../workflows/domain/issue-title.js';
import type { LoopwrightMetrics } from '../worker/http/metrics.js';

export interface ActivityDeps {
  pipeline: TriagePipeline;
  /** The resolution-outcome model; absent: triage results carry no `outcome`. */
  outcome?: OutcomePredictor;
  audit: AuditStore;
  /**
   * Used by routing to signal-with-start IssueWorkflows: on `issueTaskQueue` when the process runs
   * separate feedback and issue workers (see worker/main.ts), else on `taskQueue`.
   */
  temporal: { client: Client; taskQueue: string; issueTaskQueue?: string };
  /**
   * The current policy and playbooks, asked by IssueWorkflows at each round start (an activity), and
   * the settings new IssueWorkflows start with. May reload files; a throw retries (and is counted).
   */
  issueConfig: () => TIssueConfigSource | Promise<TIssueConfigSource>;
  /**
   * Grouping by meaning and emerging themes (activities/grouping/): without it every fragment goes
   * to the issue of its fingerprint, as before, and needs_review fragments go nowhere.
   */
  grouping?: Pick<GroupingOptions, 'store' | 'encoder' | 'issueThreshold' | 'themeThreshold' | 'linkage' | 'burst' | 'surge'> & {
    /** false: no joins across categories (evidence-join.ts). */
    evidenceJoin?: boolean;
  };
  /** Batching of occurrences per issue (routing). */
  routing?: OccurrenceRouterOptions;
  integrations: TIntegrations;
  contextSources: ContextSource[];
  rankOptions?: TRankOptions;
  /** Worker identity recorded as the actor of triage events. */
  identity: string;
  /** Prometheus instruments shared with the HTTP service's /metrics (optional in tests). */
  metrics?: LoopwrightMetrics;
  /**
   * Where approval messages link to: the Temporal Web UI (base URL + namespace) and the Zendesk agent
   * UI; `publicUrl` (LOOPWRIGHT_PUBLIC_URL) goes into every IssueWorkflow's input for its link back.
   */
  links?: { temporalUi?: { url: string; namespace: string }; zendeskUrl?: string; publicUrl?: string };
  now?: () => number;
}

export interface TIssueConfigSource {
  playbooks: TLoadedPlaybook[];
  /** null: no usable policy, every step is denied (fail closed). */
  policy: TLoadedPolicy | null;
  settings?: Partial<TIssueSettings>;
}

/** From this attempt on, an infrastructure activity that keeps failing is logged and counted. */
export const INFRA_ALERT_ATTEMPT = 5;

/** Converts anything an adapter threw into the failure Temporal should act on. */
export function failure(e: unknown): Error {
  if (e instanceof ApplicationFailure) return e;
  if (isLoopwrightError(e)) {
    return ApplicationFailure.create({
      type: e.code,
      message: e.message,
      nonRetryable: !e.retryable,
      ...(e.retryAfterMs !== undefined ? { nextRetryDelay: e.retryAfterMs } : {}),
      details: [e.details],
    });
  }
  return e instanceof Error ? e : new Error(String(e));
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw failure(e);
  }
}

function currentWorkflow(): { workflowId: string; runId: string } {
  const exec = Context.current().info.workflowExecution;
  if (!exec) throw new LoopwrightError('internal', 'this activity must run inside a workflow', { retryable: false });
  return { workflowId: exec.workflowId, runId: exec.runId };
}

export function createActivities(deps: ActivityDeps) {
  const now = deps.now ?? Date.now;
  const worker = { type: 'worker', id: deps.identity } as const;
  // Concurrent activities share audit transactions (one fsync per group, not per message).
  const auditLog = createGroupCommit(deps.audit);
  // Built on first use: activities that never route (ranking, audit) need no Temporal client.
  let router: ReturnType<typeof createOccurrenceRouter> | undefined;
  const routerOf = () => (router ??= createOccurrenceRouter(deps.temporal.client, deps.temporal.issueTaskQueue ?? deps.temporal.taskQueue, deps.routing));
  const grouping = deps.grouping;
  const grouper: Grouper | undefined = grouping
    ? (() => {
        const isOpen = (key: string) => issueIsOpen(deps.temporal.client, key);
        // Joins across categories on a code or a spiking release cohort (evidence-join.ts), before meaning.
        const joiner = grouping.evidenceJoin === false ? undefined : createEvidenceJoiner({ store: grouping.store, isOpen });
        const isRunning = (key: string) => issueIsRunning(deps.temporal.client, key);
        return createGrouper({ ...grouping, isOpen, isRunning, ...(joiner ? { joiner } : {}) });
      })()
    : undefined;

  /**
   * Routing's last step: the issues grouping folded (TBurstRule.fold) merged into the bursting issue
   * (grouping/fold.ts), after the message's reports reached it. Each attempt is audited on the
   * message's trail and logged (ids and outcome only); a folded issue mid-merge or mid-split fails the
   * activity after the rest is done, so it retries, for a minute or so (fold.ts retryBusyFolds): a
   * message must not fail because an operator's split runs long. Nothing else a fold meets fails routing.
   */
  async function mergeFoldedIssues(folding: readonly TGroupingDecision[], trail: { workflowId: string; runId: string }): Promise<void> {
    const outcomes: TFoldOutcome[] = [];
    for (const d of folding) outcomes.push(...(await mergeFolds(deps.temporal.client, d)));
    if (outcomes.length === 0) return;
    await auditLog.appendMany(
      outcomes.map((payload) => ({ ...trail, eventKey: decisionEventKey('folded', payload.from, payload), actor: worker, kind: 'issue_folded' as const, payload })),
    );
    const ctx = Context.current();
    for (const o of outcomes) ctx.log.info(`grouping fold: ${o.outcome}`, { from: o.from, into: o.into, segment: o.segment, members: o.members, ...(o.code ? { code: o.code } : {}) });
    if (retryBusyFolds(outcomes, ctx.info.attempt)) ctx.log.warn('grouping fold: still busy, left unmerged', { attempt: ctx.info.attempt });
  }

  /**
   * Routing's delivery of the needs_review reports a burst adopted from their themes (grouping/assign.ts
   * TBurstRule.adopt), after the message's own routes: each rebuilt from its own audit trail
   * (report-trail.ts adoptedOccurrence), sent to the adopting issue through the router, and linked
   * there on its own trail (`issue_linked` with `adoptedBy`: homesOf then finds it in that issue, so a
   * split or a follow-up of its ticket goes where it is). Each adoption is audited on the adopting
   * message's trail (`report_adopted`): delivered, or skipped when the report's trail lacks its triage
   * events (logged; routing goes on). A retry repeats all of it: the IssueWorkflow drops a report it
   * holds, the audit keeps one event per key, and a report already linked to the issue keeps its link.
   */
  async function deliverAdoptions(adopting: readonly TGroupingDecision[], trail: { workflowId: string; runId: string }, settings: Partial<TIssueSettings> | undefined): Promise<void> {
    if (adopting.length === 0) return;
    const by = trail.workflowId.replace(/^feedback:/, '');
    const sends: Array<{ workflowId: string; input: TIssueWorkflowInput; occurrence: TOccurrence }> = [];
    const events: TAuditAppend[] = [];
    const linking = new Set<string>();
    const ctx = Context.current();
    for (const d of adopting) {
      const into = d.fingerprint.key;
      for (const a of d.adopted ?? []) {
        const reportId = `feedback:${a.feedbackId}`;
        const own = await deps.audit.trail(reportId);
        const occurrence = adoptedOccurrence(own, a, d);
        const adopted = { feedbackId: a.feedbackId, span: a.memberKey.slice(a.memberKey.lastIndexOf('#') + 1), into: issueWorkflowId(into), themeId: a.themeId, similarity: a.similarity };
        const outcome = occurrence
          ? { ...adopted, outcome: 'delivered' as const }
          : { ...adopted, outcome: 'skipped' as const, reason: 'its audit trail lacks the received and classified events the report is rebuilt from' };
        events.push({ ...trail, eventKey: decisionEventKey('adopted', a.memberKey, outcome), actor: worker, kind: 'report_adopted', payload: outcome });
        if (!occurrence) {
          ctx.log.warn('grouping adoption skipped: no triage on the report\'s audit trail', { feedbackId: a.feedbackId, into: adopted.into });
          continue;
        }
        sends.push({ workflowId: adopted.into, input: issueWorkflowInput(d.fingerprint, settings, deps.links), occurrence });
        // Linked once: two fragments of one report adopted into one issue, or a link already there.
        const link = `linked:${into}`;
        if (linking.has(`${reportId}\u0000${link}`) || own.some((e) => e.kind === 'issue_linked' && e.eventKey === link)) continue;
        linking.add(`${reportId}\u0000${link}`);
        const runId = own.filter((e) => e.kind === 'received').at(-1)?.runId;
        events.push({
          workflowId: reportId,
          ...(runId ? { runId } : {}),
          eventKey: link,
          actor: worker,
          kind: 'issue_linked',
          payload: { issueWorkflowId: adopted.into, fingerprint: into, grouping: adoptionRecord(d, a), adoptedBy: by },
        });
      }
    }
    await Promise.all(sends.map((x) => routerOf().route(x.workflowId, x.input, x.occurrence)));
    await auditLog.appendMany(events);
    for (const e of events) if (e.kind === 'report_adopted') ctx.log.info(`grouping adoption: ${e.payload.outcome}`, { feedbackId: e.payload.feedbackId, into: e.payload.into });
  }

  /** Infrastructure activities retry without a cap; a long streak must still be seen. */
  function watchAttempts(activity: string): void {
    // Called outside an activity (the functions are also used directly, e.g. by tests): nothing to watch.
    let ctx: Context;
    try {
      ctx = Context.current();
    } catch {
      return;
    }
    const { attempt } = ctx.info;
    if (attempt < INFRA_ALERT_ATTEMPT) return;
    ctx.log.warn(`${activity}: attempt ${attempt}, still failing`, { activity, attempt });
    deps.metrics?.countInfraRetry(activity);
  }

  /**
   * The outcome prediction of a triaged message, on masked text only. A model failure leaves the
   * result without a prediction (logged): triage must not stop because a secondary model did, and
   * policy conditions on the outcome fail closed when it is missing.
   */
  async function predictOutcome(item: TFeedbackItem, triaged: TTriageResult): Promise<TTriageResult['outcome']> {
    if (!deps.outcome) return undefined;
    try {
      return await deps.outcome.predict(recordFromFeedback(item, triaged.masked.text, triaged.classification.category));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      try {
        Context.current().log.warn('outcome prediction failed; the triage result carries none', { error });
      } catch {
        // called outside an activity (tests use the functions directly): nothing to log to
      }
      return undefined;
    }
  }

  return {
    /**
     * Mask, classify, score, fingerprint and predict the outcome of one message, and audit what was
     * decided. A retry that classifies differently (a new model version deployed between attempts, or an LLM answering
     * otherwise) records its own `classified` (and `evidence`, whose fingerprint follows the
     * category) events after the first: every outcome stays on the record, the last one is what the
     * workflow acted on, and nothing conflicts.
     */
    async triageFeedback(item: TFeedbackItem): Promise<TTriageResult> {
      return guarded(async () => {
        const t0 = performance.now();
        const triaged = await deps.pipeline.triage(item);
        const outcome = await predictOutcome(item, triaged);
        const result: TTriageResult = outcome ? { ...triaged, outcome } : triaged;
        deps.metrics?.observeClassification(result.classification.source, result.classification.category, (performance.now() - t0) / 1000);
        const { workflowId, runId } = currentWorkflow();
        // The first attempt's schedule time is when the loop took the message in; receivedAt is
        // when the customer wrote, which for an import of old tickets says nothing about triage.
        const intakeMs = Context.current().info.scheduledTimestampMs;
        const c = result.classification;
        const classified = {
          category: c.category,
          confidence: c.confidence,
          source: c.source,
          modelVersion: c.modelVersion,
          promptVersion: c.promptVersion,
          taxonomyVersion: c.taxonomyVersion,
          alternatives: c.alternatives,
          ...(c.reviewReason ? { reviewReason: c.reviewReason } : {}),
          severity: { level: result.severity.level, score: result.severity.score, reasons: result.severity.reasons.map((r) => r.slice(0, 200)) },
          sentiment: result.sentiment,
          fingerprint: result.fingerprint.key,
          ...(result.outcome ? { outcome: result.outcome } : {}),
        };
        const evidence = { items: result.evidence.map((e) => ({ kind: e.kind, value: e.value, ref: `${e.start}-${e.end}` })), fingerprint: result.fingerprint.key };
        const received = {
          source: item.source,
          externalId: item.externalId,
          channel: item.channel,
          receivedAt: item.receivedAt,
          customerTier: item.customer?.tier ?? 'unknown',
          ...(item.customer ? { customerRef: createHash('sha256').update(item.customer.id).digest('hex').slice(0, 16) } : {}),
          ...(item.customer?.lifetimeValue !== undefined ? { customerValue: item.customer.lifetimeValue } : {}),
          locale: item.locale,
          maskedText: result.masked.text,
          redactionCount: result.masked.redactions.length,
        };
        await auditLog.appendMany([
          {
            workflowId,
            runId,
            // Keyed by what was taken in (the intake time left out), not a fixed 'received': the same
            // id taken in again with other content (a re-import after Temporal's retention, a changed
            // tier, a newer masker) is recorded beside the first instead of failing as a conflict.
            eventKey: decisionEventKey('received', item.source, received),
            actor: worker,
            kind: 'received',
            payload: { ...received, ...(Number.isFinite(intakeMs) ? { intakeAt: new Date(intakeMs).toISOString() } : {}) },
          },
          {
            workflowId,
            runId,
            eventKey: decisionEventKey('classified', classified.modelVersion, classified),
            actor: worker,
            kind: 'classified',
            payload: { ...classified, ...(c.usage ? { usage: c.usage } : {}) },
          },
          {
            workflowId,
            runId,
            eventKey: decisionEventKey('evidence', result.fingerprint.key, evidence),
            actor: worker,
            kind: 'evidence',
            payload: evidence,
          },
        ]);
        deps.metrics?.observeTimeToTriage(Math.max(0, (now() - (Number.isFinite(intakeMs) ? intakeMs : Date.parse(item.receivedAt))) / 1000));
        return result;
      });
    },

    /**
     * Signal-with-start the IssueWorkflow of every distinct fingerprint the message carries, and of
     * its ticket's issues for a follow-up comment (activities/routing.ts says what is not routed).
     */
    async routeOccurrences(result: TTriageResult): Promise<string[]> {
      return guarded(async () => {
        const { workflowId, runId } = currentWorkflow();
        let parent = await loadParentMessage(deps.temporal.client, result);
        let routed = result;
        const grouped = grouper ? await applyGrouping(result, parent, grouper, parentFeedbackId(result)) : null;
        if (grouped) {
          routed = grouped.result;
          parent = grouped.parent;
        }
        const planned = planRoutes(routed, parent).map((r) => {
          const d = grouped?.decisions.get(r.fingerprint.key);
          return d
            ? { ...r, occurrence: { ...r.occurrence, grouping: { method: d.method, ...(d.nearest ? { nearest: d.nearest } : {}), ...(d.threshold !== undefined ? { threshold: d.threshold } : {}), ...(d.join ? { join: joinRecord(d.join) } : {}) } } }
            : r;
        });
        // A follow-up goes where its ticket is now: a split may have moved it out of the issue its first message went to.
        const parentId = parentFeedbackId(result);
        const routes = parentId ? redirectMovedTicket(planned, movesOf(await deps.audit.trail(parentId))) : planned;
        const { settings } = await deps.issueConfig();
        // One signal per batch of occurrences for the same issue (occurrence-batcher.ts).
        await Promise.all(
          routes.map((route) => {
            return routerOf().route(route.issueWorkflowId, issueWorkflowInput(route.fingerprint, settings, deps.links), route.occurrence);
          }),
        );
        const ids = routes.map((r) => r.issueWorkflowId);
        const linked: TAuditAppend[] = routes.map((r) => {
          const d = grouped?.decisions.get(r.fingerprint.key);
          return {
            workflowId,
            runId,
            eventKey: `linked:${r.fingerprint.key}`,
            actor: worker,
            kind: 'issue_linked' as const,
            payload: { issueWorkflowId: r.issueWorkflowId, fingerprint: r.fingerprint.key, ...(d ? { grouping: groupingRecord(d) } : {}) },
          };
        });
        const themed: TAuditAppend[] = (grouped?.themes ?? []).map((t) => ({
          workflowId,
          runId,
          eventKey: `theme:${t.fragment.start}-${t.fragment.end}`,
          actor: worker,
          kind: 'theme_assigned' as const,
          payload: {
            themeId: t.decision.themeId,
            created: t.decision.created,
            start: t.fragment.start,
            end: t.fragment.end,
            ...(t.decision.nearest ? { nearest: t.decision.nearest } : {}),
            threshold: t.decision.threshold,
          },
        }));
        // A needs_review fragment a burst adopted is found in that issue by its own routing when it is
        // routed again (a re-delivery): the adopting message's routing linked it there already.
        const adoptedHere = linked.some((e) => e.kind === 'issue_linked' && e.payload.grouping?.features.some((f) => f.startsWith('adopted:')));
        const present = adoptedHere ? new Set((await deps.audit.trail(workflowId)).map((e) => e.eventKey)) : new Set<string>();
        await auditLog.appendMany([...linked.filter((e) => !present.has(e.eventKey)), ...themed]);
        await deliverAdoptions(grouped?.adopting ?? [], { workflowId, runId }, settings);
        await mergeFoldedIssues(grouped?.folding ?? [], { workflowId, runId });
        return ids;
      });
    },

    /**
     * A split of reports older than what their issue keeps in memory: each report rebuilt from its
     * audit trail (report-trail.ts) when one of `issueKeys` holds it now; the rest are `missing`.
     */
    async findIssueReports(req: { issueKeys: string[]; feedbackIds: string[] }): Promise<{ found: TOccurrence[]; missing: string[] }> {
      return guarded(async () => {
        const found: TOccurrence[] = [];
        const missing: string[] = [];
        for (const id of req.feedbackIds) {
          const o = occurrenceFromTrail(id, await deps.audit.trail(`feedback:${id}`), req.issueKeys);
          if (o) found.push(o);
          else missing.push(id);
        }
        return { found, missing };
      });
    },

    /**
     * A merge: hands the absorbed issue's state to the survivor (a plain signal: a survivor that no
     * longer runs is not started again, the merge is refused instead).
     */
    async absorbIntoIssue(req: { workflowId: string; absorbed: TAbsorbedIssue }): Promise<{ delivered: boolean }> {
      return guarded(async () => {
        try {
          await deps.temporal.client.workflow.getHandle(req.workflowId).signal(absorbIssueSignal, req.absorbed);
          return { delivered: true };
        } catch (e) {
          if (e instanceof WorkflowNotFoundError) return { delivered: false };
          throw e;
        }
      });
    },

    /**
     * Reports moving between issues (a split's new issue, or a merged issue forwarding what still
     * reaches it): signal-with-start, as routing does, so the target runs whatever happened to it.
     */
    async sendOccurrences(req: { workflowId: string; fingerprint: TFingerprint; occurrences: TOccurrence[] }): Promise<void> {
      return guarded(async () => {
        const { settings } = await deps.issueConfig();
        await deps.temporal.client.workflow.signalWithStart(ISSUE_WORKFLOW, {
          workflowId: req.workflowId,
          taskQueue: deps.temporal.issueTaskQueue ?? deps.temporal.taskQueue,
          args: [issueWorkflowInput(req.fingerprint, settings, deps.links)],
          signal: occurrencesSignal,
          signalArgs: [req.occurrences],
        });
      });
    },

    /** The policy and playbooks in force now: IssueWorkflows ask at each round start. */
    async loadIssueConfig(): Promise<{ playbooks: TLoadedPlaybook[]; policy: TLoadedPolicy | null }> {
      watchAttempts('loadIssueConfig');
      return guarded(async () => {
        const { playbooks, policy } = await deps.issueConfig();
        return { playbooks, policy };
      });
    },

    /** Appends the workflow's queued audit events (idempotent per event key). */
    async recordAudit(events: TAuditAppend[]): Promise<void> {
      watchAttempts('recordAudit');
      return guarded(async () => {
        if (events.length === 0) return;
        await auditLog.appendMany(events);
        if (deps.metrics) recordDecisionMetrics(deps.metrics, events);
      });
    },

    /** How many times an action type succeeded, across all issues, in the last `windowMs`: the rate-limit input. */
    async countRecentActions(input: { actionType: string; windowMs: number }): Promise<number> {
      watchAttempts('countRecentActions');
      return guarded(async () => {
        const events = await deps.audit.search({ kind: 'action_succeeded', from: new Date(now() - input.windowMs).toISOString(), limit: 10_000 });
        return events.filter((e) => e.kind === 'action_succeeded' && e.payload.actionType === input.actionType && !e.payload.dryRun).length;
      });
    },

    /**
     * Gathers deploys, incidents, flags and known issues around the issue's event-time anchor and
     * ranks them against its evidence and segment profile. A source that fails makes the answer
     * degraded (named in `unavailableSources` and in the audited ranker version), never a silent
     * "insufficient evidence"; when every source fails the activity retries.
     */
    async rankRootCause(req: TRootCauseRequest): Promise<TRootCauseResult> {
      return guarded(async () => {
        const range = contextSearchRange({ firstSeen: req.firstSeen, spikeAt: req.spikeAt }, deps.rankOptions);
        const events = [];
        const unavailable: string[] = [];
        for (const source of deps.contextSources) {
          try {
            events.push(...(await source.listEvents(range)));
          } catch (e) {
            unavailable.push(`${source.name}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        if (events.length === 0 && unavailable.length > 0 && unavailable.length === deps.contextSources.length) {
          // Every source failed: retrying may help; a ranking over nothing would read as "no cause".
          throw new LoopwrightError('upstream_unavailable', `no context source answered: ${unavailable.join('; ')}`);
        }
        const ranked = rankHypotheses(rankIssueFromRequest(req), events, deps.rankOptions);
        const degraded = unavailable.length > 0;
        return {
          verdict: ranked.verdict,
          hypotheses: ranked.hypotheses.map((h) => ({ id: h.eventId, kind: h.kind, title: h.title, score: h.score, reasons: h.reasons })),
          rankerVersion: degraded ? `${RANKER_VERSION} degraded: ${unavailable.join('; ')}`.slice(0, 300) : RANKER_VERSION,
          unavailableSources: unavailable,
          degraded,
        };
      });
    },

    async runAction(req: TActionRequest): Promise<TActionResult> {
      return guarded(async () => {
        const ctx = Context.current();
        // Fan-out: one heartbeat per ticket; a retry resumes after the last ticket done.
        const earlier = Array.isArray(ctx.info.heartbeatDetails) ? (ctx.info.heartbeatDetails as TTicketResult[]) : [];
        const result = await runPlaybookAction(deps.integrations, req, { heartbeat: (results) => ctx.heartbeat(results), resumeWith: earlier }, deps.links);
        if (req.issueFirstSeen !== undefined && !result.dryRun) deps.metrics?.observeTimeToRemediation(Math.max(0, (now() - req.issueFirstSeen) / 1000));
        return result;
      });
    },

    async compensateAction(req: TCompensationRequest): Promise<void> {
      const ctx = Context.current();
      return guarded(() => runCompensation(deps.integrations, req, (done) => ctx.heartbeat(done)));
    },

    /**
     * Posts the approval request with Approve/Reject buttons to the group's channel. An escalation
     * is told in the first request's thread; asked in the same channel, the request is rewritten in
     * place instead of posted again.
     */
    async requestApproval(req: TApprovalRequest): Promise<TApprovalMessageRef> {
      return guarded(async () => {
        const slack = deps.integrations.slack;
        if (!slack) return { channel: req.channel, ts: '' };
        const base = `${req.workflowId}/${req.stepId}/approval/${req.requestId}`;
        const first = req.earlier?.find((m) => m.ts);
        const inPlace = req.level > 0 ? req.earlier?.find((m) => m.ts && m.channel === req.channel) : undefined;
        const posted = await slack.postApprovalRequest({
          ...approvalMessage(req, deps.links),
          idempotencyKey: `${base}/L${req.level}`,
          channel: req.channel,
          ...(inPlace ? { replaceTs: inPlace.ts } : {}),
        });
        if (req.level > 0 && first) {
          await slack.postThreadReply({
            idempotencyKey: `${base}/L${req.level}/escalated`,
            channel: first.channel,
            threadTs: first.ts,
            text: escalationReplyText(req.group, inPlace ? null : posted.channel, req.deadline),
          });
        }
        return { channel: posted.channel, ts: posted.ts };
      });
    },

    /** Replaces the buttons with the outcome on every message of the conversation, and tells each thread. */
    async closeApprovalRequest(req: TApprovalClose): Promise<void> {
      return guarded(async () => {
        const slack = deps.integrations.slack;
        if (!slack) return;
        const last = req.decidedBy.at(-1);
        const approvals = req.outcome === 'approved' ? req.decidedBy : [];
        for (const m of uniqueMessages(req.messages)) {
          await slack.recordDecision({
            channel: m.channel,
            ts: m.ts,
            decision: req.outcome,
            ...(last && req.outcome !== 'timed_out' ? { decidedBy: last.id } : {}),
            decidedAt: req.at,
            approvals,
            ...(req.approvalsRequired !== undefined ? { required: req.approvalsRequired } : {}),
            ...(req.reason ? { reason: req.reason.slice(0, 1_000), note: req.reason.slice(0, 500) } : {}),
            threadKey: `${req.workflowId}/${req.stepId}/approval/${req.requestId ?? 'request'}/${req.outcome}/${m.channel}`,
          });
        }
      });
    },

    /** A partial approval: the tally updated in place on every message, and told in each thread. */
    async showApprovalProgress(req: TApprovalProgress): Promise<void> {
      return guarded(async () => {
        const slack = deps.integrations.slack;
        if (!slack || req.approvals.length === 0) return;
        for (const m of uniqueMessages(req.messages)) {
          await slack.recordProgress({
            channel: m.channel,
            ts: m.ts,
            approvals: req.approvals,
            required: req.required,
            at: req.at,
            threadKey: `${req.workflowId}/${req.stepId}/approval/${req.requestId}/progress/${req.approvals.length}/${m.channel}`,
          });
        }
      });
    },

    async escalate(req: TEscalation): Promise<void> {
      return guarded(async () => {
        const slack = deps.integrations.slack;
        if (!slack) throw new LoopwrightError('invalid_config', `cannot escalate to ${req.channel}: Slack is not configured`, { retryable: false });
        await slack.postMessage({ idempotencyKey: req.idempotencyKey, channel: req.channel, text: req.text });
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

const TIERS = ['free', 'standard', 'premium', 'enterprise', 'unknown'] as const;

/**
 * The ranking input of an issue: its evidence, and its segment profile from report metadata. Where
 * reports carried no platform or version metadata, the platforms and versions named in the text
 * stand in (each an equal share). Regions come from metadata only: text does not say them reliably.
 */
export function rankIssueFromRequest(req: TRootCauseRequest): TRankIssueInput {
  const norm = (kind: string) => req.evidence.filter((e) => e.kind === kind).map((e) => e.normalized);
  const profile = req.profile ?? { reports: 0, dims: {} };
  const dims = { ...profile.dims };
  const fromText = (values: string[]) => {
    const uniq = [...new Set(values)];
    return { reports: uniq.length, values: Object.fromEntries(uniq.map((v) => [v, 1])) };
  };
  // Named in text, not counted over reports: ranking takes their coverage as it is (listedDims).
  const listedDims: Array<'platforms' | 'versions'> = [];
  const textPlatforms = [...norm('os_version'), ...norm('device'), ...norm('browser')];
  if (!dims.platforms && textPlatforms.length > 0) {
    dims.platforms = fromText(textPlatforms);
    listedDims.push('platforms');
  }
  const textVersions = [...norm('app_version'), ...norm('os_version').filter((v) => /\d/.test(v))];
  if (!dims.versions && textVersions.length > 0) {
    dims.versions = fromText(textVersions);
    listedDims.push('versions');
  }
  return {
    category: req.category,
    firstSeen: new Date(req.firstSeen).toISOString(),
    spikeAt: new Date(req.spikeAt).toISOString(),
    evidence: [...new Set(req.evidence.map((e) => e.normalized))],
    segments: { versions: [], platforms: [], regions: [], tiers: req.tiers.filter((t): t is (typeof TIERS)[number] => (TIERS as readonly string[]).includes(t)) },
    profile: { ...profile, reports: Math.max(profile.reports, 1), dims },
    ...(listedDims.length > 0 ? { listedDims } : {}),
  };
}

/** Decisions the workflows audited, as Prometheus counters (after the append is durable). */
function recordDecisionMetrics(m: LoopwrightMetrics, events: readonly TAuditAppend[]): void {
  for (const e of events) {
    switch (e.kind) {
      case 'policy_verdict':
        if (e.payload.dryRun) break;
        m.countVerdict(e.payload.verdict);
        if (e.payload.verdict === 'allow') m.countAction('auto');
        if (e.payload.verdict === 'deny') m.countAction('denied');
        break;
      case 'approved':
        m.countApprovalDecision('approve', e.payload.via ?? 'unknown');
        m.countAction('approved');
        break;
      case 'rejected':
        m.countApprovalDecision('reject', e.payload.via ?? 'unknown');
        break;
      case 'approval_refused':
        m.countApprovalDecision('refused', (e.payload as { via?: 'slack' | 'cli' | 'api' }).via ?? 'unknown');
        break;
      case 'degraded':
        m.countDegraded(e.payload.component, e.payload.outcome);
        break;
      default:
        break;
    }
  }
}

function uniqueMessages(messages: readonly TApprovalMessageRef[]): TApprovalMessageRef[] {
  const seen = new Set<string>();
  return messages.filter((m) => m.ts && !seen.has(`${m.channel}/${m.ts}`) && seen.add(`${m.channel}/${m.ts}`));
}

/** The Slack approval request of a workflow's request: every sentence in words (approval-wording.ts). */
/** The approval request's bound on the previewed text (its schema's); longer texts are shown in part and say so. */
const PREVIEW_MAX = 20_000;

/** An IssueWorkflow's start input, as routing and moved reports start it (signal-with-start). */
export function issueWorkflowInput(fingerprint: TFingerprint, settings: Partial<TIssueSettings> | undefined, links: ActivityDeps['links'] = {}): TIssueWorkflowInput {
  return { fingerprint, ...(settings ? { settings } : {}), ...(links.publicUrl ? { publicUrl: links.publicUrl } : {}) };
}

export function approvalMessage(req: TApprovalRequest, links: ActivityDeps['links'] = {}): Omit<TSlackApprovalRequest, 'idempotencyKey' | 'channel'> {
  const tickets = TOUCHES_TICKETS[req.action.type] ? (req.issue.tickets ?? []) : [];
  const reach = { tickets: tickets.length, customers: Math.min(tickets.length, req.issue.customers) };
  const preview = customerFacingText(req.action);
  const escalatesTo = req.verdict.escalationChain[req.level];
  const title = req.issue.title ?? issueTitle(req.issue.category, req.issue.excerpt);
  const out: Array<{ label: string; url: string }> = [];
  if (req.issue.jiraUrl) out.push({ label: `Jira ${req.issue.jiraKey ?? 'issue'}`.slice(0, 60), url: req.issue.jiraUrl });
  if (links.zendeskUrl && tickets[0]) {
    const more = tickets.length > 1 ? ` and ${tickets.length - 1} more` : '';
    out.push({ label: `Zendesk #${tickets[0]}${more}`.slice(0, 60), url: `${links.zendeskUrl.replace(/\/+$/, '')}/agent/tickets/${encodeURIComponent(tickets[0])}` });
  }
  if (links.temporalUi) {
    out.push({
      label: 'Workflow in Temporal',
      url: `${links.temporalUi.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.temporalUi.namespace)}/workflows/${encodeURIComponent(req.workflowId)}`,
    });
  }
  return {
    workflowId: req.workflowId,
    stepId: req.stepId,
    question: approvalQuestion(req.action, req.issue.category, reach),
    issue: {
      title: title.slice(0, 500),
      category: req.issue.category,
      severity: req.issue.severity,
      reports: req.issue.occurrences,
      customers: req.issue.customers,
      tiers: (req.issue.tiers ?? []).slice(0, 10),
      ...(req.issue.predictedOutcome ? { outcome: outcomeInWords(req.issue.predictedOutcome) } : {}),
    },
    evidence: req.evidence.slice(0, 20).map((e) => `${e.kind}: ${e.normalized}`),
    hypotheses: req.hypotheses.slice(0, 5).map((h) => ({ title: h.title, confidence: Math.min(1, Math.max(0, h.score)), reasons: h.reasons.slice(0, 3) })),
    action: {
      type: req.action.type,
      summary: describeAction(req.action),
      reach: reachInWords(req.action, reach, req.issue.tiers),
      ...(preview
        ? {
            preview: {
              label: preview.label,
              text: preview.text.slice(0, PREVIEW_MAX),
              ...(preview.text.length > PREVIEW_MAX ? { fullLength: preview.text.length } : {}),
            },
          }
        : {}),
      irreversible: isIrreversible(req.action),
      risk: req.verdict.risk,
    },
    reasons: (req.verdict.reasons.length ? req.verdict.reasons : ['the policy asks a person']).slice(0, 10).map(reasonInWords),
    approvals: { required: req.verdict.approvalsRequired, given: (req.approvals ?? []).slice(0, 10) },
    group: req.group,
    level: req.level,
    links: out,
    expiresAt: req.deadline,
    ...(escalatesTo ? { escalatesTo } : {}),
  };
}

function describeAction(action: TApprovalRequest['action']): string {
  switch (action.type) {
    case 'jira.create_issue':
      return `Create ${action.issueType} in ${action.project}: ${action.summary}`;
    case 'jira.comment':
      return `Comment on ${action.issueKey}`;
    case 'jira.transition':
      return `Move ${action.issueKey} to ${action.transition}`;
    case 'slack.post_message':
      return `Post the message below to ${action.channel}`;
    case 'zendesk.add_tags':
      return `Tag affected tickets: ${action.tags.join(', ')}`;
    case 'zendesk.internal_note':
      return 'Add the internal note below to each affected ticket';
    case 'zendesk.public_reply':
      return 'Send the reply below to each affected ticket, as a public comment the customer receives by email';
    case 'zendesk.set_priority':
      return `Set affected tickets to ${action.priority} priority`;
  }
}

/**
 * The key of a decision event (`received`, `classified`, `evidence`; routing's `issue_folded` and
 * `report_adopted`): a readable label (the source; the model version; the fingerprint; the folded
 * issue; the adopted report's member key) and a digest of
 * what was taken in or decided. An identical retry re-sends the same
 * key (a duplicate); a different outcome gets its own. The caller leaves attempt-only fields out of
 * `decided` (token usage: an LLM retry that answers the same at another cost is the same decision).
 */
export function decisionEventKey(kind: 'received' | 'classified' | 'evidence' | 'folded' | 'adopted', label: string, decided: object): string {
  const digest = createHash('sha256').update(canonicalJson(decided)).digest('hex').slice(0, 16);
  return `${kind}:${label.slice(0, 120)}:${digest}`;
}
