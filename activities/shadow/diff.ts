// The differences between two shadow replays of the same messages: the configuration in force (the
// baseline) and the changed one (the candidate). Messages reclassified (from → to, with confidence),
// issues that would merge or split, triggers that would or would not fire, policy verdicts that change
// and the actions that would or would not run, with counts and a few examples of each.
// Issues are matched across the two replays by identity (same workflow id) or, failing that, by the
// messages they share; steps by round number, step id and action type. Pure: no I/O.
import type { TRoundPlan, TStepOutlook, TStepPlan } from './round-plan.js';
import type { TIssueReplay, TReplayMessage, TReplayOutcome } from './replay.js';
import { feedbackIdOf } from './replay.js';

const EXAMPLES = 3;
const LIST = 25;

export interface TConfigSummary {
  taxonomy: string;
  model: string;
  policy: string;
  policyHash: string | null;
  playbooks: string[];
}

export interface TMessageExample {
  feedbackId: string;
  fromConfidence: number;
  toConfidence: number;
  excerpt: string;
}

export interface TReclassification {
  from: string;
  to: string;
  count: number;
  examples: TMessageExample[];
}

export interface TRegrouping {
  /** Merge: the candidate issue; split: the baseline issue. */
  issue: string;
  /** Merge: the baseline issues it gathers; split: the candidate issues it breaks into. */
  parts: Array<{ issue: string; messages: number }>;
}

export interface TRoundSummary {
  issue: string;
  rounds: number;
  playbooks: string[];
  firstAt: string | null;
  trigger: string | null;
}

export interface TTriggerChange {
  change: 'fires' | 'no_longer_fires' | 'changed';
  baseline: TRoundSummary | null;
  candidate: TRoundSummary | null;
}

export interface TStepChange {
  issue: string;
  round: number;
  stepId: string;
  actionType: string;
  customerFacing: boolean;
  from: { verdict: string; outlook: TStepOutlook; playbook: string; reasons: string[] } | null;
  to: { verdict: string; outlook: TStepOutlook; playbook: string; reasons: string[]; approverGroup?: string; tickets: number } | null;
}

export type TOutlookCounts = Record<TStepOutlook, number>;

export interface TActionSummary {
  actionType: string;
  customerFacing: boolean;
  baseline: TOutlookCounts;
  candidate: TOutlookCounts;
}

export interface TShadowCounts {
  messages: number;
  failed: number;
  reclassified: number;
  /** reclassified / messages replayed on both sides, 0..1. */
  reclassifiedRatio: number;
  merges: number;
  splits: number;
  issuesBaseline: number;
  issuesCandidate: number;
  triggerChanges: number;
  newlyFiring: number;
  noLongerFiring: number;
  verdictChanges: number;
  newlyAutomatic: number;
  newlyAutomaticCustomerFacing: number;
  noLongerAutomatic: number;
}

export interface TFidelity {
  /** Messages with a recorded classification. */
  recorded: number;
  /** ... whose recorded category the baseline replay reproduced. */
  reproduced: number;
  /** Recorded by the LLM cascade (shadow replays classify offline only). */
  recordedByLlm: number;
  recordedTaxonomies: string[];
  recordedModels: string[];
  examples: Array<{ feedbackId: string; recorded: string; replayed: string; source: string }>;
}

export interface TShadowDiff {
  baseline: TConfigSummary;
  candidate: TConfigSummary;
  counts: TShadowCounts;
  reclassified: TReclassification[];
  merges: TRegrouping[];
  splits: TRegrouping[];
  triggers: TTriggerChange[];
  verdicts: TStepChange[];
  actions: TActionSummary[];
  failed: Array<{ feedbackId: string; error: string }>;
  fidelity?: TFidelity;
}

export function configSummary(o: TReplayOutcome): TConfigSummary {
  return { taxonomy: o.taxonomyVersion, model: o.modelVersion, policy: o.policy, policyHash: o.policyHash, playbooks: o.playbooks.map((p) => p.version) };
}

const emptyCounts = (): TOutlookCounts => ({ would_run: 0, would_ask: 0, would_not_run: 0, render_failed: 0 });

function excerptOf(m: TReplayMessage | undefined): string {
  const text = typeof m?.item.text === 'string' ? m.item.text : '';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function roundSummary(issue: TIssueReplay): TRoundSummary {
  return {
    issue: issue.issueWorkflowId,
    rounds: issue.rounds.length,
    playbooks: [...new Set(issue.rounds.map((r) => r.playbook))],
    firstAt: issue.rounds[0]?.at ?? null,
    trigger: issue.rounds[0]?.trigger ?? null,
  };
}

const categoryOf = (issueId: string): string => issueId.replace(/^issue:/, '').split('.')[0] ?? '';

/**
 * For each issue of `a`, how many of its messages went to each issue of `b`. A message split into
 * several issues (one per fragment) is counted once, towards the `b` issue that corresponds to this
 * fragment: the same issue id, else one of the same category, else every `b` issue it went to.
 */
function overlaps(a: Map<string, TIssueReplay>, bByMessage: Map<string, string[]>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const issue of a.values()) {
    const m = new Map<string, number>();
    const own = issue.issueWorkflowId;
    for (const msg of issue.messages) {
      const others = bByMessage.get(msg) ?? [];
      const same = others.includes(own) ? [own] : others.filter((o) => categoryOf(o) === categoryOf(own));
      for (const other of same.length > 0 ? same.slice(0, 1) : others) m.set(other, (m.get(other) ?? 0) + 1);
    }
    out.set(own, m);
  }
  return out;
}

