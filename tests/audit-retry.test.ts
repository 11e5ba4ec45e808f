// Retry safety of the audit trail across processes: an event's identity is its (workflow, key),
// kind and payload. The worker that sends it (actor id on old builds, `origin` now) may differ
// between attempts: an activity retried on another worker after a crash, `npm run demo` run again
// in the same folder, or an import of ids processed before. Each must succeed, with the repeat
// reported as a duplicate (the stored event comes back), never a conflict. SQLite file and
// PostgreSQL; the workflow-level cases run the real FeedbackWorkflow and activities on Temporal.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { parseKeyring, type AuditStore, type TAuditAppend } from '../activities/audit/index.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { createTriagePipeline, type TriagePipeline } from '../activities/triage/pipeline.js';
import type { Classifier } from '../activities/triage/ports.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { feedbackWorkflowId, type TFeedbackItem } from '../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW } from '../workflows/messages.js';
import { auditBackends } from './helpers/audit-backends.js';
import { createTestEnv, testDataConverter, uniqueTaskQueue } from './helpers/temporal-env.js';

const root = path.resolve(import.meta.dirname, '..');
const backends = await auditBackends('audit-retry');
afterEach(backends.cleanup);
afterAll(backends.stop);

function classified(workerId: string, n: number): TAuditAppend {
  return {
    workflowId: `feedback:api:${n}`,
    runId: `run-of-${workerId}`,
    eventKey: 'classified',
    actor: { type: 'worker', id: workerId },
    kind: 'classified',
    payload: { category: 'billing_error', confidence: 0.8, source: 'local', modelVersion: 'm1', taxonomyVersion: 't1' },
  };
}

const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const feedbackBundle = () =>
  (bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(root, 'workflows/feedback-bundle.ts'),
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never,
  }));

/**
 * One "process lifetime" of the loop: a fresh Temporal server (a new one forgets
 * everything, like a re-run demo) and a worker whose identity is `identity`, triaging `items`
 * into `audit`. Returns the workflow results in order.
 */
async function runLoop(audit: AuditStore, identity: string, items: TFeedbackItem[], triage: TriagePipeline = pipeline): Promise<unknown[]> {
  const env = await createTestEnv();
  try {
    const taskQueue = uniqueTaskQueue('retry');
    const activities = createActivities({
      pipeline: triage,
      audit,
      // IssueWorkflows are signalled onto a queue nobody polls: this test is about triage's audit.
      temporal: { client: env.client, taskQueue, issueTaskQueue: `${taskQueue}-issues` },
      issueConfig: () => ({ playbooks: [], policy: null }),
      integrations: {},
      contextSources: [],
      identity,
    });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await feedbackBundle(), activities, dataConverter: testDataConverter() });
    return await worker.runUntil(async () => {
      const handles = await Promise.all(
        items.map((item) => env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item), taskQueue, args: [item], retry: { maximumAttempts: 1 } })),
      );
      // One result() at a time: each unlocks and re-locks the Java server's time skipping, and
      // concurrent ones can trip its "Unbalanced lock and unlock calls" error.
      const results = [];
      for (const handle of handles) results.push(await handle.result());
      return results;
    });
  } finally {
    await env.teardown();
  }
}

async function sampleItems(n: number): Promise<TFeedbackItem[]> {
  const rows = await readFeedbackFile(path.join(root, 'samples/feedback-sample.jsonl'), { defaultSource: 'demo', defaultReceivedAt: '2026-11-20T00:00:00Z' });
  return rows.flatMap((r) => (r.item ? [r.item] : [])).slice(0, n);
}

