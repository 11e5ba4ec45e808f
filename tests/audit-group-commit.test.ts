import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSqliteAuditStore, type AuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { createGroupCommit } from '../activities/audit/group-commit.js';

let dir: string;
let store: AuditStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lw-group-'));
  store = await createSqliteAuditStore(path.join(dir, 'a.sqlite'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const event = (wf: string, key: string, confidence = 0.9): TAuditAppend => ({
  workflowId: wf,
  eventKey: key,
  actor: { type: 'system', id: 'test' },
  kind: 'classified',
  payload: { category: 'billing', confidence, source: 'local', modelVersion: 'm', taxonomyVersion: 't@1.0.0' },
});

it('commits concurrent callers together and gives each its own events, in order, on valid chains', async () => {
  let transactions = 0;
  const counting = { appendMany: (es: readonly TAuditAppend[]) => (transactions++, store.appendMany(es)) };
  const group = createGroupCommit(counting, { maxWaitMs: 5 });
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => group.appendMany([event(`wf-${i % 4}`, `k${i}`), event(`wf-${i % 4}`, `k${i}b`)])));
  expect(transactions).toBeLessThan(5);
  results.forEach((r, i) => expect(r.map((e) => e.eventKey)).toEqual([`k${i}`, `k${i}b`]));
  expect((await store.verify()).ok).toBe(true);
  expect((await store.search({ limit: 1000 })).length).toBe(80);
});

it('a bad batch fails only its own caller; the others are committed', async () => {
  const group = createGroupCommit(store, { maxWaitMs: 5 });
  const outcomes = await Promise.allSettled([
    group.appendMany([event('wf', 'good-1')]),
    group.appendMany([event('wf', 'bad', 7)]),
    group.appendMany([event('wf', 'good-2')]),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_input' });
  expect((await store.trail('wf')).map((e) => e.eventKey)).toEqual(['good-1', 'good-2']);
});

it('retried appends with the same keys stay idempotent inside one group', async () => {
  const group = createGroupCommit(store, { maxWaitMs: 5 });
  const [a, b] = await Promise.all([group.appendMany([event('wf', 'same')]), group.appendMany([event('wf', 'same')])]);
  expect(a[0]!.seq).toBe(b[0]!.seq);
  expect(await store.trail('wf')).toHaveLength(1);
});
