// Shadow replays over the bundled sample (samples/feedback-sample.jsonl, 200 real messages) with the
// offline TF-IDF model: an unchanged configuration reports no difference at all; a policy that lets
// public replies run automatically is reported as newly automatic and customer-facing and fails the
// gate; a taxonomy change reports reclassifications with confidences; the gate's grammar.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGate, diffReplays, parseGate, replay, replayIssues, runShadow, type TReplayMessage, type TShadowConfiguration, type TTriaged } from '../activities/shadow/index.js';
import { computeFingerprint } from '../activities/triage/fingerprint.js';
import { loadLearnedHeads } from '../activities/triage/learned-heads.js';
import { createPipelineCache } from '../worker/shadow-config.js';
import type { TTriageResult } from '../workflows/domain/triage.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline, type TriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import type { TLoadedPlaybook } from '../playbooks/schema.js';
import { loadPolicyFile, type TLoadedPolicy } from '../policies/loader.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RISKY = path.join(ROOT, 'tests/fixtures/shadow/policy-auto-reply.v1.1.yaml');
const input = { kind: 'file' as const, ref: 'samples/feedback-sample.jsonl', skipped: 0 };

let messages: TReplayMessage[];
let v2: TriagePipeline;
let v1: TriagePipeline;
let policy: TLoadedPolicy;
let risky: TLoadedPolicy;
let playbooks: TLoadedPlaybook[];
const config = (pipeline: TriagePipeline, p: TLoadedPolicy): TShadowConfiguration => ({ pipeline, policy: p, playbooks });

beforeAll(async () => {
  const rows = await readFeedbackFile(path.join(ROOT, 'samples/feedback-sample.jsonl'), { defaultSource: 'import', defaultReceivedAt: '2026-11-29T00:00:00Z' });
  messages = rows.flatMap((r) => (r.item ? [{ item: r.item }] : []));
  const tax2 = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const tax1 = loadTaxonomyFile(path.join(ROOT, 'taxonomies/general.v1.yaml'));
  const m2 = trainOfflineClassifier(tax2);
  const m1 = trainOfflineClassifier(tax1);
  v2 = createTriagePipeline({ taxonomy: tax2, classifier: m2 });
  v1 = createTriagePipeline({ taxonomy: tax1, classifier: m1 });
  policy = await loadPolicyFile(path.join(ROOT, 'policies/default.v1.yaml'));
  risky = await loadPolicyFile(RISKY);
  playbooks = await loadPlaybookDir(path.join(ROOT, 'playbooks'));
}, 120_000);

describe('shadow replay of the sample', () => {
  it('reports no difference when nothing changed', async () => {
    const r = await runShadow(messages, { baseline: config(v2, policy), candidate: config(v2, policy), input, gate: parseGate(['reclassified>0', 'merges', 'splits', 'trigger-changes', 'verdict-changes', 'new-auto']) });
    expect(r.diff.counts).toMatchObject({ messages: 200, failed: 0, reclassified: 0, merges: 0, splits: 0, triggerChanges: 0, verdictChanges: 0, newlyAutomatic: 0 });
    expect(r.diff.counts.issuesBaseline).toBe(r.diff.counts.issuesCandidate);
    expect(r.gate.every((g) => !g.failed)).toBe(true);
    // The sample does trigger rounds: the comparison above is not vacuous.
    const rounds = r.diff.actions.reduce((n, a) => n + a.baseline.would_run + a.baseline.would_ask + a.baseline.would_not_run, 0);
    expect(rounds).toBeGreaterThan(0);
  }, 120_000);

  it('reports a policy that would auto-run public replies as newly automatic and customer-facing, and the gate fails', async () => {
    const r = await runShadow(messages, { baseline: config(v2, policy), candidate: config(v2, risky), input, gate: parseGate(['auto-customer-facing', 'reclassified>5%']) });
    const replies = r.diff.verdicts.filter((v) => v.actionType === 'zendesk.public_reply');
    expect(replies.length).toBeGreaterThan(0);
    for (const v of replies) {
      expect(v.customerFacing).toBe(true);
      expect(v.from).toMatchObject({ verdict: 'needs_approval', outlook: 'would_ask', playbook: 'billing-refund-issue@1.1.1' });
      expect(v.to).toMatchObject({ verdict: 'allow', outlook: 'would_run' });
    }
    expect(r.diff.counts.newlyAutomaticCustomerFacing).toBe(replies.length);
    expect(r.diff.counts.reclassified).toBe(0);
    expect(r.diff.baseline.policy).toBe('default@1.0.0');
    expect(r.diff.candidate.policy).toBe('default@1.1.0');
    expect(r.gate).toEqual([
      { condition: 'auto-customer-facing', value: String(replies.length), failed: true },
      { condition: 'reclassified>5%', value: '0.0% (0 of 200)', failed: false },
    ]);
    const replyActions = r.diff.actions.find((a) => a.actionType === 'zendesk.public_reply')!;
    expect(replyActions.candidate.would_run).toBe(replyActions.baseline.would_ask);
  }, 120_000);

  it('reports a taxonomy change as reclassifications with confidences, merges and splits', async () => {
    const r = await runShadow(messages, { baseline: config(v2, policy), candidate: config(v1, policy), input, gate: parseGate(['reclassified>5%']) });
    expect(r.diff.baseline.taxonomy).toBe('general@2.3.0');
    expect(r.diff.candidate.taxonomy).toBe('general@1.0.0');
    expect(r.diff.counts.reclassified).toBeGreaterThan(20);
    const total = r.diff.reclassified.reduce((n, x) => n + x.count, 0);
    expect(total).toBeLessThanOrEqual(r.diff.counts.reclassified);
    const top = r.diff.reclassified[0]!;
    expect(top.from).not.toBe(top.to);
    expect(top.examples[0]!.fromConfidence).toBeGreaterThanOrEqual(0);
    expect(top.examples[0]!.excerpt.length).toBeGreaterThan(0);
    expect(r.diff.counts.merges + r.diff.counts.splits).toBeGreaterThan(0);
    expect(r.gate[0]!.failed).toBe(true);
  }, 120_000);
});

