// Merge and split as pure state arithmetic (workflows/issue/merge-split.ts): what the survivor of a
// merge takes from the absorbed issue beyond counts (its segment profile), and how a split selects.
import { describe, expect, it } from 'vitest';
import { addToSegmentProfile, createSegmentProfile, profileShare, ZSegmentProfile, type TSegmentValues } from '../workflows/domain/segments.js';
import { absorbedIssue, absorbIssue, followMoves, mergeSegmentProfiles, moveEventKey, parseMoveEventKey, removeSplit, reportTrailIds } from '../workflows/issue/merge-split.js';
import { redirectMovedTicket } from '../activities/report-trail.js';
import type { TRoute } from '../activities/routing.js';
import { absorbOccurrences, initialIssueState } from '../workflows/issue/state.js';
import type { TOccurrence } from '../workflows/messages.js';

const T = Date.UTC(2026, 10, 1);
const H = 3_600_000;
const fp = (key: string) => ({ key, category: key.split('.')[0]!, features: ['test'], version: 'fp-1' });
const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

function occ(id: string, at: number, segments?: TSegmentValues): TOccurrence {
  return { feedbackId: id, source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'app_crash', at: new Date(at).toISOString(), evidence: [], excerpt: `report ${id}`, ...(segments ? { segments } : {}) };
}

describe('mergeSegmentProfiles', () => {
  it('equals folding the absorbed reports in one by one (same decay), whichever side is newer', () => {
    const a = Array.from({ length: 12 }, (_, i) => ({ seg: { platform: 'android' as const, appVersion: '5.2.1', region: 'eu-west' }, at: T + i * H }));
    const b = Array.from({ length: 5 }, (_, i) => ({ seg: { platform: 'ios' as const, region: 'us-east', channel: 'chat' }, at: T + 3 * H + i * 7 * H }));
    const fold = (rs: typeof a | typeof b, p = createSegmentProfile()) => rs.reduce((acc, r) => addToSegmentProfile(acc, r.seg, r.at), p);
    const all = fold(b, fold(a));
    for (const merged of [mergeSegmentProfiles(fold(a), fold(b)), mergeSegmentProfiles(fold(b), fold(a))]) {
      expect(ZSegmentProfile.parse(merged)).toEqual(merged);
      expect(merged.reports).toBe(17);
      expect(merged.at).toBe(all.at);
      for (const dim of ['platforms', 'versions', 'regions', 'channels'] as const) {
        expect(merged.dims[dim]!.reports).toBeCloseTo(all.dims[dim]!.reports, 9);
        for (const [v, w] of Object.entries(all.dims[dim]!.values)) expect(merged.dims[dim]!.values[v]).toBeCloseTo(w, 9);
      }
      expect(profileShare(merged, 'platforms', (v) => v === 'ios')).toBeCloseTo(profileShare(all, 'platforms', (v) => v === 'ios'), 9);
    }
  });

  it('keeps each dimension bounded and takes either side alone as it is', () => {
    let a = createSegmentProfile();
    let b = createSegmentProfile();
    for (let i = 0; i < 20; i++) a = addToSegmentProfile(a, { region: `a-${i}` });
    for (let i = 0; i < 20; i++) b = addToSegmentProfile(b, { region: `b-${i}` }, undefined);
    b = addToSegmentProfile(b, { region: 'b-0' });
    const merged = mergeSegmentProfiles(a, b);
    expect(Object.keys(merged.dims.regions!.values)).toHaveLength(20);
    expect(merged.dims.regions!.values['b-0']).toBe(2);
    expect(merged.dims.regions!.reports).toBe(41);
    expect(mergeSegmentProfiles(undefined, b)).toEqual(b);
    expect(mergeSegmentProfiles(a, undefined)).toEqual(a);
  });
});

describe('absorbIssue', () => {
  it("adds the absorbed issue's segment profile to the survivor's (ranking reads it)", () => {
    const survivor = initialIssueState(fp('app_crash.00000000aa01'));
    absorbOccurrences(survivor, [occ('api:s1', T, { platform: 'ios', region: 'us-east' })]);
    const gone = initialIssueState(fp('app_crash.00000000aa02'));
    absorbOccurrences(gone, [occ('api:g1', T + H, { platform: 'android', appVersion: '5.2.1' }), occ('api:g2', T + 2 * H, { platform: 'android', region: 'eu-west' })]);
    const signal = absorbedIssue('issue:app_crash.00000000aa02', gone, { by: lead, reason: 'same crash' }, T + 3 * H);
    expect(signal.segmentProfile).toEqual(gone.segmentProfile);

    const before = structuredClone(survivor);
    absorbIssue(before, signal);
    // Without the option (histories from before the patch) the survivor's profile is untouched.
    expect(before.segmentProfile).toEqual(survivor.segmentProfile);

    const r = absorbIssue(survivor, signal, { segments: true });
    expect(r.added).toBe(2);
    const p = survivor.segmentProfile!;
    expect(p.reports).toBe(3);
    expect(Object.keys(p.dims.platforms!.values).sort()).toEqual(['android', 'ios']);
    expect(p.dims.versions!.values['5.2.1']).toBeGreaterThan(0);
    expect(Object.keys(p.dims.regions!.values).sort()).toEqual(['eu-west', 'us-east']);
    expect(profileShare(p, 'platforms', (v) => v === 'android')).toBeGreaterThan(0.5);
  });
});

