// IssueWorkflow: one long-lived workflow per recurring problem, id `issue:<fingerprint>`.
// Occurrences arrive in batches (signal-with-start from the routing activity); the playbook's
// trigger decides when to act; a remediation round (round.ts) runs with the policy and playbooks
// loaded when it starts. Humans talk to it through Updates with validators. It continues as new
// whenever Temporal suggests it or the run's history or signal count says so, at any point of a
// round: the round's state is carried and resumed (safe-message-handlers pattern).
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  deprecatePatch,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { createTriggerCursor, detectTrigger, highestSeverity } from './domain/issue-stats.js';
import { selectPlaybook, selectPlaybooks, type TPlaybookSelection } from '../playbooks/schema.js';
import { createPageMemory, decideRepage } from './domain/paging.js';
import type { TSeverityLevel } from './domain/triage.js';
import {
  absorbIssueSignal,
  approveUpdate,
  closeUpdate,
  issueWorkflowId,
  mergeUpdate,
  splitUpdate,
  occurrenceSignal,
  occurrencesSignal,
  parseOccurrence,
  reclassifyUpdate,
  rejectUpdate,
  SA,
  snoozeUpdate,
  stateQuery,
  timelineQuery,
  ZCloseCommand,
  ZMergeCommand,
  ZSplitCommand,
  ZReclassifyCommand,
  ZSnoozeCommand,
  type TCommandRefusal,
  type TIssueStatus,
  type TOccurrence,
  type TSplitCommand,
} from './messages.js';
import {
  absorbIntoIssue,
  configureActions,
  findIssueReports,
  loadIssueConfig,
  recordAudit,
  sendOccurrences,
  type TIssueConfig,
} from './issue/activities.js';
import {
  absorbedIssue,
  absorbIssue,
  removeSplit,
  reportTrailIds,
  selectForSplit,
  WOULD_EMPTY,
  type TSplitSelection,
} from './issue/merge-split.js';
import { ApprovalDesk } from './issue/approval.js';
import { currentDetails, roundShown } from './issue/details.js';
import * as ev from './issue/audit-payloads.js';
import { Journal } from './issue/journal.js';
import { runRound } from './issue/round.js';
import { RoundInterrupted, type TRoundContext, type TRoundState } from './issue/round-state.js';
import {
  absorbOccurrences,
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
  /** The survivor, when this issue ended merged into another. */
  mergedInto?: string;
}

function refuse(code: TCommandRefusal, message: string): never {
  throw ApplicationFailure.create({ type: code, nonRetryable: true, message });
}

