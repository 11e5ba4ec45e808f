// Shadow replay: past feedback through one configuration (taxonomy + model, policy, playbooks) with
// every side effect disabled. Each message goes through the triage pipeline the triage activity runs
// (mask, classify, severity, fragments, fingerprints), is routed by routing.ts `planRoutes` (what the
// routing activity signals), folded into its issue's state by the IssueWorkflow's own
// `absorbOccurrences`, and judged as the workflow's maybeStartComposedRound judges it: the playbooks
// composed per issue (`selectPlaybooks`: severity class first, then volume), each with its event-time
// `detectTrigger` cursor and its `decideRepage` page memory (a re-firing in the same episode is
// counted as suppressed, not planned). A firing becomes a planned round (round-plan.ts): rendered
// steps and policy verdicts, nothing executed. Not replayed: verification outcomes and snoozes (a
// replay never knows whether the fix held), so the re-page rules that depend on them never act here.
// Time is event time, as in the workflow's triggers: an issue whose round fired is busy until the
// playbook's verification window has passed in event time, then its triggers are judged again from
// where their cursors stopped. Rate limits count the automatic actions this replay would have run.
// Must not: append to the audit store, signal or start a workflow, call Jira/Slack/Zendesk or an LLM.
// The only I/O is the classifier the caller passes (the offline model: no network).
import { TOUCHES_TICKETS } from '../../playbooks/actions.js';
import { selectPlaybooks, type TLoadedPlaybook, type TPlaybookSelection } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { affectedCustomerCount, createTriggerCursor, detectTrigger, highestSeverity } from '../../workflows/domain/issue-stats.js';
import { feedbackWorkflowId, type TFeedbackItemInput } from '../../workflows/domain/feedback.js';
import { createPageMemory, decideRepage, type TPageMemory } from '../../workflows/domain/paging.js';
import type { TFingerprint, TTriageResult } from '../../workflows/domain/triage.js';
import { NEEDS_REVIEW } from '../../workflows/domain/triage.js';
import { absorbOccurrences, initialIssueState, type TCarriedIssueState } from '../../workflows/issue/state.js';
import type { TOccurrence } from '../../workflows/messages.js';
import { parentFeedbackId, planRoutes } from '../routing.js';
import type { TriagePipeline } from '../triage/pipeline.js';
import { planRound, type TRoundPlan } from './round-plan.js';

/** One message to replay. The text is the masked text: the audit store never holds the original. */
export interface TReplayMessage {
  item: TFeedbackItemInput & { source: string; externalId: string; receivedAt: string };
  /** What the audit store recorded for it, when the replay reads the store. */
  recorded?: TRecordedClassification;
}

export interface TRecordedClassification {
  category: string;
  confidence: number;
  source: 'local' | 'llm';
  taxonomyVersion: string;
  modelVersion: string;
  /** Issue workflow ids the message was linked to. */
  issues: string[];
}

export interface TShadowConfiguration {
  pipeline: TriagePipeline;
  policy: TLoadedPolicy | null;
  playbooks: TLoadedPlaybook[];
  maxRepliesPerRound?: number;
}

export interface TMessageVerdict {
  feedbackId: string;
  category: string;
  confidence: number;
  severity: string;
  /** Issue workflow ids its fragments would be routed to (none for needs_review or flagged input). */
  issues: string[];
}

export interface TIssueReplay {
  issueWorkflowId: string;
  fingerprint: string;
  category: string;
  severity: string;
  occurrences: number;
  customers: number;
  tickets: number;
  /** Feedback ids (`source:externalId`) routed here. */
  messages: string[];
  /** The playbooks composed for the issue as it stood at the end of the replay (severity class first), joined by " + ". */
  playbook: string | null;
  rounds: TRoundPlan[];
  /** Firings the re-page rule held back (same episode as the playbook's last round). */
  suppressed: number;
}

export interface TReplayOutcome {
  taxonomyVersion: string;
  modelVersion: string;
  policy: string;
  policyHash: string | null;
  playbooks: Array<{ version: string; contentHash: string }>;
  messages: Map<string, TMessageVerdict>;
  issues: Map<string, TIssueReplay>;
  failed: Array<{ feedbackId: string; error: string }>;
}