function issuesByMessage(o: TReplayOutcome): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const issue of o.issues.values()) for (const msg of issue.messages) out.set(msg, [...(out.get(msg) ?? []), issue.issueWorkflowId]);
  return out;
}

function bestMatch(own: string, counts: Map<string, number> | undefined, pool: Map<string, TIssueReplay>): string | null {
  if (pool.has(own)) return own;
  let best: string | null = null;
  let n = 0;
  for (const [id, c] of counts ?? []) if (c > n || (c === n && best !== null && id < best)) [best, n] = [id, c];
  return best;
}

function stepKey(round: number, s: TStepPlan): string {
  return `${round}\u0000${s.stepId}\u0000${s.actionType}`;
}

function stepsOf(rounds: TRoundPlan[]): Map<string, { round: number; step: TStepPlan; playbook: string }> {
  const out = new Map<string, { round: number; step: TStepPlan; playbook: string }>();
  rounds.forEach((r, i) => r.steps.forEach((s) => out.set(stepKey(i + 1, s), { round: i + 1, step: s, playbook: r.playbook })));
  return out;
}

export function diffReplays(messages: readonly TReplayMessage[], base: TReplayOutcome, cand: TReplayOutcome): TShadowDiff {
  const byId = new Map(messages.map((m) => [feedbackIdOf(m), m]));

  // ── Reclassification ──
  const pairs = new Map<string, TReclassification>();
  let both = 0;
  let reclassified = 0;
  for (const [id, b] of base.messages) {
    const c = cand.messages.get(id);
    if (!c) continue;
    both += 1;
    if (b.category === c.category) continue;
    reclassified += 1;
    const key = `${b.category}\u0000${c.category}`;
    const entry = pairs.get(key) ?? { from: b.category, to: c.category, count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < EXAMPLES) entry.examples.push({ feedbackId: id, fromConfidence: round3(b.confidence), toConfidence: round3(c.confidence), excerpt: excerptOf(byId.get(id)) });
    pairs.set(key, entry);
  }

  // ── Grouping: merges and splits ──
  const baseByMsg = issuesByMessage(base);
  const candByMsg = issuesByMessage(cand);
  const candOverlap = overlaps(cand.issues, baseByMsg);
  const baseOverlap = overlaps(base.issues, candByMsg);
  const regroup = (overlap: Map<string, Map<string, number>>): TRegrouping[] =>
    [...overlap.entries()]
      .filter(([, m]) => m.size >= 2)
      .map(([issue, m]) => ({ issue, parts: [...m.entries()].sort((x, y) => y[1] - x[1]).map(([i, n]) => ({ issue: i, messages: n })) }))
      .sort((x, y) => y.parts.length - x.parts.length || (x.issue < y.issue ? -1 : 1));
  const merges = regroup(candOverlap);
  const splits = regroup(baseOverlap);

  // ── Issue pairs: identity first, else the issue sharing the most messages ──
  const matched = new Set<string>();
  const issuePairs: Array<{ b: TIssueReplay | null; c: TIssueReplay | null }> = [];
  for (const c of cand.issues.values()) {
    const bid = bestMatch(c.issueWorkflowId, candOverlap.get(c.issueWorkflowId), base.issues);
    const b = bid && !matched.has(bid) ? (base.issues.get(bid) ?? null) : null;
    if (b) matched.add(b.issueWorkflowId);
    issuePairs.push({ b, c });
  }
  for (const b of base.issues.values()) if (!matched.has(b.issueWorkflowId)) issuePairs.push({ b, c: null });

  // ── Triggers, verdicts, actions ──
  const triggers: TTriggerChange[] = [];
  const verdicts: TStepChange[] = [];
  let newlyAutomatic = 0;
  let newlyAutomaticCustomerFacing = 0;
  let noLongerAutomatic = 0;
  for (const { b, c } of issuePairs) {
    const bf = (b?.rounds.length ?? 0) > 0;
    const cf = (c?.rounds.length ?? 0) > 0;
    if (bf || cf) {
      const bs = b ? roundSummary(b) : null;
      const cs = c ? roundSummary(c) : null;
      if (bf && !cf) triggers.push({ change: 'no_longer_fires', baseline: bs, candidate: cs });
      else if (!bf && cf) triggers.push({ change: 'fires', baseline: bs, candidate: cs });
      else if (bs!.rounds !== cs!.rounds || bs!.playbooks.join() !== cs!.playbooks.join() || bs!.firstAt !== cs!.firstAt) triggers.push({ change: 'changed', baseline: bs, candidate: cs });
    }
    const bSteps = stepsOf(b?.rounds ?? []);
    const cSteps = stepsOf(c?.rounds ?? []);
    for (const key of new Set([...bSteps.keys(), ...cSteps.keys()])) {
      const x = bSteps.get(key);
      const y = cSteps.get(key);
      const same = x && y && x.step.verdict === y.step.verdict && x.step.outlook === y.step.outlook;
      if (same) continue;
      const any = (y ?? x)!;
      const wasAuto = x?.step.outlook === 'would_run';
      const isAuto = y?.step.outlook === 'would_run';
      if (isAuto && !wasAuto) {
        newlyAutomatic += 1;
        if (any.step.customerFacing) newlyAutomaticCustomerFacing += 1;
      }
      if (wasAuto && !isAuto) noLongerAutomatic += 1;
      verdicts.push({
        issue: (c ?? b)!.issueWorkflowId,
        round: any.round,
        stepId: any.step.stepId,
        actionType: any.step.actionType,
        customerFacing: any.step.customerFacing,
        from: x ? { verdict: x.step.verdict, outlook: x.step.outlook, playbook: x.playbook, reasons: x.step.reasons } : null,
        to: y ? { verdict: y.step.verdict, outlook: y.step.outlook, playbook: y.playbook, reasons: y.step.reasons, tickets: y.step.tickets, ...(y.step.approval ? { approverGroup: y.step.approval.group } : {}) } : null,
      });
    }
  }
  // Newly automatic customer-facing steps first: they are what a reviewer must see.
  const weight = (v: TStepChange) => (v.to?.outlook === 'would_run' && v.from?.outlook !== 'would_run' ? (v.customerFacing ? 0 : 1) : 2);
  verdicts.sort((x, y) => weight(x) - weight(y) || (x.issue < y.issue ? -1 : x.issue > y.issue ? 1 : x.round - y.round));

  const actions = new Map<string, TActionSummary>();
  const tally = (o: TReplayOutcome, side: 'baseline' | 'candidate') => {
    for (const issue of o.issues.values())
      for (const r of issue.rounds)
        for (const s of r.steps) {
          const a = actions.get(s.actionType) ?? { actionType: s.actionType, customerFacing: s.customerFacing, baseline: emptyCounts(), candidate: emptyCounts() };
          a[side][s.outlook] += 1;
          actions.set(s.actionType, a);
        }
  };
  tally(base, 'baseline');
  tally(cand, 'candidate');

  const failed = [...base.failed, ...cand.failed.filter((f) => !base.failed.some((x) => x.feedbackId === f.feedbackId))];
  return {
    baseline: configSummary(base),
    candidate: configSummary(cand),
    counts: {
      messages: messages.length,
      failed: failed.length,
      reclassified,
      reclassifiedRatio: both === 0 ? 0 : reclassified / both,
      merges: merges.length,
      splits: splits.length,
      issuesBaseline: base.issues.size,
      issuesCandidate: cand.issues.size,
      triggerChanges: triggers.length,
      newlyFiring: triggers.filter((t) => t.change === 'fires').length,
      noLongerFiring: triggers.filter((t) => t.change === 'no_longer_fires').length,
      verdictChanges: verdicts.length,
      newlyAutomatic,
      newlyAutomaticCustomerFacing,
      noLongerAutomatic,
    },
    reclassified: [...pairs.values()].sort((x, y) => y.count - x.count || (x.from + x.to < y.from + y.to ? -1 : 1)).slice(0, LIST),
    merges: merges.slice(0, LIST),
    splits: splits.slice(0, LIST),
    triggers: triggers.slice(0, LIST),
    verdicts: verdicts.slice(0, LIST * 2),
    actions: [...actions.values()].sort((x, y) => (x.actionType < y.actionType ? -1 : 1)),
    failed: failed.slice(0, LIST),
  };
}

/** How well the baseline replay reproduces what the audit store recorded (audit input only). */
export function fidelityOf(messages: readonly TReplayMessage[], base: TReplayOutcome): TFidelity | undefined {
  const recorded = messages.filter((m) => m.recorded);
  if (recorded.length === 0) return undefined;
  let reproduced = 0;
  const examples: TFidelity['examples'] = [];
  for (const m of recorded) {
    const r = m.recorded!;
    const b = base.messages.get(feedbackIdOf(m));
    if (b && b.category === r.category) reproduced += 1;
    else if (examples.length < EXAMPLES) examples.push({ feedbackId: feedbackIdOf(m), recorded: r.category, replayed: b?.category ?? '(failed)', source: r.source });
  }
  return {
    recorded: recorded.length,
    reproduced,
    recordedByLlm: recorded.filter((m) => m.recorded!.source === 'llm').length,
    recordedTaxonomies: [...new Set(recorded.map((m) => m.recorded!.taxonomyVersion))].sort(),
    recordedModels: [...new Set(recorded.map((m) => m.recorded!.modelVersion))].sort(),
    examples,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