/** An Update validator that checks the command against its schema. */
function schemaValidator(schema: {
  safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}) {
  return (cmd: unknown): void => {
    const parsed = schema.safeParse(cmd);
    if (parsed.success) return;
    const message = (parsed.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw ApplicationFailure.create({ type: 'invalid_command', nonRetryable: true, message });
  };
}

export async function IssueWorkflow(input: TIssueWorkflowInput): Promise<TIssueWorkflowResult> {
  const info = workflowInfo();
  const settings = { ...DEFAULT_ISSUE_SETTINGS, ...input.settings };
  configureActions(settings.actionTimeoutMs);
  const s: TCarriedIssueState = input.carried ?? initialIssueState(input.fingerprint);
  const journal = new Journal(info.workflowId, info.runId, info.firstExecutionRunId, s.journal);
  const desk: ApprovalDesk = new ApprovalDesk(
    () => s.pageRound ?? s.round,
    journal,
    () => refreshDetails(),
  );
  let signalsThisRun = 0;
  // A merge or split in flight (its activity is running): another one waits. Not carried: handlers
  // finish before the run continues as new.
  let busy = false;
  let merging = false;
  let config: { value: TIssueConfig; at: number } | null = null;

  // One flush at a time (the main loop and the merge/split handlers both flush): events reach the
  // audit store in their journal order.
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    const run = flushing.then(async () => {
      while (journal.hasPending) await recordAudit(journal.drain());
    });
    flushing = run.catch(() => undefined);
    return run;
  };
  const shouldContinueAsNew = () => {
    const now = workflowInfo();
    return (
      now.continueAsNewSuggested ||
      now.historyLength >= settings.continueAsNewAfterEvents ||
      signalsThisRun >= settings.continueAsNewAfterSignals
    );
  };
  const interrupted = () => s.closeRequest !== null || !!s.mergedInto || shouldContinueAsNew();

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
      upsertSearchAttributes(
        (Object.keys(attributes) as Array<keyof typeof attributes>).map((k) => ({ key: SA[k], value: attributes[k] })),
      );
    }
    refreshDetails();
  };
  function refreshDetails(): void {
    setCurrentDetails(
      currentDetails(issueView(input.fingerprint, s, desk.pending()), s, roundShown(s), Date.now(), {
        workflowId: info.workflowId,
        ...(input.publicUrl ? { publicUrl: input.publicUrl } : {}),
      }),
    );
  }
  const setStatus = (status: TIssueStatus) => {
    s.status = status;
    publish();
  };

  const absorb = (raw: unknown[]) => {
    signalsThisRun += 1;
    const valid: TOccurrence[] = [];
    for (const item of raw) {
      const parsed = parseOccurrence(item);
      // Fields from a newer intake are dropped, not a reason to lose the report (patched: older runs rejected it).
      if (parsed.ok && (parsed.ignored.length === 0 || patched('tolerant-occurrences'))) {
        valid.push(parsed.value);
        noteIgnoredFields(parsed.ignored);
      } else
        journal.note(
          'occurrence_rejected',
          `malformed occurrence ignored: ${parsed.ok ? `unknown fields ${parsed.ignored.join(', ')}` : parsed.message}`,
        );
    }
    // Merged (or merging): the survivor gets them (forwardReports); a failed merge absorbs them here.
    if (s.mergedInto || merging) (s.forwardQueue ??= []).push(...valid);
    else s.fresh += absorbOccurrences(s, valid, { counts: countSegments(valid) });
  };
  // Ranking's chance test counts reports, not decayed weights: the profile also counts them by event
  // time (patched: older runs keep the weights alone; asked only when a report carries segments).
  const countSegments = (occs: readonly TOccurrence[]) => occs.some((o) => o.segments) && patched('segment-counts');
  const ignoredFields = new Set<string>();
  /** Once per run and field: a newer intake sends the same field with every report. */
  const noteIgnoredFields = (fields: string[]) => {
    const fresh = fields.filter((f) => !ignoredFields.has(f));
    if (fresh.length === 0) return;
    fresh.forEach((f) => ignoredFields.add(f));
    journal.note('occurrence_fields_ignored', `fields this build does not know were ignored: ${fresh.join(', ')}`);
  };
  setHandler(occurrenceSignal, (occ) => absorb([occ]));
  setHandler(occurrencesSignal, (batch) => absorb(Array.isArray(batch) ? batch : [batch]));

  setHandler(absorbIssueSignal, (a) => {
    signalsThisRun += 1;
    if (s.mergedFrom?.some((m) => m.from === a.from)) return;
    // The absorbed issue's segment profile joins the survivor's (before: ranking saw only the survivor's).
    const r = absorbIssue(s, a, { segments: !!a.segmentProfile && patched('merge-segment-profile') });
    journal.add(ev.absorbed(a, r.added, r.overlap));
    s.fresh += Math.max(1, r.added);
    publish();
  });
  /** Refuses operator commands on an issue that was merged away, is closing, or is mid-merge/split. */
  const checkOpen = () => {
    if (s.mergedInto) refuse('merged', `this issue was merged into ${s.mergedInto.into}`);
    if (s.closeRequest || s.status === 'closed') refuse('closed', 'the issue is closed or closing');
    if (busy) refuse('busy', 'a merge or split of this issue is in progress; try again in a moment');
  };

  setHandler(approveUpdate, (d) => desk.decide(d, 'approve'), { validator: (d) => desk.validate(d, 'approve') });
  setHandler(rejectUpdate, (d) => desk.decide(d, 'reject'), { validator: (d) => desk.validate(d, 'reject') });
  // Snooze, close and reclassify are audited when accepted: the Update completes once the event is
  // stored (patched prompt-operator-audit; before, the event waited for the loop's next wake-up,
  // which for a snooze or a reclassify could be the next report, days later). The event key is the
  // journal's (chain id + counter), so a retried audit activity writes it once.
  const auditNow = async (): Promise<void> => {
    if (patched('prompt-operator-audit')) await flush();
  };
  setHandler(
    closeUpdate,
    async (cmd) => {
      s.closeRequest = { ...cmd, at: Date.now() };
      const result = {
        status: 'closing' as const,
        cancelledStep: s.round?.current?.stepId ?? (s.round ? s.round.phase : null),
      };
      if (patched('prompt-operator-audit')) {
        s.closeRequest.audited = true;
        journal.add(ev.closedByUser(s.closeRequest, (s.pageRound ?? s.round)?.current?.stepId ?? null));
        await flush();
      }
      return result;
    },
    {
      validator: (cmd) => {
        schemaValidator(ZCloseCommand)(cmd);
        if (s.mergedInto) refuse('merged', `this issue was merged into ${s.mergedInto.into}`);
        if (s.closeRequest)
          throw ApplicationFailure.create({
            type: 'closed',
            nonRetryable: true,
            message: 'the issue is already closing',
          });
      },
    },
  );
  setHandler(
    snoozeUpdate,
    async ({ minutes, by }) => {
      const until = Date.now() + minutes * 60_000;
      s.snoozedUntil = until;
      journal.add(ev.snoozed(by, minutes, until));
      await auditNow();
      return { until: new Date(until).toISOString() };
    },
    {
      validator: (cmd) => {
        schemaValidator(ZSnoozeCommand)(cmd);
        if (s.mergedInto) refuse('merged', `this issue was merged into ${s.mergedInto.into}`);
      },
    },
  );
  setHandler(
    reclassifyUpdate,
    async (cmd) => {
      const from = s.category;
      s.category = cmd.category;
      journal.add(ev.reclassified(cmd, from));
      publish();
      await auditNow();
      return { from, to: cmd.category };
    },
    {
      validator: (cmd) => {
        schemaValidator(ZReclassifyCommand)(cmd);
        if (s.mergedInto) refuse('merged', `this issue was merged into ${s.mergedInto.into}`);
      },
    },
  );
  // Merge: hand this issue's state to the survivor (a signal through an activity), then forward
  // every later report there (forwardReports) until the issue has been quiet for idleCloseAfterMs.
  setHandler(
    mergeUpdate,
    async (cmd) => {
      patched('operator-merge-split');
      busy = true;
      merging = true;
      const cancelledStep = s.round?.current?.stepId ?? (s.round ? s.round.phase : null);
      const snapshot = absorbedIssue(info.workflowId, s, cmd, Date.now());
      try {
        const { delivered } = await absorbIntoIssue({ workflowId: cmd.into, absorbed: snapshot });
        if (!delivered) refuse('unknown_issue', `${cmd.into} does not exist or no longer runs`);
        s.mergedInto = { into: cmd.into, by: cmd.by, reason: cmd.reason, at: Date.now() };
        journal.add(ev.merged(cmd, snapshot.stats.total, cancelledStep));
        setStatus('merged');
        await flush();
        return { status: 'merged', into: cmd.into, reports: snapshot.stats.total, cancelledStep };
      } finally {
        busy = false;
        merging = false;
        if (!s.mergedInto && s.forwardQueue?.length) {
          const queued = s.forwardQueue.splice(0);
          s.fresh += absorbOccurrences(s, queued, { counts: countSegments(queued) });
        }
      }
    },
    {
      validator: (cmd) => {
        schemaValidator(ZMergeCommand)(cmd);
        if ((cmd as { into: string }).into === info.workflowId)
          refuse('same_issue', 'an issue cannot be merged into itself');
        checkOpen();
      },
    },
  );
  // Split: the selected reports leave this issue's counts and start (or join) a new issue.
  setHandler(
    splitUpdate,
    async (cmd) => {
      patched('operator-merge-split');
      busy = true;
      try {
        // Any report the issue holds, not only its last MAX_MEMBERS (patched split-any-report).
        const selection: TSplitSelection & { archived?: TOccurrence[] } =
          cmd.feedbackIds && patched('split-any-report')
            ? await selectAnyReports(cmd.feedbackIds)
            : selectForSplit(s, cmd);
        if (!selection.ok) refuse(selection.code, selection.message);
        const category = cmd.category ?? s.category;
        const key = `${category}.${uuid4().replace(/-/g, '').slice(0, 12)}`;
        const id = issueWorkflowId(key);
        const moved = selection.occurrences.map((o) => ({ ...o, category }));
        removeSplit(s, moved, selection.archived ?? []);
        await sendOccurrences({
          workflowId: id,
          fingerprint: {
            key,
            category,
            features: [`split from ${info.workflowId}`],
            version: input.fingerprint.version,
          },
          occurrences: moved,
        });
        // Links on the moved reports' trails: a Zendesk follow-up then routes to the new issue.
        if (patched('split-records-moves')) await recordMoves(moved, key, cmd.by);
        (s.splitInto ??= []).push({ issue: id, by: cmd.by, at: new Date().toISOString(), reports: moved.length });
        journal.add(ev.split(cmd, id, category, moved.length, s.stats.total));
        publish();
        await flush();
        return { issue: id, moved: moved.length, remaining: s.stats.total };
      } finally {
        busy = false;
      }
    },
    {
      validator: (cmd) => {
        schemaValidator(ZSplitCommand)(cmd);
        checkOpen();
        const split = cmd as TSplitCommand;
        // Reports beyond the recent ones are looked up by the handler (an activity); only the count is known here.
        if (split.feedbackIds) {
          const ids = new Set(split.feedbackIds);
          const recent = new Set((s.members ?? []).map((m) => m.feedbackId));
          // An id not in memory may be unknown: the handler says so before it counts.
          if (ids.size >= s.stats.total && [...ids].every((id) => recent.has(id))) refuse('would_empty', WOULD_EMPTY);
          return;
        }
        const selection = selectForSplit(s, split);
        if (!selection.ok) refuse(selection.code, selection.message);
      },
    },
  );
  const ownKey = info.workflowId.slice('issue:'.length);
  /**
   * The reports a split by message id moves: the recent ones from memory, older ones rebuilt from
   * their audit trails when this issue (or one merged into it) still holds them.
   */
  async function selectAnyReports(ids: string[]): Promise<TSplitSelection & { archived?: TOccurrence[] }> {
    const members = new Map((s.members ?? []).map((m) => [m.feedbackId, m]));
    const unique = [...new Set(ids)];
    const older = unique.filter((id) => !members.has(id));
    let archived: TOccurrence[] = [];
    if (older.length > 0) {
      const issueKeys = [ownKey, ...(s.mergedFrom ?? []).map((m) => m.from.slice('issue:'.length))];
      const found = await findIssueReports({ issueKeys, feedbackIds: older });
      if (found.missing.length > 0) {
        const n = found.missing.length;
        return {
          ok: false,
          code: 'unknown_messages',
          message: `not reports this issue holds (never routed here, moved away, or unknown to the audit store): ${found.missing.slice(0, 5).join(', ')}${n > 5 ? ` and ${n - 5} more` : ''}`,
        };
      }
      archived = found.found;
    }
    if (unique.length >= s.stats.total) return { ok: false, code: 'would_empty', message: WOULD_EMPTY };
    // In the order asked for: the first names the new issue (its title's excerpt).
    const byId = new Map([...members, ...archived.map((o) => [o.feedbackId, o] as const)]);
    return { ok: true, occurrences: unique.map((id) => byId.get(id)!), archived };
  }
  /** One link per moved report's trail, and per ticket that left with its reports; 100 per audit call. */
  async function recordMoves(moved: readonly TOccurrence[], toKey: string, by: TSplitCommand['by']): Promise<void> {
    const keptTickets = new Set((s.members ?? []).flatMap((m) => (m.ticketId ? [m.ticketId] : [])));
    const trails = new Set<string>();
    for (const o of moved) {
      const [own, ticket] = reportTrailIds(o);
      trails.add(own!);
      if (ticket && !keptTickets.has(o.ticketId!)) trails.add(ticket);
    }
    const events = [...trails].map((t) => ev.reportMoved(t, info.runId, ownKey, toKey, by));
    for (let i = 0; i < events.length; i += 100) await recordAudit(events.slice(i, i + 100));
  }

  setHandler(stateQuery, () => issueView(input.fingerprint, s, desk.pending()));
  setHandler(timelineQuery, () => s.journal.timeline);

  if (!input.carried)
    journal.note('opened', `issue ${input.fingerprint.key} opened (${input.fingerprint.features.join(', ')})`);
  publish();

  const roundContext = (round: TRoundState): TRoundContext => ({
    workflowId: info.workflowId,
    chainId: info.firstExecutionRunId,
    fingerprint: input.fingerprint.key,
    state: s,
    round,
    journal,
    desk,
    settings,
    flush,
    setStatus,
    refreshDetails,
    async wait(pred, timeoutMs) {
      const done = timeoutMs > 0 ? await condition(() => pred() || interrupted(), timeoutMs) : pred();
      if (pred()) return true;
      if (s.closeRequest || s.mergedInto) throw new RoundInterrupted('close');
      if (shouldContinueAsNew()) throw new RoundInterrupted('continue_as_new');
      return done;
    },
    checkpoint() {
      if (s.closeRequest || s.mergedInto) throw new RoundInterrupted('close');
      if (shouldContinueAsNew()) throw new RoundInterrupted('continue_as_new');
    },
    // A page round does not page again while it runs; the round it interrupted does.
    ...(round.pageDuring === undefined ? { pageDuringVerification } : {}),
  });

  let forwardingEnded = false;
  for (;;) {
    if (s.round && !s.closeRequest && !s.mergedInto) {
      const end = await runRound(roundContext(s.round));
      await flush();
      if (end === 'suspended') break;
      s.round = end === 'done' ? null : s.round;
    }
    if (s.mergedInto) {
      s.round = null;
      s.pageRound = null;
      forwardingEnded = (await forwardReports(s.mergedInto.into)) === 'idle';
      break;
    }
    if (s.closeRequest) {
      if (!s.closeRequest.audited)
        journal.add(ev.closedByUser(s.closeRequest, (s.pageRound ?? s.round)?.current?.stepId ?? null));
      s.round = null;
      s.pageRound = null;
      setStatus('closed');
      break;
    }
    if (shouldContinueAsNew()) break;
    const woke = await condition(
      () => s.fresh > 0 || s.closeRequest !== null || !!s.mergedInto || shouldContinueAsNew(),
      settings.idleCloseAfterMs,
    );
    if (s.closeRequest || s.mergedInto || shouldContinueAsNew()) continue;
    if (!woke) {
      journal.add(ev.closedIdle(settings.idleCloseAfterMs));
      setStatus('closed');
      break;
    }
    s.fresh = 0;
    publish();
    await maybeStartRound();
    await flush();
  }

  await flush();
  await condition(allHandlersFinished);
  // A report that reached a merged issue at its very end is forwarded by the next run.
  if (forwardingEnded && (s.forwardQueue?.length ?? 0) > 0) forwardingEnded = false;
  if (s.status !== 'closed' && !forwardingEnded) {
    await flush();
    s.runs += 1;
    return continueAsNew<typeof IssueWorkflow>({
      fingerprint: input.fingerprint,
      ...(input.settings ? { settings: input.settings } : {}),
      ...(input.publicUrl ? { publicUrl: input.publicUrl } : {}),
      carried: s,
    });
  }
  return {
    status: s.status,
    occurrences: s.stats.total,
    remediations: s.remediations,
    jiraKey: s.jiraKey,
    ...(s.mergedInto ? { mergedInto: s.mergedInto.into } : {}),
  };

  /**
   * A merged issue keeps its workflow id as the redirect: every report routing still sends here
   * (its fingerprint, or similarity to its reports) goes to the survivor, in batches, until nothing
   * has arrived for idleCloseAfterMs; then the run ends with status `merged`.
   */
  async function forwardReports(into: string): Promise<'idle' | 'continue_as_new'> {
    const key = into.slice('issue:'.length);
    const fingerprint = {
      key,
      category: key.split('.')[0]!,
      features: [`merged from ${info.workflowId}`],
      version: input.fingerprint.version,
    };
    for (;;) {
      const queue = (s.forwardQueue ??= []);
      if (queue.length > 0) {
        const batch = queue.slice(0, 100);
        await sendOccurrences({ workflowId: into, fingerprint, occurrences: batch });
        queue.splice(0, batch.length);
        journal.note('forwarded', `${batch.length} report${batch.length === 1 ? '' : 's'} forwarded to ${into}`);
        continue;
      }
      await flush();
      if (shouldContinueAsNew()) return 'continue_as_new';
      if (
        !(await condition(() => (s.forwardQueue?.length ?? 0) > 0 || shouldContinueAsNew(), settings.idleCloseAfterMs))
      )
        return 'idle';
    }
  }

  async function currentConfig(maxAgeMs: number): Promise<TIssueConfig> {
    if (!config || Date.now() - config.at >= maxAgeMs) config = { value: await loadIssueConfig(), at: Date.now() };
    return config.value;
  }

  async function maybeStartRound(): Promise<void> {
    const now = Date.now();
    if (s.snoozedUntil !== null && now < s.snoozedUntil) return;
    const issue = { category: s.category, severity: highestSeverity(s.stats) ?? 'low' };
    if (patched('compose-playbooks')) return maybeStartComposedRound(issue, now);
    const candidate = selectPlaybook((await currentConfig(settings.configMaxAgeMs)).playbooks, issue);
    if (!candidate) return;
    // Triggers judge event time (when customers wrote): imports and backfills decide as live intake would.
    deprecatePatch('event-time-triggers');
    const cursors = (s.triggerCursors ??= {});
    const id = candidate.selected.playbook.id;
    const fired = detectTrigger(s.stats, candidate.selected.playbook.trigger, cursors[id] ?? createTriggerCursor());
    cursors[id] = fired.cursor;
    if (!fired.fired) return;

    // The round runs with the policy and playbooks as they are now, not as they were at start.
    const fresh = await currentConfig(0);
    const selection = selectPlaybook(fresh.playbooks, issue);
    if (!selection) return;
    s.round = startRound(
      selection,
      fresh.policy,
      fired.reason,
      `${selection.reason}; trigger: ${fired.reason}`,
      fired.at ?? now,
      now,
    );
  }

  /**
   * Called by a verifying round (patched page-while-verifying) when reports arrived since `seen`:
   * a severity playbook that fires (and decideRepage lets act) runs its page round at once instead
   * of waiting for the verification window. A page round carried by a continue-as-new is resumed.
   */
  async function pageDuringVerification(seen: number): Promise<void> {
    if (!s.pageRound) {
      const now = Date.now();
      if (s.fresh <= seen || (s.snoozedUntil !== null && now < s.snoozedUntil)) return;
      await maybeStartComposedRound(
        { category: s.category, severity: highestSeverity(s.stats) ?? 'low' },
        now,
        'pageRound',
      );
      if (!s.pageRound) return;
    }
    const end = await runRound(roundContext(s.pageRound));
    await flush();
    if (end === 'suspended') throw new RoundInterrupted('continue_as_new');
    s.pageRound = null;
    if (end === 'cancelled') throw new RoundInterrupted('close');
  }

  /**
   * Several playbooks apply (selectPlaybooks: the severity class first, so a critical report pages
   * even when the category has its own volume playbook); each keeps its own trigger cursor and page
   * memory. A firing on an issue that has not changed since that playbook last acted (same severity,
   * same episode, no snooze ended) is audited as repage_suppressed instead of paging again.
   */
  async function maybeStartComposedRound(
    issue: { category: string; severity: TSeverityLevel },
    now: number,
    slot: 'round' | 'pageRound' = 'round',
  ): Promise<void> {
    // During another round's verification only severity pages may start (as that round's page round).
    const candidates = selectPlaybooks((await currentConfig(settings.configMaxAgeMs)).playbooks, issue).filter(
      (c) => slot === 'round' || c.selected.playbook.trigger.kind === 'severity',
    );
    const cursors = (s.triggerCursors ??= {});
    const memory = (s.pageMemory ??= {});
    for (const candidate of candidates) {
      const pb = candidate.selected.playbook;
      const fired = detectTrigger(s.stats, pb.trigger, cursors[pb.id] ?? createTriggerCursor());
      cursors[pb.id] = fired.cursor;
      if (!fired.fired) continue;
      const at = fired.at ?? now;
      // The snooze end is on the workflow clock, the firing on event time: equal for live intake.
      const snoozeEndedAt = s.snoozedUntil !== null && s.snoozedUntil <= now ? s.snoozedUntil : null;
      const page = decideRepage(s.stats, memory[pb.id] ?? createPageMemory(), {
        trigger: pb.trigger,
        at,
        severity: issue.severity,
        snoozeEndedAt,
        resolvedSinceLastRound: s.status === 'resolved',
      });
      memory[pb.id] = page.memory;
      if (!page.act) {
        journal.add(ev.repageSuppressed(pb.id, candidate.selected.version, page.reason, page.memory.suppressed, at));
        continue;
      }
      const fresh = await currentConfig(0);
      const selection = selectPlaybooks(fresh.playbooks, issue).find((x) => x.selected.playbook.id === pb.id);
      if (!selection) continue;
      const round = startRound(
        selection,
        fresh.policy,
        fired.reason,
        `${selection.reason}; trigger: ${fired.reason}; page: ${page.reason}`,
        at,
        now,
      );
      if (slot === 'pageRound' && s.round) s.pageRound = { ...round, pageDuring: s.round.n };
      else s.round = round;
      return;
    }
  }

  function startRound(
    selection: TPlaybookSelection,
    policy: TIssueConfig['policy'],
    firedReason: string,
    why: string,
    firedAt: number,
    now: number,
  ): TRoundState {
    s.lastTriggeredAt = now;
    s.remediations += 1;
    const recurrence = s.resolvedInRound !== null;
    if (s.status === 'resolved' || s.status === 'reopened')
      journal.add(ev.recurred(firedReason, s.remediations, s.status));
    s.playbookVersion = selection.selected.version;
    journal.add(ev.playbookSelected(selection.selected, policy, why));
    return {
      n: s.remediations,
      playbook: selection.selected,
      policy,
      phase: 'investigate',
      // The fired window's end on the bucket grid (or the severe report's time): the same event
      // time whether the reports arrived live or as a backfill.
      firedAt,
      step: 0,
      outputs: {},
      completed: [],
      failed: false,
      current: null,
      verify: null,
      verdict: null,
      recurrence,
    };
  }
}

const TIER_ORDER = ['unknown', 'free', 'standard', 'premium', 'enterprise'];
function topTier(tiers: string[]): string {
  return tiers.reduce((best, t) => (TIER_ORDER.indexOf(t) > TIER_ORDER.indexOf(best) ? t : best), 'unknown');
}
