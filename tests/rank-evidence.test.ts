// Ranking on evidence (issue 17): tier alone never names a cause, decoys in other segments are
// penalised, regions come from the segment profile, scores are calibrated with a documented
// threshold, and the context range is on the event clock.
import { describe, expect, it } from 'vitest';
import { contextSearchRange, rankHypotheses, type TRankIssueInput } from '../activities/context/rank.js';
import type { TContextEventInput } from '../activities/context/events.js';
import { createActivities, rankIssueFromRequest, type ActivityDeps } from '../activities/index.js';
import type { ContextSource } from '../activities/context/ports.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { addToSegmentProfile, createSegmentProfile, type TSegmentProfile, type TSegmentValues } from '../workflows/domain/segments.js';

const SPIKE = '2026-11-20T14:00:00Z';
const profileOf = (reports: TSegmentValues[]): TSegmentProfile => reports.reduce((p, r) => addToSegmentProfile(p, r), createSegmentProfile());
const repeat = <T,>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

const regionalIssue = (region: string): TRankIssueInput => ({
  category: 'payment_failure',
  firstSeen: '2026-11-20T13:30:00Z',
  spikeAt: SPIKE,
  evidence: [],
  profile: profileOf([...repeat(18, { region, platform: 'web' as const }), { region: 'us-east', platform: 'web' as const }]),
});

const ev = (patch: Partial<TContextEventInput> & { id: string }): TContextEventInput => ({ kind: 'deploy', title: patch.id, at: '2026-11-20T13:20:00Z', ...patch });

