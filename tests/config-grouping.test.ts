// Grouping settings operators can switch without a code change (README "Configuration").
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../worker/config.js';

describe('grouping configuration', () => {
  it('defaults to centroid linkage with the burst rule, the surge rule, their folds and the adoption on', () => {
    const c = parseConfig({});
    expect(c.grouping).toMatchObject({ linkage: 'centroid', burst: true, surge: true, fold: true, adopt: true });
  });

  it('GROUPING_ADOPT=off turns the adoption of needs_review reports off, the rules and folds stay', () => {
    expect(parseConfig({ GROUPING_ADOPT: 'off' }).grouping).toMatchObject({ burst: true, surge: true, fold: true, adopt: false });
    expect(parseConfig({ GROUPING_ADOPT: 'on' }).grouping).toMatchObject({ adopt: true });
  });

  it("GROUPING_RELEASE_FOLD=on turns a release's merge after the fact on; it is off by default", () => {
    // Off unless asked for (docs/benchmarks.md, session 11: it failed the detection bench's release gate).
    expect(parseConfig({}).grouping).toMatchObject({ releaseFold: false });
    expect(parseConfig({ GROUPING_RELEASE_FOLD: 'on' }).grouping).toMatchObject({ releaseFold: true });
    expect(() => parseConfig({ GROUPING_RELEASE_FOLD: 'yes' })).toThrow(/GROUPING_RELEASE_FOLD/);
  });

  it('GROUPING_FOLD=off turns the merge after the fact off, the rules stay', () => {
    expect(parseConfig({ GROUPING_FOLD: 'off' }).grouping).toMatchObject({ burst: true, surge: true, fold: false });
    expect(parseConfig({ GROUPING_FOLD: 'on' }).grouping).toMatchObject({ fold: true });
  });

  it('GROUPING_BURST=off, GROUPING_SURGE=off and GROUPING_LINKAGE=nearest are read', () => {
    const c = parseConfig({ GROUPING_BURST: 'off', GROUPING_SURGE: 'off', GROUPING_LINKAGE: 'nearest', GROUPING_ISSUE_THRESHOLD: '0.5' });
    expect(c.grouping).toMatchObject({ linkage: 'nearest', burst: false, surge: false, issueThreshold: 0.5 });
  });

  it('refuses an unknown value with the variable named', () => {
    expect(() => parseConfig({ GROUPING_BURST: 'maybe' })).toThrow(/GROUPING_BURST/);
    expect(() => parseConfig({ GROUPING_SURGE: 'sometimes' })).toThrow(/GROUPING_SURGE/);
    expect(() => parseConfig({ GROUPING_FOLD: 'yes' })).toThrow(/GROUPING_FOLD/);
    expect(() => parseConfig({ GROUPING_ADOPT: 'true' })).toThrow(/GROUPING_ADOPT/);
    expect(() => parseConfig({ GROUPING_LINKAGE: 'single' })).toThrow(/GROUPING_LINKAGE/);
  });
});