export type TTriaged = Map<string, { result: TTriageResult } | { error: string }>;

export function feedbackIdOf(m: TReplayMessage): string {
  return `${m.item.source}:${m.item.externalId}`;
}

/** Triage every message with the pipeline (sync when the model allows it: no promise per message). */
export async function triageAll(pipeline: TriagePipeline, messages: readonly TReplayMessage[]): Promise<TTriaged> {
  const out: TTriaged = new Map();
  for (const m of messages) {
    try {
      out.set(feedbackIdOf(m), { result: pipeline.triageSync ? pipeline.triageSync(m.item) : await pipeline.triage(m.item) });
    } catch (e) {
      out.set(feedbackIdOf(m), { error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

interface IssueSim {
  id: string;
  fingerprint: TFingerprint;
  state: TCarriedIssueState;
  messages: Set<string>;
  cursors: Record<string, ReturnType<typeof createTriggerCursor>>;
  memory: Record<string, TPageMemory>;
  suppressed: number;
  busyUntil: number;
  rounds: TRoundPlan[];
}

/**
 * The workflow's maybeStartComposedRound on a replayed issue: the first composed playbook whose
 * trigger fires and whose re-page rule says act starts the round; cursors and page memories advance
 * as they do there (a playbook after the one that starts is not judged until the next report).
 */
function composedFiring(sim: IssueSim, playbooks: TLoadedPlaybook[], now: number): { selection: TPlaybookSelection; reason: string; at: number } | null {
  const s = sim.state;
  const issue = { category: s.category, severity: highestSeverity(s.stats) ?? 'low' };
  for (const candidate of selectPlaybooks(playbooks, issue)) {
    const pb = candidate.selected.playbook;
    const fired = detectTrigger(s.stats, pb.trigger, sim.cursors[pb.id] ?? createTriggerCursor());
    sim.cursors[pb.id] = fired.cursor;
    if (!fired.fired) continue;
    const at = fired.at ?? now;
    const page = decideRepage(s.stats, sim.memory[pb.id] ?? createPageMemory(), { trigger: pb.trigger, at, severity: issue.severity, snoozeEndedAt: null, resolvedSinceLastRound: false });
    sim.memory[pb.id] = page.memory;
    if (!page.act) {
      sim.suppressed += 1;
      continue;
    }
    return { selection: candidate, reason: fired.reason, at };
  }
  return null;
}

/** Routes the triaged messages to issues and plays every issue's triggers and rounds in event time. */
export function replayIssues(messages: readonly TReplayMessage[], triaged: TTriaged, config: TShadowConfiguration): TReplayOutcome {
  const verdicts = new Map<string, TMessageVerdict>();
  const failed: TReplayOutcome['failed'] = [];
  const byWorkflowId = new Map<string, TTriageResult>();
  for (const [, t] of triaged) if ('result' in t) byWorkflowId.set(feedbackWorkflowId(t.result), t.result);

  const timeline: Array<{ at: number; issueWorkflowId: string; fingerprint: TFingerprint; occurrence: TOccurrence }> = [];
  for (const m of messages) {
    const id = feedbackIdOf(m);
    const t = triaged.get(id);
    if (!t || 'error' in t) {
      failed.push({ feedbackId: id, error: t && 'error' in t ? t.error : 'not triaged' });
      continue;
    }
    const r = t.result;
    const parentId = parentFeedbackId(r);
    const parent = parentId ? byWorkflowId.get(parentId) : undefined;
    const routes = planRoutes(r, parent ? { fragments: parent.fragments } : null);
    verdicts.set(id, { feedbackId: id, category: r.classification.category, confidence: r.classification.confidence, severity: r.severity.level, issues: routes.map((x) => x.issueWorkflowId) });
    for (const route of routes) timeline.push({ at: Date.parse(route.occurrence.at), issueWorkflowId: route.issueWorkflowId, fingerprint: route.fingerprint, occurrence: route.occurrence });
  }
  timeline.sort((a, b) => a.at - b.at || (a.occurrence.feedbackId < b.occurrence.feedbackId ? -1 : a.occurrence.feedbackId > b.occurrence.feedbackId ? 1 : 0));

  const autoRuns = new Map<string, number[]>();
  const recentActions = (type: string, windowMs: number, at: number): number => (autoRuns.get(type) ?? []).filter((t) => t >= at - windowMs && t <= at).length;

  const issues = new Map<string, IssueSim>();
  for (const ev of timeline) {
    let sim = issues.get(ev.issueWorkflowId);
    if (!sim) {
      sim = { id: ev.issueWorkflowId, fingerprint: ev.fingerprint, state: initialIssueState(ev.fingerprint), messages: new Set(), cursors: {}, memory: {}, suppressed: 0, busyUntil: Number.NEGATIVE_INFINITY, rounds: [] };
      issues.set(ev.issueWorkflowId, sim);
    }
    sim.messages.add(ev.occurrence.feedbackId);
    if (absorbOccurrences(sim.state, [ev.occurrence]) === 0) continue;
    if (ev.at < sim.busyUntil) continue;
    const s = sim.state;
    const firing = composedFiring(sim, config.playbooks, ev.at);
    if (!firing) continue;
    const { selection, at } = firing;
    const pb = selection.selected.playbook;
    s.remediations += 1;
    s.playbookVersion = selection.selected.version;
    const round = planRound({
      issueWorkflowId: sim.id,
      fingerprint: sim.fingerprint.key,
      state: s,
      playbook: selection.selected,
      policy: config.policy,
      at,
      trigger: firing.reason,
      hypothesis: 'not ranked in shadow',
      recentActions,
      ...(config.maxRepliesPerRound !== undefined ? { maxRepliesPerRound: config.maxRepliesPerRound } : {}),
    });
    sim.rounds.push(round);
    for (const step of round.steps) {
      const touches = (TOUCHES_TICKETS as Record<string, boolean>)[step.actionType] ?? false;
      if (step.outlook === 'would_run' && (!touches || step.tickets > 0)) {
        const list = autoRuns.get(step.actionType) ?? [];
        list.push(at);
        autoRuns.set(step.actionType, list);
      }
      if (step.actionType === 'zendesk.public_reply' && step.outlook === 'would_run') s.repliedTickets.push(...s.tickets.filter((x) => !s.repliedTickets.includes(x)));
    }
    sim.busyUntil = at + pb.verification.windowMinutes * 60_000;
  }

  const out = new Map<string, TIssueReplay>();
  for (const sim of issues.values()) {
    const s = sim.state;
    const composed = s.category === NEEDS_REVIEW ? [] : selectPlaybooks(config.playbooks, { category: s.category, severity: highestSeverity(s.stats) ?? 'low' });
    out.set(sim.id, {
      issueWorkflowId: sim.id,
      fingerprint: sim.fingerprint.key,
      category: s.category,
      severity: highestSeverity(s.stats) ?? 'low',
      occurrences: s.stats.total,
      customers: affectedCustomerCount(s.stats),
      tickets: s.tickets.length,
      messages: [...sim.messages],
      playbook: composed.length > 0 ? composed.map((x) => x.selected.version).join(' + ') : null,
      rounds: sim.rounds,
      suppressed: sim.suppressed,
    });
  }
  return {
    taxonomyVersion: config.pipeline.taxonomyVersion,
    modelVersion: config.pipeline.modelVersion,
    policy: config.policy?.version ?? 'none',
    policyHash: config.policy?.contentHash ?? null,
    playbooks: config.playbooks.map((p) => ({ version: p.version, contentHash: p.contentHash })),
    messages: verdicts,
    issues: out,
    failed,
  };
}

export async function replay(messages: readonly TReplayMessage[], config: TShadowConfiguration, triaged?: TTriaged): Promise<TReplayOutcome> {
  return replayIssues(messages, triaged ?? (await triageAll(config.pipeline, messages)), config);
}
