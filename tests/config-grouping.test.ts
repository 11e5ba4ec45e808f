// Grouping settings operators can switch without a code change (README "Configuration").
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../worker/config.js';

describe('grouping configuration', () => {
  it('defaults to centroid linkage with the burst rule and the surge rule on, folding off', () => {
    const c = parseConfig({});
    expect(c.grouping).toMatchObject({ linkage: 'centroid', burst: true, surge: true, fold: false });
  });

  it('GROUPING_FOLD=on turns on the burst rule\'s merge after the fact', () => {
    expect(parseConfig({ GROUPING_FOLD: 'on' }).grouping).toMatchObject({ burst: true, fold: true });
    expect(parseConfig({ GROUPING_FOLD: 'off' }).grouping).toMatchObject({ fold: false });
  });

  it('GROUPING_BURST=off, GROUPING_SURGE=off and GROUPING_LINKAGE=nearest are read', () => {
    const c = parseConfig({ GROUPING_BURST: 'off', GROUPING_SURGE: 'off', GROUPING_LINKAGE: 'nearest', GROUPING_ISSUE_THRESHOLD: '0.5' });
    expect(c.grouping).toMatchObject({ linkage: 'nearest', burst: false, surge: false, issueThreshold: 0.5 });
  });

  it('refuses an unknown value with the variable named', () => {
    expect(() => parseConfig({ GROUPING_BURST: 'maybe' })).toThrow(/GROUPING_BURST/);
    expect(() => parseConfig({ GROUPING_SURGE: 'sometimes' })).toThrow(/GROUPING_SURGE/);
    expect(() => parseConfig({ GROUPING_FOLD: 'yes' })).toThrow(/GROUPING_FOLD/);
    expect(() => parseConfig({ GROUPING_LINKAGE: 'single' })).toThrow(/GROUPING_LINKAGE/);
  });
});
