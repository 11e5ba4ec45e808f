// Shadow replays over the bundled sample (samples/feedback-sample.jsonl, 200 real messages) with the
// offline TF-IDF model: an unchanged configuration reports no difference at all; a policy that lets
// public replies run automatically is reported as newly automatic and customer-facing and fails the
// gate; a taxonomy change reports reclassifications with confidences; the gate's grammar.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGate, parseGate, runShadow, type TReplayMessage, type TShadowConfiguration } from '../activities/shadow/index.js';
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
      expect(v.from).toMatchObject({ verdict: 'needs_approval', outlook: 'would_ask', playbook: 'billing-refund-issue@1.0.0' });
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
    expect(r.diff.baseline.taxonomy).toBe('general@2.0.0');
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