describe('where a report lives after splits', () => {
  it('keys each move by its two issues and follows moves in their order', () => {
    expect(parseMoveEventKey(moveEventKey('billing.aaaaaaaaaaaa', 'refunds.bbbbbbbbbbbb'))).toEqual({ from: 'billing.aaaaaaaaaaaa', to: 'refunds.bbbbbbbbbbbb' });
    expect(parseMoveEventKey('linked:billing.aaaaaaaaaaaa')).toBeNull();
    const moves = [
      { from: 'a.1', to: 'b.1' },
      { from: 'b.1', to: 'c.1' },
      { from: 'x.1', to: 'y.1' },
    ];
    expect(followMoves(['a.1', 'x.1', 'q.1'], moves)).toEqual(['c.1', 'y.1', 'q.1']);
    // Back and forth ends where the last move put it.
    expect(followMoves(['a.1'], [{ from: 'a.1', to: 'b.1' }, { from: 'b.1', to: 'a.1' }])).toEqual(['a.1']);
  });

  it("names the report's own trail and its Zendesk ticket's first message", () => {
    expect(reportTrailIds({ feedbackId: 'zendesk:501', source: 'zendesk', ticketId: '501' })).toEqual(['feedback:zendesk:501']);
    expect(reportTrailIds({ feedbackId: 'zendesk:501-c9', source: 'zendesk', ticketId: '501' })).toEqual(['feedback:zendesk:501-c9', 'feedback:zendesk:501']);
    expect(reportTrailIds({ feedbackId: 'api:x', source: 'api' })).toEqual(['feedback:api:x']);
  });

  it("redirects a follow-up's routes to where its ticket was moved, once per issue", () => {
    const route = (key: string, reason: TRoute['reason']): TRoute => ({
      issueWorkflowId: `issue:${key}`,
      fingerprint: fp(key),
      reason,
      occurrence: occ('zendesk:501-c9', T),
    });
    const routes = [route('app_crash.000000000001', 'fragment'), route('billing.000000000002', 'ticket_follow_up')];
    expect(redirectMovedTicket(routes, [])).toEqual(routes);
    const moved = redirectMovedTicket(routes, [{ from: 'billing.000000000002', to: 'app_crash.000000000001' }]);
    expect(moved.map((r) => r.issueWorkflowId)).toEqual(['issue:app_crash.000000000001']);
    const elsewhere = redirectMovedTicket(routes, [{ from: 'billing.000000000002', to: 'refunds.000000000003' }]);
    expect(elsewhere.map((r) => [r.issueWorkflowId, r.reason, r.occurrence.category, r.fingerprint.category])).toEqual([
      ['issue:app_crash.000000000001', 'fragment', 'app_crash', 'app_crash'],
      ['issue:refunds.000000000003', 'ticket_follow_up', 'refunds', 'refunds'],
    ]);
  });

  it('takes a report older than the recent detail out of every count by its own severity, tier and value', () => {
    const s = initialIssueState(fp('app_crash.00000000aa09'));
    const old = { ...occ('zendesk:1', T), severity: 'critical' as const, tier: 'enterprise' as const, lifetimeValue: 500 };
    absorbOccurrences(s, [old]);
    absorbOccurrences(s, Array.from({ length: 210 }, (_, i) => occ(`api:n${i}`, T + (i + 1) * 60_000)));
    expect(s.stats.recent.some((r) => r.ticketId === 'zendesk:1')).toBe(false);
    expect(s.stats.total).toBe(211);
    const before = structuredClone(s);
    // Without its detail (the old path) the total cannot move.
    removeSplit(before, [old]);
    expect(before.stats.total).toBe(211);
    removeSplit(s, [old], [old]);
    expect(s.stats.total).toBe(210);
    expect(s.stats.severityCounts.critical).toBe(0);
    expect(s.stats.tierCounts.enterprise ?? 0).toBe(0);
    expect(s.stats.totalValue).toBe(0);
    expect(s.stats.counts.reduce((a, b) => a + b, 0)).toBe(210);
  });
});
