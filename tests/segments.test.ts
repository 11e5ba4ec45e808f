// Segments from metadata (issue 17): typed fields validated at intake, normalised, carried into the
// triage result and the issue's segment profile; CSV/JSONL import maps columns to them.
import { describe, expect, it } from 'vitest';
import { readCsv, readJsonl } from '../activities/triage/input-files.js';
import { feedbackSegments, ZFeedbackItem } from '../workflows/domain/feedback.js';
import {
  addToSegmentProfile,
  countsInWindow,
  createSegmentProfile,
  mergeSegmentCounts,
  parseSegmentMetadata,
  PROFILE_COUNT_SPAN_MS,
  platformFamily,
  profileShare,
  versionRange,
  ZSegmentProfile,
} from '../workflows/domain/segments.js';
import { ZTriageResult } from '../workflows/domain/triage.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';

const item = (metadata: Record<string, string | number | boolean | null>) => ({
  source: 'api',
  externalId: 'm-1',
  text: 'The app crashes when I open the camera',
  receivedAt: '2026-11-20T10:00:00Z',
  channel: 'chat' as const,
  metadata,
});
const opts = { defaultSource: 'import', defaultReceivedAt: '2026-11-20T00:00:00Z' };

describe('segment metadata', () => {
  it('normalises platforms into families and versions into ranges', () => {
    expect(['iPhone 15', 'iPadOS', 'ios'].map(platformFamily)).toEqual(['ios', 'ios', 'ios']);
    expect(['Android', 'Pixel 7', 'Galaxy S23'].map(platformFamily)).toEqual(['android', 'android', 'android']);
    expect(['Chrome', 'web'].map(platformFamily)).toEqual(['web', 'web']);
    expect(versionRange('5.2.1')).toBe('5.2');
    const { segments, problems } = parseSegmentMetadata({ platform: 'Android', os_version: '13', appVersion: 'v5.2.1', device: 'Pixel  7', region: 'EU West', plan: 'Pro', other: 'kept' }, 'chat');
    expect(problems).toEqual([]);
    expect(segments).toEqual({ platform: 'android', osVersion: 'android 13', appVersion: '5.2.1', device: 'pixel 7', region: 'eu-west', plan: 'pro', channel: 'chat' });
    expect(parseSegmentMetadata({ os_version: 'iOS 17.2.1' }).segments).toEqual({ platform: 'ios', osVersion: 'ios 17.2' });
    expect(parseSegmentMetadata({ device: 'iPhone 14' }).segments).toEqual({ device: 'iphone 14', platform: 'ios' });
  });

  it('rejects at intake a segment value that cannot be what its key says, naming the key', () => {
    const bad = ZFeedbackItem.safeParse(item({ platform: 'toaster', app_version: 'latest' }));
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['metadata.platform', 'metadata.app_version']));
    const ok = ZFeedbackItem.parse(item({ platform: 'iOS', app_version: '5.2.1', region: 'us-east' }));
    expect(feedbackSegments(ok)).toEqual({ platform: 'ios', appVersion: '5.2.1', region: 'us-east', channel: 'chat' });
  });

  it('maps CSV columns and JSONL top-level fields to the segment metadata', () => {
    const csv = readCsv(new TextEncoder().encode('id,text,platform,app_version,region,plan\n1,app crashes,Android,5.2.1,eu-west,pro\n2,crash,toaster,,,\n'), opts);
    expect(csv[0]!.item?.metadata).toEqual({ platform: 'Android', app_version: '5.2.1', region: 'eu-west', plan: 'pro' });
    expect(feedbackSegments(csv[0]!.item!)).toMatchObject({ platform: 'android', appVersion: '5.2.1', region: 'eu-west', plan: 'pro' });
    expect(csv[1]!.error?.message).toMatch(/row 2 .*metadata\.platform/);
    const jsonl = readJsonl(new TextEncoder().encode('{"id":"a","text":"crash","platform":"iOS","osVersion":"17.2"}\n{"id":"b","text":"x","region":"eu","metadata":{"region":"us"}}\n'), opts);
    expect(feedbackSegments(jsonl[0]!.item!)).toMatchObject({ platform: 'ios', osVersion: 'ios 17.2' });
    expect(jsonl[1]!.error?.message).toContain('"region" given both');
  });

  it('reads a date without a time as midnight UTC of that day (as export --from does), and refuses what it cannot place', () => {
    const rows = readCsv(
      new TextEncoder().encode('id,text,received_at\n1,app crashes,2026-11-29\n2,crash,2026-02-30\n3,crash,2026-11-29 14:05\n4,crash,2026-11-29T14:05:00+01:00\n5,crash,\n'),
      opts,
    );
    expect(rows[0]!.item?.receivedAt).toBe('2026-11-29T00:00:00.000Z');
    expect(rows[1]!.error?.message).toMatch(/row 2 .*receivedAt/);
    expect(rows[2]!.error?.message).toMatch(/row 3 .*receivedAt/);
    expect(rows[3]!.item?.receivedAt).toBe('2026-11-29T14:05:00+01:00');
    expect(rows[4]!.item?.receivedAt).toBe(opts.defaultReceivedAt);
    const jsonl = readJsonl(new TextEncoder().encode('{"id":"a","text":"crash","receivedAt":"2026-11-30"}\n'), opts);
    expect(jsonl[0]!.item?.receivedAt).toBe('2026-11-30T00:00:00.000Z');
  });

  it('carries the segments into the triage result', async () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    const r = await pipeline.triage(item({ platform: 'Android', app_version: '5.2.1', region: 'eu-west' }));
    expect(ZTriageResult.parse(r).segments).toEqual({ platform: 'android', appVersion: '5.2.1', region: 'eu-west', channel: 'chat' });
  });

  it('accumulates a bounded segment profile with shares per dimension', () => {
    let p = createSegmentProfile();
    for (let i = 0; i < 9; i++) p = addToSegmentProfile(p, { platform: 'android', appVersion: '5.2.1', region: 'eu-west' });
    p = addToSegmentProfile(p, { platform: 'ios', region: 'us-east' });
    p = addToSegmentProfile(p, undefined);
    for (let i = 0; i < 50; i++) p = addToSegmentProfile(p, { region: `r-${i}` });
    expect(ZSegmentProfile.parse(p)).toEqual(p);
    expect(p.reports).toBe(61);
    expect(profileShare(p, 'platforms', (v) => v === 'android')).toBeCloseTo(0.9);
    expect(Object.keys(p.dims.regions!.values).length).toBeLessThanOrEqual(20);
    expect(p.dims.regions!.values['eu-west']).toBe(9);
  });
});

