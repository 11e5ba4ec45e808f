// Shadow replay speed (`shadow`): messages per second of `runShadow` (both replays: triage, routing,
// issue state, triggers, round plans, and the diff) on the bundled sample (200 messages) and on
// 10,000 messages (the sample repeated with new ids, one copy per day, so issues grow and triggers
// fire again; each copy's texts end with a copy tag so the encoder's embedding cache never answers). Candidates: a changed policy (the taxonomy is the same, so triage runs once) and a
// changed taxonomy (triage runs for both). The replay without triage is measured apart: it is what
// the loop's own logic costs. LOOPWRIGHT_SHADOW_BENCH_N sets the large size.
import path from 'node:path';
import { replayIssues, runShadow, triageAll, type TReplayMessage, type TShadowConfiguration } from '../activities/shadow/index.js';
import { buildTriageBrain } from '../activities/triage/brain.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import { loadPolicyFile } from '../policies/loader.js';
import type { BenchRow, BenchSuite } from './table.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DAY = 86_400_000;
/** Replaying a week of a busy helpdesk (10k messages) should take under a minute. */
const TARGET_MSG_PER_S = 170;

function scale(sample: TReplayMessage[], n: number): TReplayMessage[] {
  const out: TReplayMessage[] = [];
  for (let copy = 0; out.length < n; copy++) {
    for (const m of sample) {
      if (out.length >= n) break;
      const text = copy === 0 ? m.item.text : `${m.item.text} [copy ${copy}]`;
      out.push({ item: { ...m.item, text, externalId: `${m.item.externalId}-c${copy}`, receivedAt: new Date(Date.parse(m.item.receivedAt) + copy * DAY).toISOString() } });
    }
  }
  return out;
}

export const shadowSuite: BenchSuite = {
  name: 'shadow',
  async run() {
    const rows = await readFeedbackFile(path.join(ROOT, 'samples/feedback-sample.jsonl'), { defaultSource: 'import', defaultReceivedAt: '2026-11-29T00:00:00Z' });
    const sample: TReplayMessage[] = rows.flatMap((r) => (r.item ? [{ item: r.item }] : []));
    const large = scale(sample, Number(process.env.LOOPWRIGHT_SHADOW_BENCH_N ?? 10_000));
    const policy = await loadPolicyFile(path.join(ROOT, 'policies/default.v1.yaml'));
    const risky = await loadPolicyFile(path.join(ROOT, 'tests/fixtures/shadow/policy-auto-reply.v1.1.yaml'));
    const playbooks = await loadPlaybookDir(path.join(ROOT, 'playbooks'));
    const out: BenchRow[] = [];
    const input = { kind: 'file' as const, ref: 'bench', skipped: 0 };

    for (const model of ['fused', 'tfidf'] as const) {
      const v2 = loadTaxonomyFile(bundledTaxonomyPath('general'));
      const v1 = loadTaxonomyFile(path.join(ROOT, 'taxonomies/general.v1.yaml'));
      const opts = model === 'tfidf' ? { modelDir: null } : {};
      const b2 = await buildTriageBrain(v2, opts);
      if (model === 'fused' && !b2.fused) {
        out.push({ metric: 'fused model', value: 'skipped', note: b2.notice });
        continue;
      }
      const b1 = await buildTriageBrain(v1, opts);
      const p2 = createTriagePipeline({ taxonomy: v2, classifier: b2.classifier });
      const p1 = createTriagePipeline({ taxonomy: v1, classifier: b1.classifier });
      const base: TShadowConfiguration = { pipeline: p2, policy, playbooks };
      // Warm-up (JIT, the ONNX session's first runs) on other texts, so the rows measure steady state.
      const warm = scale(sample, 400).slice(200);
      await runShadow(warm, { baseline: base, candidate: { ...base, pipeline: p1 }, input });
      for (const [label, messages] of [['sample (200)', sample], [`${large.length.toLocaleString('en-US')} messages`, large]] as const) {
        const pol = await runShadow(messages, { baseline: base, candidate: { ...base, policy: risky }, input });
        out.push({
          metric: `${model}: ${label}, policy changed`,
          value: `${pol.messagesPerSecond.toLocaleString('en-US')} msg/s`,
          ...(messages === large ? { target: `>= ${TARGET_MSG_PER_S} msg/s${pol.messagesPerSecond >= TARGET_MSG_PER_S ? ' (met)' : ' (MISSED)'}` } : {}),
          note: `${(pol.elapsedMs / 1000).toFixed(1)} s; ${pol.diff.counts.issuesBaseline} issues, ${pol.diff.counts.newlyAutomaticCustomerFacing} newly automatic public replies`,
        });
        // Triage twice over 10k messages with the encoder is minutes of CPU on a shared machine: sample only.
        if (model === 'fused' && messages === large && !process.env.LOOPWRIGHT_SHADOW_BENCH_ALL) continue;
        const tax = await runShadow(messages, { baseline: base, candidate: { ...base, pipeline: p1 }, input });
        out.push({
          metric: `${model}: ${label}, taxonomy changed`,
          value: `${tax.messagesPerSecond.toLocaleString('en-US')} msg/s`,
          note: `${(tax.elapsedMs / 1000).toFixed(1)} s (triage twice); ${tax.diff.counts.reclassified} reclassified`,
        });
        if (model === 'tfidf') {
          const triaged = await triageAll(p2, messages);
          const t0 = performance.now();
          const replayed = replayIssues(messages, triaged, base);
          const ms = performance.now() - t0;
          out.push({ metric: `replay without triage: ${label}`, value: `${Math.round((messages.length / ms) * 1000).toLocaleString('en-US')} msg/s`, note: `${ms.toFixed(0)} ms; ${replayed.issues.size} issues, ${[...replayed.issues.values()].reduce((n, i) => n + i.rounds.length, 0)} rounds` });
        }
      }
    }
    return out;
  },
};
