// IssueWorkflow: one long-lived workflow per recurring problem, id `issue:<fingerprint>`.
// Occurrences arrive as signals (signal-with-start from FeedbackWorkflow's routing activity); the
// playbook's trigger decides when to act; a remediation round ranks hypotheses, runs the playbook
// through the policy gate, replies to customers, then sleeps through the verification window and
// either resolves or reopens. Continue-as-new at idle points carries the bounded state.
import {
  condition,
  continueAsNew,
  allHandlersFinished,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  countBetween,
  createTriggerCursor,
  detectTrigger,
  evaluateTrigger,
  highestSeverity,
  verifyRecurrence,
  type TIssueStatsState,
  type TIssueTrigger,
} from './domain/issue-stats.js';
import { selectPlaybook, type TLoadedPlaybook } from '../playbooks/schema.js';
import {
  approveSignal,
  closeSignal,
  occurrenceSignal,
  reclassifySignal,
  rejectSignal,
  SA,
  snoozeSignal,
  stateQuery,
  timelineQuery,
  ZOccurrence,
  type TIssueStatus,
} from './messages.js';
import { configureActions, recordAudit } from './issue/activities.js';
import { ApprovalDesk } from './issue/approval.js';
import { Journal, SYSTEM_ACTOR } from './issue/journal.js';
import { escalateToHumans, investigate, replyToCustomers, runPlaybookSteps, type TRoundContext } from './issue/remediation.js';
import {
  absorbOccurrence,
  DEFAULT_ISSUE_SETTINGS,
  initialIssueState,
  issueView,
  type TCarriedIssueState,
  type TIssueWorkflowInput,
} from './issue/state.js';

export type { TIssueWorkflowInput } from './issue/state.js';

export interface TIssueWorkflowResult {
  status: TIssueStatus;
  occurrences: number;
  remediations: number;
  jiraKey: string | null;
}