describe('ranking on evidence', () => {
  it('never names a cause on a customer-tier match alone (the defect: tier counted as specific)', () => {
    const issue: TRankIssueInput = { category: 'app_crash', firstSeen: '2026-11-20T12:00:00Z', spikeAt: SPIKE, segments: { versions: [], platforms: [], regions: [], tiers: ['enterprise', 'free'] } };
    const r = rankHypotheses(issue, [ev({ id: 'enterprise-rollout', segments: { tiers: ['enterprise'] } })]);
    expect(r.verdict).toBe('insufficient_evidence');
    expect(r.belowThreshold[0]?.reasons).toContain('segments.tiers: enterprise (not evidence by itself: 0)');
  });

  it('a regional incident beats the same incident shape in another region (the defect: regions were [])', () => {
    const events = [
      ev({ id: 'psp-outage-eu', kind: 'incident', at: '2026-11-20T13:25:00Z', segments: { regions: ['eu-west'] }, categories: ['payment_failure'] }),
      ev({ id: 'psp-outage-ap', kind: 'incident', at: '2026-11-20T13:25:00Z', segments: { regions: ['ap-south'] }, categories: ['payment_failure'] }),
    ];
    const eu = rankHypotheses(regionalIssue('eu-west'), events);
    expect(eu.hypotheses.map((h) => h.eventId)).toEqual(['psp-outage-eu']);
    const ap = rankHypotheses(regionalIssue('ap-south'), events);
    expect(ap.hypotheses.map((h) => h.eventId)).toEqual(['psp-outage-ap']);
    expect(ap.belowThreshold[0]?.reasons.join(' ')).toContain('contradiction');
  });

  it('penalises a change scoped to a platform the reports do not come from, however close in time', () => {
    const issue: TRankIssueInput = { category: 'app_crash', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, profile: profileOf([...repeat(20, { platform: 'android' as const, appVersion: '6.1.0' }), { platform: 'ios' as const, appVersion: '6.1.0' }]) };
    const r = rankHypotheses(issue, [
      ev({ id: 'ios-6.1', at: '2026-11-20T13:55:00Z', segments: { platforms: ['ios'], versions: ['6.1'] } }),
      ev({ id: 'android-6.1', at: '2026-11-20T11:00:00Z', segments: { platforms: ['android'], versions: ['6.1'] } }),
    ]);
    expect(r.hypotheses.map((h) => h.eventId)).toEqual(['android-6.1']);
  });

  it('an error code the change is known to produce is specific evidence; another code counts against it', () => {
    const issue: TRankIssueInput = { category: 'app_crash', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, evidence: ['E4339'] };
    const r = rankHypotheses(issue, [ev({ id: 'a', evidence: ['E4339'] }), ev({ id: 'b', evidence: ['E1001'] })]);
    expect(r.hypotheses.map((h) => h.eventId)).toEqual(['a']);
    expect(r.belowThreshold.find((h) => h.eventId === 'b')?.reasons.join(' ')).toContain('other codes');
  });

  it('scores are probabilities on one documented threshold, with the arithmetic in the reasons', () => {
    const issue: TRankIssueInput = { category: 'app_crash', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, evidence: ['E4339'] };
    const events = [ev({ id: 'a', evidence: ['E4339'] })];
    const r = rankHypotheses(issue, events);
    expect(r.hypotheses[0]!.score).toBeGreaterThan(0.5);
    expect(r.hypotheses[0]!.reasons.at(-1)).toMatch(/^score: logistic\(-?\d+(\.\d+)?\) = 0\.\d+$/);
    expect(rankHypotheses(issue, events, { minScore: 0.99 }).verdict).toBe('insufficient_evidence');
  });

  it('a daily platform change does not explain an issue whose reports are on that platform about as often as any issue (the defect: 13 of 20 counted as a match)', () => {
    // No cause: reports from random platforms, 13 of 20 on Android by chance; an Android flag 30 min before.
    const issue: TRankIssueInput = { category: 'delivery', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, profile: profileOf([...repeat(13, { platform: 'android' as const }), ...repeat(5, { platform: 'ios' as const }), ...repeat(2, { platform: 'web' as const })]) };
    const flag = ev({ id: 'churn-flag-android', kind: 'feature_flag', at: '2026-11-20T13:30:00Z', segments: { platforms: ['android'] } });
    const r = rankHypotheses(issue, [flag]);
    expect(r.verdict).toBe('insufficient_evidence');
    expect(r.belowThreshold[0]?.reasons.join(' ')).toMatch(/13 of 20: as likely as 0\.132 by chance at a presumed share of 50% \(> 0\.05: partial/);
    // The old rule (coverage alone) named it: the switch is the only difference.
    expect(rankHypotheses(issue, [flag], { matchAlpha: 1 }).hypotheses.map((h) => h.eventId)).toEqual(['churn-flag-android']);
  });

  it('an open incident of the category does not explain an issue whose region share is ordinary (71% of 17)', () => {
    const issue: TRankIssueInput = { category: 'payment_failure', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, profile: profileOf([...repeat(12, { region: 'us-east' }), ...repeat(5, { region: 'eu-west' })]) };
    const inc = ev({ id: 'psp-minor-us', kind: 'incident', at: '2026-11-20T13:00:00Z', segments: { regions: ['us-east'] }, categories: ['payment_failure'] });
    expect(rankHypotheses(issue, [inc]).verdict).toBe('insufficient_evidence');
    expect(rankHypotheses(issue, [inc], { matchAlpha: 1 }).verdict).toBe('ranked');
  });

  it('a concentrated scope still matches on few reports: 7 of 8 on the released version, 9 of 10 in the incident region', () => {
    const release: TRankIssueInput = { category: 'app_crash', firstSeen: '2026-11-20T13:30:00Z', spikeAt: SPIKE, profile: profileOf([...repeat(7, { platform: 'ios' as const, appVersion: '7.2.0' }), { platform: 'android' as const, appVersion: '6.0.2' }]) };
    const r = rankHypotheses(release, [ev({ id: 'deploy-ios-7.2.0', at: '2026-11-20T13:00:00Z', segments: { platforms: ['ios'], versions: ['7.2.0'] } })]);
    expect(r.hypotheses.map((h) => h.eventId)).toEqual(['deploy-ios-7.2.0']);
    expect(r.hypotheses[0]!.reasons.join(' ')).toContain('covers 88% of the reports (match');
    const regional = regionalIssue('eu-west');
    const inc = ev({ id: 'carrier-eu', kind: 'incident', at: '2026-11-20T13:25:00Z', segments: { regions: ['eu-west'] }, categories: ['payment_failure'] });
    expect(rankHypotheses({ ...regional, profile: profileOf([...repeat(9, { region: 'eu-west' }), { region: 'us-east' }]) }, [inc]).verdict).toBe('ranked');
    // The price: one report (or four) on a platform is what chance gives; only a code or more reports name a cause.
    const deploy = ev({ id: 'deploy-android', at: '2026-11-20T13:30:00Z', segments: { platforms: ['android'] } });
    expect(rankHypotheses({ category: 'app_crash', firstSeen: SPIKE, spikeAt: SPIKE, profile: profileOf(repeat(4, { platform: 'android' as const })) }, [deploy]).verdict).toBe('insufficient_evidence');
    expect(rankHypotheses({ category: 'app_crash', firstSeen: SPIKE, spikeAt: SPIKE, profile: profileOf(repeat(5, { platform: 'android' as const })) }, [deploy]).verdict).toBe('ranked');
  });

  it('counts the reports of the hour before the spike for the chance test, not decayed weights (the defect: an everyday issue\'s hours-old background weighed as 3 more trials)', () => {
    const MIN = 60_000;
    const t0 = Date.parse(SPIKE);
    // Background every 40 min in other regions for five hours, then 5 reports in ap-south in 5 minutes.
    const reports = [
      ...Array.from({ length: 8 }, (_, i) => ({ at: t0 - 70 * MIN - 40 * (7 - i) * MIN, seg: { platform: 'web' as const, region: i % 2 ? 'eu-west' : 'us-east' } })),
      ...Array.from({ length: 5 }, (_, i) => ({ at: t0 + i * MIN, seg: { platform: 'web' as const, region: 'ap-south' } })),
    ];
    const issue: TRankIssueInput = {
      category: 'app_crash',
      firstSeen: new Date(reports[0]!.at).toISOString(),
      spikeAt: new Date(t0 + 4 * MIN).toISOString(),
      profile: reports.reduce((p, r) => addToSegmentProfile(p, r.seg, r.at), createSegmentProfile()),
    };
    const events = ['eu-west', 'ap-south'].map((region) => ev({ id: `psp-outage-${region}`, kind: 'incident', at: new Date(t0 - 10 * MIN).toISOString(), segments: { regions: [region] }, categories: ['app_crash'] }));
    const r = rankHypotheses(issue, events);
    expect(r.hypotheses.map((h) => h.eventId)).toEqual(['psp-outage-ap-south']);
    expect(r.hypotheses[0]!.reasons).toContain('segments.regions: ap-south covers 100% of the reports, 5 of 5 in the 60 min before the anchor (match, +1.5)');
    // rank-v3's arithmetic on the same profile (decayed weights, rounded): 5 of 8, partial, no cause.
    const old = rankHypotheses(issue, events, { countWindowMinutes: 0 });
    expect(old.verdict).toBe('insufficient_evidence');
    expect(old.belowThreshold.find((h) => h.eventId === 'psp-outage-ap-south')!.reasons.join(' ')).toContain('5 of 8: as likely as 0.363 by chance');
    // Counts that are not complete for the window (a run that took the patch mid-issue): the weights, as before.
    const partial = { ...issue, profile: { ...issue.profile!, counts: { ...issue.profile!.counts!, complete: t0 } } };
    expect(rankHypotheses(partial, events).verdict).toBe('insufficient_evidence');
    // The worker's request keeps the counts on their way to the ranker.
    const req = rankIssueFromRequest({ workflowId: 'issue:x', category: 'app_crash', firstSeen: t0 - 6 * 60 * MIN, spikeAt: t0 + 4 * MIN, evidence: [], tiers: [], profile: issue.profile! });
    expect(req.profile?.counts).toEqual(issue.profile!.counts);
    expect(rankHypotheses(req, events).hypotheses.map((h) => h.eventId)).toEqual(['psp-outage-ap-south']);
  });

  it('asks sources for a range on the event clock only', () => {
    const firstSeen = Date.parse('2026-10-01T00:00:00Z');
    const spikeAt = Date.parse('2026-10-03T12:00:00Z');
    expect(contextSearchRange({ firstSeen, spikeAt })).toEqual({ from: '2026-09-24T00:00:00.000Z', to: '2026-10-03T12:15:00.000Z' });
  });

  it('builds the ranking input from the request: profile regions, text platforms where metadata had none', () => {
    const input = rankIssueFromRequest({
      workflowId: 'issue:x',
      category: 'app_crash',
      firstSeen: Date.parse('2026-11-20T13:00:00Z'),
      spikeAt: Date.parse(SPIKE),
      evidence: [{ kind: 'os_version', value: 'Android 13', normalized: 'android 13', start: 0, end: 10 }],
      tiers: ['free'],
      profile: profileOf(repeat(3, { region: 'eu-west' })),
    });
    expect(input.profile?.dims.regions?.values).toEqual({ 'eu-west': 3 });
    expect(input.profile?.dims.platforms?.values).toEqual({ 'android 13': 1 });
    // Named in text, not counted: a listed platform is not put to the chance test (one name is all there is).
    expect(input.listedDims).toEqual(['platforms', 'versions']);
    const r = rankHypotheses(input, [ev({ id: 'android-13-rollout', at: '2026-11-20T13:30:00Z', segments: { platforms: ['android 13'] }, evidence: [] })]);
    expect(r.hypotheses[0]?.reasons).toContain('segments.platforms: android 13 covers 100% of the reports (match, +1.5)');
  });

  it('a failing source makes the answer degraded and audited, never a silent insufficient evidence', async () => {
    const ok: ContextSource = { name: 'file:ok', listEvents: () => Promise.resolve([{ id: 'r', kind: 'deploy', title: 'release', at: '2026-11-20T13:00:00Z', segments: { versions: [], platforms: [], regions: [], tiers: [] }, evidence: ['E4339'], categories: [] }]) };
    const down: ContextSource = { name: 'http:ctx', listEvents: () => Promise.reject(new LoopwrightError('upstream_unavailable', 'context source http:ctx: HTTP 503')) };
    const acts = createActivities({ contextSources: [ok, down], audit: {} } as unknown as ActivityDeps);
    const req = { workflowId: 'issue:x', category: 'app_crash', firstSeen: Date.parse('2026-11-20T13:30:00Z'), spikeAt: Date.parse(SPIKE), evidence: [], tiers: [] };
    const r = await acts.rankRootCause(req);
    expect(r.verdict).toBe('insufficient_evidence');
    expect(r.degraded).toBe(true);
    expect(r.unavailableSources).toEqual(['http:ctx: context source http:ctx: HTTP 503']);
    expect(r.rankerVersion).toMatch(/^rank-v4 degraded: http:ctx/);
    const all = createActivities({ contextSources: [down], audit: {} } as unknown as ActivityDeps);
    await expect(all.rankRootCause(req)).rejects.toThrow(/no context source answered/);
  });
});