describe('the gate', () => {
  const counts = { messages: 100, failed: 0, reclassified: 7, reclassifiedRatio: 0.07, merges: 1, splits: 0, issuesBaseline: 5, issuesCandidate: 4, triggerChanges: 2, newlyFiring: 1, noLongerFiring: 1, verdictChanges: 3, newlyAutomatic: 1, newlyAutomaticCustomerFacing: 0, noLongerAutomatic: 0 };

  it('checks counts and percentages', () => {
    const results = checkGate(parseGate(['reclassified>5%,reclassified>10%', 'reclassified>6', 'merges', 'auto-customer-facing', 'new-auto>1']), counts);
    expect(results.map((r) => [r.condition, r.failed])).toEqual([
      ['reclassified>5%', true],
      ['reclassified>10%', false],
      ['reclassified>6', true],
      ['merges', true],
      ['auto-customer-facing', false],
      ['new-auto>1', false],
    ]);
  });

  it('refuses conditions it does not know instead of ignoring them', () => {
    expect(() => parseGate(['reclasified>5%'])).toThrow(/expected METRIC/);
    expect(() => parseGate(['merges>5%'])).toThrow(/only reclassified takes a percentage/);
    expect(() => parseGate(['new-auto>=1'])).toThrow(/expected METRIC/);
  });
});

