// A rolling deploy sends occurrences from a newer intake to an older IssueWorkflow worker: fields
// this build does not know (at the top level or nested, e.g. inside `grouping`) must not cost the
// report (patched 'tolerant-occurrences'; before, the strict schema rejected the whole occurrence
// and the issue under-counted). Known fields are still checked: a wrong type is still rejected.
// Time-skipping server, real workflow and activities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate, occurrencesSignal, type TOccurrence } from '../workflows/messages.js';
import { createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [] });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

describe('IssueWorkflow during a rolling deploy', () => {
  it('counts occurrences that carry fields from a newer build and notes the ignored fields once', async () => {
    const fp = fingerprint('app_crash', '0000000d0a01');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:r1', customerId: 'c1' });
      const at = new Date(await h.env.currentTimeMs()).toISOString();
      const base = { source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: fp.category, at, evidence: [], excerpt: 'crash on start' } as const;
      const newer = (n: number) =>
        ({
          ...base,
          feedbackId: `api:r${n}`,
          customerId: `c${n}`,
          language: 'de',
          grouping: { method: 'similarity', nearest: { key: 'app_crash.other', similarity: 0.9, model: 'enc-v9' }, threshold: 0.8, margin: 0.1 },
        }) as unknown as TOccurrence;
      const wrongType = { ...base, feedbackId: 'api:r9', confidence: 'high' } as unknown as TOccurrence;
      await handle.signal(occurrencesSignal, [newer(2), newer(3), wrongType]);
      const s = await h.waitFor(id, (x) => x.occurrences >= 3, 'the newer occurrences counted');
      expect(s.occurrences).toBe(3);
      expect(s.customers).toBe(3);
      expect(s.groupedBy).toMatch(/joined by meaning/);
      const timeline = await handle.query<Array<{ kind: string; summary: string }>>('timeline');
      const ignored = timeline.filter((e) => e.kind === 'occurrence_fields_ignored');
      expect(ignored).toHaveLength(1);
      expect(ignored[0]!.summary).toContain('language');
      expect(ignored[0]!.summary).toContain('grouping.nearest.model');
      expect(ignored[0]!.summary).toContain('grouping.margin');
      expect(timeline.filter((e) => e.kind === 'occurrence_rejected').map((e) => e.summary)).toEqual([expect.stringContaining('expected number')]);
      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
    });
  }, 240_000);
});