export async function IssueWorkflow(input: TIssueWorkflowInput): Promise<TIssueWorkflowResult> {
  const info = workflowInfo();
  const settings = { ...DEFAULT_ISSUE_SETTINGS, ...input.settings };
  configureActions(settings.actionTimeoutMs);
  const s: TCarriedIssueState = input.carried ?? initialIssueState(input.fingerprint);
  const journal = new Journal(info.workflowId, info.runId, info.firstExecutionRunId, s.journal);
  const desk = new ApprovalDesk(input.policy?.policy ?? null, journal);
  let fresh = 0;
  let closeRequest: { by: { id: string; name: string }; reason: string } | null = null;

  const flush = async () => {
    while (journal.hasPending) await recordAudit(journal.drain());
  };
  let publishedAttributes = '';
  const publish = () => {
    const attributes = {
      category: s.category,
      severity: highestSeverity(s.stats) ?? 'low',
      status: s.status,
      playbook: s.playbookVersion ?? 'none',
      customerTier: topTier(s.tiers),
    } as const;
    // Only on change: every upsert is a command and a history event, and occurrences arrive often.
    const key = JSON.stringify(attributes);
    if (key !== publishedAttributes) {
      publishedAttributes = key;
      upsertSearchAttributes((Object.keys(attributes) as Array<keyof typeof attributes>).map((k) => ({ key: SA[k], value: attributes[k] })));
    }
    const v = issueView(input.fingerprint, s, desk.pending());
    setCurrentDetails(
      `**${v.status}** · ${v.category} · max severity ${v.maxSeverity} · ${v.occurrences} reports from ${v.customers} customers` +
        (v.jiraKey ? ` · Jira ${v.jiraKey}` : '') +
        (v.pendingApprovals.length ? ` · waiting on ${v.pendingApprovals.map((p) => `${p.approverGroup} for ${p.stepId}`).join(', ')}` : '') +
        (s.hypotheses[0] ? ` · likely cause: ${s.hypotheses[0].title}` : ''),
    );
  };
  const setStatus = (status: TIssueStatus) => {
    s.status = status;
    publish();
  };

  setHandler(occurrenceSignal, (raw) => {
    const parsed = ZOccurrence.safeParse(raw);
    if (!parsed.success) {
      journal.note('occurrence_rejected', `malformed occurrence ignored: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    if (absorbOccurrence(s, parsed.data)) fresh += 1;
  });
  setHandler(approveSignal, (d) => desk.decide(d, 'approve'));
  setHandler(rejectSignal, (d) => desk.decide(d, 'reject'));
  setHandler(snoozeSignal, ({ minutes, by }) => {
    s.snoozedUntil = Date.now() + Math.max(1, minutes) * 60_000;
    journal.record({ kind: 'snoozed', actor: { type: 'user', id: by.id, displayName: by.name }, payload: { minutes, until: new Date(s.snoozedUntil).toISOString() } }, `${by.name} snoozed triggers for ${minutes} min`);
  });
  setHandler(closeSignal, (req) => {
    closeRequest = req;
  });
  setHandler(reclassifySignal, ({ category, by, reason }) => {
    const from = s.category;
    s.category = category;
    journal.record({ kind: 'reclassified', actor: { type: 'user', id: by.id, displayName: by.name }, payload: { from, to: category, ...(reason ? { reason } : {}) } }, `${by.name} reclassified ${from} → ${category}`);
    publish();
  });
  setHandler(stateQuery, () => issueView(input.fingerprint, s, desk.pending()));
  setHandler(timelineQuery, () => s.journal.timeline);

  if (!input.carried) {
    journal.note('opened', `issue ${input.fingerprint.key} opened (${input.fingerprint.features.join(', ')})`);
  }
  publish();

  for (;;) {
    const woke = await condition(() => fresh > 0 || closeRequest !== null, settings.idleCloseAfterMs);
    fresh = 0;
    if (closeRequest !== null) {
      const req: { by: { id: string; name: string }; reason: string } = closeRequest;
      journal.record({ kind: 'closed', actor: { type: 'user', id: req.by.id, displayName: req.by.name }, payload: { outcome: 'closed_by_user', summary: req.reason.slice(0, 3_900) } }, `closed by ${req.by.name}: ${req.reason}`);
      setStatus('closed');
      break;
    }
    if (!woke) {
      journal.record({ kind: 'closed', actor: SYSTEM_ACTOR, payload: { outcome: 'idle', summary: `no reports for ${Math.round(settings.idleCloseAfterMs / 3_600_000)} h` } }, 'closed after a quiet period');
      setStatus('closed');
      break;
    }
    publish();
    await maybeRemediate();
    await flush();
    const now = workflowInfo();
    if (now.continueAsNewSuggested || now.historyLength >= settings.continueAsNewAfterEvents) {
      await condition(allHandlersFinished);
      await flush();
      s.runs += 1;
      return continueAsNew<typeof IssueWorkflow>({ ...input, carried: s });
    }
  }
  await flush();
  await condition(allHandlersFinished);
  return { status: s.status, occurrences: s.stats.total, remediations: s.remediations, jiraKey: s.jiraKey };

  async function maybeRemediate(): Promise<void> {
    const now = Date.now();
    if (s.snoozedUntil !== null && now < s.snoozedUntil) return;
    const severity = highestSeverity(s.stats) ?? 'low';
    const selection = selectPlaybook(input.playbooks, { category: s.category, severity });
    if (!selection) return;
    let fired: { fired: boolean; reason: string };
    // Event time the trigger fired at: what root-cause ranking measures proximity to.
    let firedAt = now;
    if (patched('event-time-triggers')) {
      // Windows on when customers wrote (domain/issue-stats.ts): imports and backfills decide as live intake would.
      const cursors = (s.triggerCursors ??= {});
      const id = selection.selected.playbook.id;
      fired = detectTrigger(s.stats, selection.selected.playbook.trigger, cursors[id] ?? createTriggerCursor());
      const detection = fired as ReturnType<typeof detectTrigger>;
      cursors[id] = detection.cursor;
      if (!fired.fired) return;
      // The fired window's end on the bucket grid (or the severe report's time): the same event time
      // whether the reports arrived live or as a backfill.
      firedAt = detection.at ?? now;
    } else {
      const trigger = sinceLastRound(selection.selected.playbook.trigger, s.lastTriggeredAt, now);
      fired = evaluateTrigger(s.stats, trigger, now);
      if (!fired.fired || !enoughSinceLastRound(s.stats, trigger, s.lastTriggeredAt, now)) return;
    }

    s.lastTriggeredAt = now;
    s.remediations += 1;
    if (s.status === 'resolved' || s.status === 'reopened') {
      journal.record({ kind: 'reopened', actor: SYSTEM_ACTOR, payload: { reason: `trigger fired again: ${fired.reason}`.slice(0, 1_900), attempt: s.remediations, previousVerdict: s.status } }, `recurred after ${s.status}: ${fired.reason}`);
    }
    await remediate(selection.selected, selection.reason, fired.reason, firedAt);
  }

  async function remediate(loaded: TLoadedPlaybook, why: string, triggerReason: string, firedAt: number): Promise<void> {
    const ctx: TRoundContext = { workflowId: info.workflowId, fingerprint: input.fingerprint.key, loaded, policy: input.policy, state: s, journal, desk, round: s.remediations, flush, setStatus };
    s.playbookVersion = loaded.version;
    setStatus('investigating');
    journal.record(
      { kind: 'playbook_selected', actor: SYSTEM_ACTOR, payload: { playbookId: loaded.playbook.id, playbookVersion: loaded.version, playbookHash: loaded.contentHash, reason: `${why}; trigger: ${triggerReason}`.slice(0, 1_900) } },
      `playbook ${loaded.version} selected (${triggerReason})`,
    );
    await investigate(ctx, firedAt);
    setStatus('remediating');
    const ok = await runPlaybookSteps(ctx);
    const reply = loaded.playbook.customerReply;
    if (ok && reply?.when === 'on_trigger') await replyToCustomers(ctx, reply.template, settings.maxRepliesPerRound);
    await flush();

    const v = loaded.playbook.verification;
    const fixedAt = Date.now();
    setStatus('verifying');
    if (await condition(() => closeRequest !== null, v.windowMinutes * 60_000)) return;
    const result = verifyRecurrence(s.stats, { fixedAt, windowMinutes: v.windowMinutes, requiredDropRatio: v.requiredDropRatio, minBefore: v.minBefore, now: Date.now() });
    const hours = v.windowMinutes / 60;
    journal.record(
      {
        kind: 'verified',
        actor: SYSTEM_ACTOR,
        payload: { beforeRate: result.before / hours, afterRate: result.after / hours, ratio: result.ratio, verdict: result.verdict === 'insufficient_data' ? 'inconclusive' : result.verdict, windowHours: hours, samplesBefore: result.before, samplesAfter: result.after },
      },
      `verification: ${result.verdict} (${result.reason})`,
    );
    if (result.verdict === 'not_resolved') {
      journal.record({ kind: 'reopened', actor: SYSTEM_ACTOR, payload: { reason: result.reason.slice(0, 1_900), attempt: s.remediations, previousVerdict: 'verifying' } }, `reopened: ${result.reason}`);
      setStatus('reopened');
      await escalateToHumans(ctx, 'jira.comment', `reopen-r${ctx.round}`, `Issue ${info.workflowId} did not stop recurring after remediation (${result.reason}).`);
      if (s.jiraKey) await commentOnJira(ctx, `Loopwright verification failed: ${result.reason}. The issue is reopened and escalated.`);
      return;
    }
    setStatus(result.verdict === 'resolved' ? 'resolved' : 'watching');
    if (result.verdict === 'resolved' && reply?.when === 'on_resolved') await replyToCustomers(ctx, reply.template, settings.maxRepliesPerRound);
  }

  async function commentOnJira(ctx: TRoundContext, body: string): Promise<void> {
    const step = { id: `verification-comment-r${ctx.round}`, action: { type: 'jira.comment' as const, issueKey: s.jiraKey as string, body } };
    await runPlaybookSteps({ ...ctx, loaded: { ...ctx.loaded, playbook: { ...ctx.loaded.playbook, steps: [step] } } });
  }
}

const TIER_ORDER = ['unknown', 'free', 'standard', 'premium', 'enterprise'];
function topTier(tiers: string[]): string {
  return tiers.reduce((best, t) => (TIER_ORDER.indexOf(t) > TIER_ORDER.indexOf(best) ? t : best), 'unknown');
}

/** Volume triggers re-fire only on as many new reports as the first firing needed. */
function enoughSinceLastRound(stats: TIssueStatsState, trigger: TIssueTrigger, lastTriggeredAt: number | null, now: number): boolean {
  if (lastTriggeredAt === null || trigger.kind === 'severity') return true;
  const needed = trigger.kind === 'count' ? trigger.threshold : trigger.minCount;
  return countBetween(stats, lastTriggeredAt, now + 1).count >= needed;
}

/** After a round, only what happened since it may fire the trigger again. */
function sinceLastRound(trigger: TIssueTrigger, lastTriggeredAt: number | null, now: number): TIssueTrigger {
  if (lastTriggeredAt === null || trigger.kind !== 'severity') return trigger;
  const sinceMinutes = Math.max(1, Math.floor((now - lastTriggeredAt) / 60_000));
  return { ...trigger, windowMinutes: Math.min(trigger.windowMinutes ?? sinceMinutes, sinceMinutes) };
}