describe('segment profile in event time', () => {
  it('describes the current wave, not two weeks of background, whatever the arrival order', () => {
    const H = 3_600_000;
    const T = Date.UTC(2026, 10, 1);
    const background = Array.from({ length: 300 }, (_, i) => ({ seg: { platform: (i % 2 ? 'ios' : 'web') as 'ios' | 'web' }, at: T + i * H }));
    const wave = Array.from({ length: 20 }, (_, i) => ({ seg: { platform: 'android' as const }, at: T + 300 * H + i * 60_000 }));
    const all = [...background, ...wave];
    const inOrder = all.reduce((p, r) => addToSegmentProfile(p, r.seg, r.at), createSegmentProfile());
    expect(profileShare(inOrder, 'platforms', (v) => v === 'android')).toBeGreaterThan(0.8);
    const shuffled = [...all].reverse().reduce((p, r) => addToSegmentProfile(p, r.seg, r.at), createSegmentProfile());
    expect(profileShare(shuffled, 'platforms', (v) => v === 'android')).toBeCloseTo(profileShare(inOrder, 'platforms', (v) => v === 'android'), 6);
  });
});

describe('segment profile: plain counts by event time (what ranking counts)', () => {
  const MIN = 60_000;
  const T = Date.UTC(2026, 10, 20, 14);
  type R = { seg: { platform: 'android' | 'ios'; region: string }; at: number };
  const fold = (rs: readonly R[], p = createSegmentProfile(), counts = true) => rs.reduce((acc, r) => addToSegmentProfile(acc, r.seg, r.at, { counts }), p);
  // An everyday issue: a report every 40 minutes for five hours, then a spike of 7 in eu-west.
  const background: R[] = Array.from({ length: 8 }, (_, i) => ({ seg: { platform: i % 2 ? 'ios' : 'android', region: 'us-east' }, at: T - 70 * MIN - 40 * i * MIN }));
  const spike: R[] = Array.from({ length: 7 }, (_, i) => ({ seg: { platform: 'android', region: 'eu-west' }, at: T + i * MIN }));

  it('counts each report once in its window, where decayed weights make fractions of reports (the defect: 7 reports weighed about 6.9, background hours old weighed 3 more)', () => {
    const p = fold([...background.slice().reverse(), ...spike]);
    expect(ZSegmentProfile.parse(p)).toEqual(p);
    const hour = countsInWindow(p, T + 6 * MIN - 60 * MIN, T + 6 * MIN)!;
    expect(hour.dims.regions).toEqual({ reports: 7, values: { 'eu-west': 7 } });
    expect(hour.dims.platforms).toEqual({ reports: 7, values: { android: 7 } });
    // The weights of the same reports: not a number of reports.
    expect(p.dims.regions!.reports).toBeGreaterThan(9);
    expect(p.dims.regions!.reports % 1).not.toBe(0);
    const fiveHours = countsInWindow(p, T - 119 * MIN, T + 6 * MIN)!;
    expect(fiveHours.dims.regions!.values).toEqual({ 'eu-west': 7, 'us-east': 2 });
  });

  it('does not depend on the order reports arrive in', () => {
    const all = [...background, ...spike];
    const a = fold(all);
    const b = fold([...all].reverse());
    expect(countsInWindow(b, T - 2 * 60 * MIN, T + 10 * MIN)).toEqual(countsInWindow(a, T - 2 * 60 * MIN, T + 10 * MIN));
  });

  it('keeps two hours before the newest report; a window reaching further back, or before counting began, is not counted', () => {
    const p = fold([...background.slice().reverse(), ...spike]);
    expect(p.counts!.buckets.every((b) => b.start + p.counts!.bucketMs > T + 6 * MIN - PROFILE_COUNT_SPAN_MS)).toBe(true);
    expect(p.counts!.complete).not.toBeNull();
    expect(countsInWindow(p, T - 3 * 60 * MIN, T + 6 * MIN)).toBeUndefined();
    // A run that took the patch mid-issue: the background was weighed, not counted.
    const mid = fold(spike, fold(background.slice().reverse(), createSegmentProfile(), false));
    expect(mid.counts!.complete).toBe(T);
    expect(countsInWindow(mid, T - 30 * MIN, T + 6 * MIN)).toBeUndefined();
    expect(countsInWindow(mid, T, T + 6 * MIN)!.dims.regions).toEqual({ reports: 7, values: { 'eu-west': 7 } });
    // Without the patch (or without event time) nothing is counted: the older shape.
    expect(fold(spike, createSegmentProfile(), false).counts).toBeUndefined();
    expect(addToSegmentProfile(createSegmentProfile(), { region: 'eu-west' }).counts).toBeUndefined();
    expect(ZSegmentProfile.parse({ reports: 2, at: T, dims: { regions: { reports: 1.5, values: { 'eu-west': 1.5 } } } }).counts).toBeUndefined();
  });

  it('merges counts bucket by bucket; an uncounted side leaves them incomplete', () => {
    const a = fold(spike.slice(0, 4));
    const b = fold(spike.slice(4));
    const merged = { ...b, counts: mergeSegmentCounts(a, b) };
    expect(countsInWindow(merged, T - 30 * MIN, T + 10 * MIN)).toEqual(countsInWindow(fold(spike), T - 30 * MIN, T + 10 * MIN));
    const uncounted = fold(spike.slice(4), createSegmentProfile(), false);
    expect(mergeSegmentCounts(a, uncounted)!.complete).toBe(T + 6 * MIN + 1);
    expect(mergeSegmentCounts(uncounted, uncounted)).toBeUndefined();
  });
});
