// The emerging themes the CLI (`themes`, `status`) and GET /v1/themes list leave out the reports a
// burst adopted into an issue (activities/grouping/theme-list.ts). The defect: the adopted report
// kept its theme membership in the store (as it should: provenance) and every listing counted it in
// its theme as well as in the issue; a theme every report of which was adopted was still listed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGroupingStore } from '../activities/grouping/index.js';
import { describeThemes } from '../activities/grouping/themes.js';
import { listThemes } from '../activities/grouping/theme-list.js';
import { groupingUrlFor, type GroupingStore } from '../activities/grouping/store.js';
import { collectThemes } from '../worker/commands/status.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-theme-list-'));
const auditUrl = `sqlite:${join(dir, 'audit.sqlite')}`;
let store: GroupingStore;
const unit = (i: number) => {
  const v = new Float32Array(8);
  v[i % 8] = 1;
  return v;
};
const NOW = Date.parse('2026-11-20T12:00:00Z');

beforeAll(async () => {
  store = await openGroupingStore(groupingUrlFor(auditUrl));
  const theme = async (memberKey: string, groupKey: string, text: string, at: string, create: boolean) =>
    store.assign({
      member: {
        kind: 'theme',
        memberKey,
        groupKey,
        similarity: null,
        at,
        severity: 'low',
        text,
        info: { method: 'similarity' },
      },
      vector: unit(1),
      ...(create ? { create: { partition: 'needs_review' } } : {}),
    });
  await theme(
    'feedback:api:a#0-30',
    'theme.aaaaaaaaaaaa',
    'dark mode text unreadable at night',
    '2026-11-20T09:00:00Z',
    true,
  );
  await theme(
    'feedback:api:b#0-30',
    'theme.aaaaaaaaaaaa',
    'dark mode text is unreadable grey',
    '2026-11-20T09:10:00Z',
    false,
  );
  await theme(
    'feedback:api:c#0-30',
    'theme.aaaaaaaaaaaa',
    'cannot read text in dark mode',
    '2026-11-20T09:20:00Z',
    false,
  );
  await theme(
    'feedback:api:d#0-30',
    'theme.bbbbbbbbbbbb',
    'checkout button does nothing',
    '2026-11-20T09:30:00Z',
    true,
  );
  // A burst in app_crash.x adopted a and d (TBurstRule.adopt); e joined the issue on its own.
  const issue = async (memberKey: string, info: Record<string, unknown>, create: boolean) =>
    store.assign({
      member: {
        kind: 'issue',
        memberKey,
        groupKey: 'app_crash.0123456789ab',
        similarity: 0.6,
        at: '2026-11-20T09:40:00Z',
        severity: 'low',
        text: '',
        info,
      },
      vector: unit(2),
      ...(create ? { create: { partition: 'app_crash' } } : {}),
    });
  await issue('feedback:api:e#0-30', { method: 'fingerprint' }, true);
  await issue('feedback:api:a#0-30', { method: 'similarity', adoptedBy: 'feedback:api:e#0-30' }, false);
  await issue('feedback:api:d#0-30', { method: 'similarity', adoptedBy: 'feedback:api:e#0-30' }, false);
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('listing emerging themes', () => {
  it('leaves out adopted reports, and a theme all of whose reports were adopted', async () => {
    // What the listings showed before: every theme member, adopted or not.
    const before = describeThemes(await store.groups('theme'), await store.members('theme', null), { now: NOW });
    expect(before.map((t) => [t.id, t.size])).toEqual([
      ['theme.aaaaaaaaaaaa', 3],
      ['theme.bbbbbbbbbbbb', 1],
    ]);
    const views = await listThemes(store, { now: NOW });
    expect(views.map((t) => [t.id, t.size])).toEqual([['theme.aaaaaaaaaaaa', 2]]);
    expect(views[0]!.examples).not.toContain('dark mode text unreadable at night');
    // The store keeps the adopted report's theme membership (provenance).
    expect((await store.member('theme', 'feedback:api:a#0-30'))?.groupKey).toBe('theme.aaaaaaaaaaaa');
  });

  it('is what `status` shows', async () => {
    const views = await collectThemes(auditUrl, { limit: 5, now: NOW });
    expect(views?.map((t) => [t.id, t.size])).toEqual([['theme.aaaaaaaaaaaa', 2]]);
  });
});