for (const [backend, enabled] of backends.all) {
  // Several cases run FeedbackWorkflows on a fresh Temporal server: up to 40 s each on a busy machine.
  describe.skipIf(!enabled)(`audit retries across processes on ${backend.name}${enabled ? '' : ` (SKIPPED: ${backends.pgSkipReason})`}`, { timeout: 180_000 }, () => {
    it('returns the stored event when another worker (other actor id and origin) re-sends it', async () => {
      const f = await backend.fresh({ keyed: true, origin: 'host-a:111' });
      const first = await f.store.appendMany([classified('host-a:111', 1), classified('host-a:111', 2)]);
      const retrier = await f.open({ keyring: f.keyring!, origin: 'host-b:222' });
      const again = await retrier.appendMany([classified('host-b:222', 1), classified('host-b:222', 2)]);
      expect(again).toEqual(first);
      expect(again.map((e) => e.origin)).toEqual(['host-a:111', 'host-a:111']);
      expect(again.map((e) => e.actor.id)).toEqual(['host-a:111', 'host-a:111']);
      expect(await retrier.append(classified('host-c:333', 1))).toEqual(first[0]);
      expect(Number((await f.sql('SELECT COUNT(*) AS n FROM audit_events'))[0]?.n)).toBe(2);
      // Identity still covers the payload: a different decision under the same key is a conflict.
      const changed = { ...classified('host-b:222', 1), payload: { category: 'login_problem', confidence: 0.8, source: 'local', modelVersion: 'm1', taxonomyVersion: 't1' } } as TAuditAppend;
      await expect(retrier.append(changed)).rejects.toMatchObject({ code: 'conflict', retryable: false });
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 2, keyed: true });
    });

    it("treats a re-sent 'received' event with a new intake time as a duplicate, other changes as conflicts", async () => {
      const f = await backend.fresh({ keyed: true });
      const recv = (intakeAt: string, maskedText = 'card [CARD_1] declined'): TAuditAppend => ({
        workflowId: 'feedback:api:7',
        eventKey: 'received',
        actor: { type: 'worker', id: 'loopwright-worker' },
        kind: 'received',
        payload: { source: 'api', externalId: '7', receivedAt: '2026-11-20T09:00:00Z', intakeAt, maskedText },
      });
      const first = await f.store.append(recv('2026-11-29T10:00:00.000Z'));
      // A re-run demo or re-import takes the message in again: same event, later intake time.
      expect(await f.store.append(recv('2026-11-29T19:30:00.000Z'))).toEqual(first);
      await expect(f.store.append(recv('2026-11-29T19:30:00.000Z', 'card 4111 declined'))).rejects.toMatchObject({ code: 'conflict' });
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: 1 });
    });

    it('accepts a re-send from a separate OS process as a duplicate', async () => {
      // The child gets the same key through the environment, as a second worker would.
      const spec = `k9:${randomBytes(32).toString('base64url')}`;
      const g = await backend.fresh({ keyring: parseKeyring(spec, 'test'), origin: `parent:${process.pid}` });
      const rows = await g.store.appendMany(Array.from({ length: 10 }, (_, i) => classified(`parent:${process.pid}`, i)));
      const moduleUrl = new URL('../activities/audit/index.ts', import.meta.url).href;
      const script = `
        const { openAuditStore, parseKeyring } = await import(${JSON.stringify(moduleUrl)});
        const s = await openAuditStore(process.argv[1], { trust: { keyring: parseKeyring(process.env.K, 'K'), origin: 'child:' + process.pid } });
        const out = await s.appendMany(Array.from({ length: 10 }, (_, i) => ({
          workflowId: 'feedback:api:' + i, runId: 'run-of-child', eventKey: 'classified', actor: { type: 'worker', id: 'child:' + process.pid }, kind: 'classified',
          payload: { category: 'billing_error', confidence: 0.8, source: 'local', modelVersion: 'm1', taxonomyVersion: 't1' },
        })));
        process.stdout.write(JSON.stringify(out.map((e) => [e.seq, e.hash])));
        await s.close();`;
      const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, g.url], { env: { ...process.env, K: spec }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited ${code}: ${stderr}`))));
      });
      expect(JSON.parse(out)).toEqual(rows.map((e) => [e.seq, e.hash]));
      expect(Number((await g.sql('SELECT COUNT(*) AS n FROM audit_events'))[0]?.n)).toBe(10);
      expect(await g.store.verify()).toMatchObject({ ok: true, checkedEvents: 10 });
    });

    it('re-running the demo (a Temporal that forgot, a new worker process) succeeds with every audit event a duplicate', async () => {
      const f = await backend.fresh({ keyed: true });
      const items = await sampleItems(4);
      const firstResults = await runLoop(f.store, 'host-a:1001', items);
      expect(firstResults).toHaveLength(4);
      const before = await f.store.search({ limit: 10_000 });
      expect(before.filter((e) => e.kind === 'received')).toHaveLength(4);

      // Second run: another process identity, same audit store. Before the fix every triage
      // activity failed with a non-retryable conflict and the demo exited 1.
      const secondResults = await runLoop(f.store, 'host-b:2002', items);
      expect(secondResults).toEqual(firstResults);
      const after = await f.store.search({ limit: 10_000 });
      expect(after).toEqual(before);
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: before.length, keyed: true });
    });

    it('a message taken in again with other content (its tier changed before a re-import) is recorded beside the first, not a conflict', async () => {
      const f = await backend.fresh({ keyed: true });
      const items = await sampleItems(2);
      await runLoop(f.store, 'host-a:1001', items);
      // Temporal forgot the ids (retention, a new dev server); the CRM export now says enterprise.
      const upgraded = items.map((i) => ({ ...i, customer: { ...(i.customer ?? { id: `cust-${i.externalId}` }), tier: 'enterprise' as const } }));
      // Before: the fixed key 'received' made every message fail with a non-retryable conflict.
      const results = await runLoop(f.store, 'host-b:2002', upgraded);
      expect(results).toHaveLength(2);
      for (const item of items) {
        const received = (await f.store.trail(feedbackWorkflowId(item))).filter((e) => e.kind === 'received');
        expect(received.map((e) => (e.payload as { customerTier: string }).customerTier)).toEqual([item.customer?.tier ?? 'unknown', 'enterprise']);
        expect(new Set(received.map((e) => e.eventKey)).size).toBe(2);
      }
      // Taken in a third time unchanged (another intake time): duplicates, nothing new.
      const count = (await f.store.search({ kind: 'received', limit: 100 })).length;
      await runLoop(f.store, 'host-c:3003', upgraded);
      expect(await f.store.search({ kind: 'received', limit: 100 })).toHaveLength(count);
      expect(await f.store.verify()).toMatchObject({ ok: true, keyed: true });
    });

    it('a triage activity retried after a model change records both classifications, in order, without a conflict', async () => {
      const f = await backend.fresh({ keyed: true });
      const [item] = await sampleItems(1);
      // Attempt 1 classifies with model v1 and its audit append lands, then the worker dies before
      // the result reaches Temporal (an error after the append); attempt 2 runs on a worker
      // deployed meanwhile with model v2, which decides differently.
      const offline = trainOfflineClassifier(taxonomy);
      let calls = 0;
      const swapped: Classifier = {
        get modelVersion() {
          return calls <= 1 ? 'offline@v1' : 'offline@v2';
        },
        async classify(text) {
          calls += 1;
          const c = await offline.classify(text);
          if (calls === 1) return { ...c, modelVersion: 'offline@v1' };
          const { reviewReason: _r, ...rest } = c;
          return { ...rest, modelVersion: 'offline@v2', category: c.category === 'app_crash' ? 'billing' : 'app_crash', confidence: 0.91 };
        },
      };
      let appends = 0;
      let decidedByV2 = '';
      const crashing: AuditStore = Object.create(f.store, {
        appendMany: {
          value: async (events: TAuditAppend[]) => {
            const stored = await f.store.appendMany(events);
            if (events.some((e) => e.kind === 'classified') && ++appends === 1) throw new Error('worker lost after the audit append');
            return stored;
          },
        },
      }) as AuditStore;
      const env = await createTestEnv();
      try {
        const taskQueue = uniqueTaskQueue('reclassify');
        const activities = createActivities({
          pipeline: createTriagePipeline({ taxonomy, classifier: swapped }),
          audit: crashing,
          temporal: { client: env.client, taskQueue, issueTaskQueue: `${taskQueue}-issues` },
          issueConfig: () => ({ playbooks: [], policy: null }),
          integrations: {},
          contextSources: [],
          identity: 'loopwright-worker',
        });
        const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await feedbackBundle(), activities, dataConverter: testDataConverter() });
        const result = (await worker.runUntil(
          env.client.workflow.execute(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item!), taskQueue, args: [item!], retry: { maximumAttempts: 1 } }),
        )) as { triage: { classification: { category: string; modelVersion: string } } };
        // Before: attempt 2 hit a non-retryable "already appended with a different payload" conflict.
        expect(result.triage.classification.modelVersion).toBe('offline@v2');
        decidedByV2 = result.triage.classification.category;
      } finally {
        await env.teardown();
      }
      const trail = await f.store.trail(feedbackWorkflowId(item!));
      const classified = trail.filter((e) => e.kind === 'classified');
      expect(classified.map((e) => e.eventKey.split(':').slice(0, 2).join(':'))).toEqual(['classified:offline@v1', 'classified:offline@v2']);
      const categories = classified.map((e) => (e.payload as { category: string }).category);
      expect(categories[1]).toBe(decidedByV2);
      expect(categories[0]).not.toBe(decidedByV2);
      // Evidence names the fingerprint, which follows the category: recorded per outcome as well.
      expect(trail.filter((e) => e.kind === 'evidence').map((e) => (e.payload as { fingerprint: string }).fingerprint.split('.')[0])).toEqual(categories);
      // The message itself was the same: a duplicate, stored once.
      expect(trail.filter((e) => e.kind === 'received')).toHaveLength(1);
      expect(await f.store.verify()).toMatchObject({ ok: true, keyed: true });

      // The same model re-sending the same decision at another token cost is a duplicate.
      const again = classified[1]!;
      const resent = await f.store.append({ workflowId: again.workflowId, eventKey: again.eventKey, actor: again.actor, kind: 'classified', payload: { ...(again.payload as object), usage: { promptTokens: 9, completionTokens: 1, latencyMs: 420 } } } as TAuditAppend);
      expect(resent.seq).toBe(again.seq);
    });

    it('re-importing processed ids plus new ones: old ids are duplicates, new ones are appended', async () => {
      const f = await backend.fresh({ keyed: true });
      const items = await sampleItems(5);
      await runLoop(f.store, 'importer-1', items.slice(0, 3));
      const before = await f.store.search({ limit: 10_000 });
      await runLoop(f.store, 'importer-2', items);
      const after = await f.store.search({ limit: 10_000 });
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.filter((e) => e.kind === 'received').map((e) => e.workflowId).sort()).toEqual(items.map((i) => feedbackWorkflowId(i)).sort());
      expect(await f.store.verify()).toMatchObject({ ok: true, checkedEvents: after.length });
    });
  });
}
