// Segments from metadata (issue 17): typed fields validated at intake, normalised, carried into the
// triage result and the issue's segment profile; CSV/JSONL import maps columns to them.
import { describe, expect, it } from 'vitest';
import { readCsv, readJsonl } from '../activities/triage/input-files.js';
import { feedbackSegments, ZFeedbackItem } from '../workflows/domain/feedback.js';
import {
  addToSegmentProfile,
  createSegmentProfile,
  parseSegmentMetadata,
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