describe('shadow composes playbooks per issue as the IssueWorkflow does', () => {
  // Hand-made triage results (no model in the way): one billing issue, five medium reports in ten
  // minutes (the billing playbook's volume trigger), then, 13 h later, after that round's 12 h
  // verification window, a critical report and one more 10 min later.
  const fp = computeFingerprint({ category: 'billing', evidence: [], product: 'cards' });
  const t0 = Date.parse('2026-11-20T09:00:00Z');
  const report = (n: number, at: number, level: 'medium' | 'critical'): { message: TReplayMessage; result: TTriageResult } => {
    const text = level === 'critical' ? 'charged four times, my rent bounced, I am calling my lawyer' : 'charged twice for one order';
    const classification = { category: 'billing', confidence: 0.9, alternatives: [], source: 'local' as const, taxonomyVersion: 'general@2.0.0', modelVersion: 'test', promptVersion: null };
    const severity = { level, score: level === 'critical' ? 0.95 : 0.4, reasons: [] };
    const receivedAt = new Date(at).toISOString();
    return {
      message: { item: { source: 'api', externalId: `c${n}`, receivedAt, text, channel: 'email', customer: { id: `cust-${n}`, tier: 'standard' } } },
      result: {
        source: 'api',
        externalId: `c${n}`,
        receivedAt,
        channel: 'email',
        customer: { id: `cust-${n}`, tier: 'standard' },
        masked: { text, redactions: [] },
        classification,
        severity,
        sentiment: { label: 'negative', score: -0.5 },
        evidence: [],
        fingerprint: fp,
        fragments: [{ text, start: 0, end: text.length, classification, severity, evidence: [], fingerprint: fp }],
        taxonomyVersion: 'general@2.0.0',
      },
    };
  };
  const reports = [
    ...[0, 1, 2, 3, 4].map((i) => report(i, t0 + i * 2 * 60_000, 'medium')),
    report(5, t0 + 13 * 3_600_000, 'critical'),
    report(6, t0 + 13 * 3_600_000 + 10 * 60_000, 'critical'),
  ];
  const msgs = reports.map((r) => r.message);
  const triaged: TTriaged = new Map(reports.map((r) => [`api:${r.result.externalId}`, { result: r.result }]));

  it('a severity page (critical-any) and the category volume playbook both act on one issue, and the diff shows the page', () => {
    const volumeOnly = playbooks.filter((p) => p.playbook.id !== 'critical-any');
    const base = replayIssues(msgs, triaged, { pipeline: v2, policy, playbooks: volumeOnly });
    const cand = replayIssues(msgs, triaged, { pipeline: v2, policy, playbooks });
    const issue = cand.issues.get(`issue:${fp.key}`)!;
    expect(issue.playbook).toBe('critical-any@1.1.1 + billing-refund-issue@1.1.1');
    expect(issue.rounds.map((r) => [r.playbook, r.at])).toEqual([
      ['billing-refund-issue@1.1.1', expect.any(String)],
      ['critical-any@1.1.1', new Date(t0 + 13 * 3_600_000).toISOString()],
    ]);
    expect(issue.rounds[1]!.steps.map((s) => s.stepId)).toEqual(['jira-incident', 'page-oncall']);
    // Before composition (one playbook per issue) the explicit billing playbook hid critical-any here.
    expect(base.issues.get(`issue:${fp.key}`)!.rounds.map((r) => r.playbook)).toEqual(['billing-refund-issue@1.1.1']);

    const diff = diffReplays(msgs, base, cand);
    expect(diff.triggers).toEqual([
      expect.objectContaining({ change: 'changed', baseline: expect.objectContaining({ rounds: 1 }), candidate: expect.objectContaining({ rounds: 2, playbooks: ['billing-refund-issue@1.1.1', 'critical-any@1.1.1'] }) }),
    ]);
    expect(diff.verdicts.filter((v) => v.round === 2).map((v) => [v.stepId, v.from, v.to?.playbook])).toEqual([
      ['jira-incident', null, 'critical-any@1.1.1'],
      ['page-oncall', null, 'critical-any@1.1.1'],
    ]);
  });

  it('a second critical report in the same episode is suppressed by the re-page rule, not paged again', () => {
    // The critical round's own verification window would keep the issue busy: replay with a playbook
    // set whose page verifies within minutes, so the second report meets the re-page rule.
    const quick = playbooks.map((p) => (p.playbook.id === 'critical-any' ? { ...p, playbook: { ...p.playbook, verification: { ...p.playbook.verification, windowMinutes: 5 } } } : p));
    const cand = replayIssues(msgs, triaged, { pipeline: v2, policy, playbooks: quick });
    const issue = cand.issues.get(`issue:${fp.key}`)!;
    expect(issue.rounds.map((r) => r.playbook)).toEqual(['billing-refund-issue@1.1.1', 'critical-any@1.1.1']);
    expect(issue.suppressed).toBe(1);
  });
});

describe('shadow triage uses the worker\'s brain', () => {
  it('the shadow pipeline gets the encoder and learned heads of the brain, as bootstrap.ts wires the live one', { timeout: 180_000 }, async () => {
    const shadow = await createPipelineCache({})('general');
    const heads = loadLearnedHeads()!;
    const id = 'brain-1';
    const item = { source: 'api', externalId: id, receivedAt: '2026-11-29T10:00:00Z', text: '@AcmeTel your incompetent staff cut off my internet for a week, you are liars and crooks, I am reporting you' };
    const r = await shadow.triage(item);
    expect(r.severity.reasons).toContain(`model:${heads.version}`);
    const out = await replay([{ item }], { pipeline: shadow, policy, playbooks });
    expect(out.modelVersion).toMatch(/fused/);
    expect(out.messages.get(`api:${id}`)?.severity).toBe(r.severity.level);
  });
});
