// The review loop and emerging themes end to end on real files: a SQLite audit store seeded the
// way triage writes it, the grouping store beside it, the `review` and `themes` CLI commands, the
// HTTP endpoints (GET /v1/themes, /v1/review, POST /v1/review/:id, /v1/model/reload), the
// labeled-data file a label appends to, and a classifier whose next version learns from it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, type AuditStore } from '../activities/audit/index.js';
import { createGrouper } from '../activities/grouping/assign.js';
import { groupingUrlFor, openGroupingStore, type GroupingStore } from '../activities/grouping/index.js';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { readLabeledFile } from '../activities/triage/labeled-data.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { NEEDS_REVIEW } from '../workflows/domain/triage.js';
import { createReloadablePipeline } from '../worker/brain/reloadable-pipeline.js';
import { command as review } from '../worker/commands/review.js';
import { command as themes } from '../worker/commands/themes.js';
import { collectThemes } from '../worker/commands/status.js';
import { readReportEvents } from '../worker/commands/report.js';
import { aggregateReport } from '../worker/report/aggregate.js';
import { renderReportHtml } from '../worker/report/render.js';
import type { CliIo } from '../worker/commands/types.js';
import { createHttpApp } from '../worker/http/app.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-review-'));
const auditFile = join(dir, 'audit.sqlite');
const labeledFile = join(dir, 'labeled.jsonl');
const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
let audit: AuditStore;
let grouping: GroupingStore;
let encoder: SentenceEncoder;
const themeIds: string[] = [];

const MESSAGES = [
  { id: 'api:m1', text: 'The new dark mode makes the text unreadable at night', category: NEEDS_REVIEW, confidence: 0.31 },
  { id: 'api:m2', text: 'Dark mode text is unreadable, grey on black', category: NEEDS_REVIEW, confidence: 0.28 },
  { id: 'api:m3', text: 'Since dark mode came in I cannot read the text', category: NEEDS_REVIEW, confidence: 0.33 },
  { id: 'api:m4', text: 'I was charged twice for the same order, please refund one', category: 'billing', confidence: 0.52 },
  { id: 'api:m5', text: 'My package arrived two weeks late', category: 'delivery', confidence: 0.93 },
];

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env: { AUDIT_DB_URL: `sqlite:${auditFile}`, LABELED_DATA: labeledFile, TAXONOMY: 'general', ...env }, out: () => out, err: () => err };
}

beforeAll(async () => {
  encoder = await loadSentenceEncoder(modelDir());
  audit = await createSqliteAuditStore(auditFile);
  grouping = await openGroupingStore(groupingUrlFor(`sqlite:${auditFile}`));
  const grouper = createGrouper({ store: grouping, encoder, themeThreshold: 0.5 });
  const worker = { type: 'worker', id: 'loopwright-worker' } as const;
  for (const [i, m] of MESSAGES.entries()) {
    const workflowId = `feedback:${m.id}`;
    const receivedAt = `2026-11-2${i}T10:00:00.000Z`;
    await audit.appendMany([
      { workflowId, eventKey: 'received', actor: worker, kind: 'received', payload: { source: 'api', externalId: m.id.slice(4), receivedAt, maskedText: m.text, redactionCount: 0 } },
      {
        workflowId,
        eventKey: 'classified',
        actor: worker,
        kind: 'classified',
        payload: { category: m.category, confidence: m.confidence, source: 'local', modelVersion: 'tfidf-linear@old', taxonomyVersion: 'general@2.0.0', ...(m.category === NEEDS_REVIEW ? { reviewReason: 'low confidence' } : {}) },
      },
    ]);
    if (m.category === NEEDS_REVIEW) {
      const fragment = { text: m.text, start: 0, end: m.text.length, severity: { level: 'low' as const, score: 0.1, reasons: [] }, fingerprint: { key: 'needs_review.000000000000', category: NEEDS_REVIEW, features: [], version: 'fp-2' } };
      const t = (await grouper.assignTheme({ feedbackId: m.id, fragment, at: receivedAt }))!;
      themeIds.push(t.themeId);
      await audit.append({ workflowId, eventKey: 'theme:0-1', actor: worker, kind: 'theme_assigned', payload: { themeId: t.themeId, created: t.created, start: 0, end: m.text.length, threshold: t.threshold } });
    }
  }
}, 60_000);

afterAll(async () => {
  await grouping?.close();
  await audit?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loopwright review', () => {
  it('lists needs_review and low-confidence messages with their masked text, newest first', async () => {
    const c = io();
    expect(await review.run(['list', '--json'], c)).toBe(0);
    const { items } = JSON.parse(c.out()) as { items: Array<{ workflowId: string; category: string; maskedText: string; themes: string[] }> };
    expect(items.map((i) => i.workflowId)).toEqual(['feedback:api:m4', 'feedback:api:m3', 'feedback:api:m2', 'feedback:api:m1']);
    expect(items[0]!.maskedText).toBe(MESSAGES[3]!.text);
    expect(items[1]!.themes).toEqual([themeIds[2]]);
  });

  it('changes a label: appended to the labeled-data file with reviewer and time, audited, and off the queue', async () => {
    const c = io();
    expect(await review.run(['label', 'feedback:api:m4', 'refund', '--reviewer', 'U123', '--name', 'Ana'], c)).toBe(0);
    expect(c.out()).toMatch(/billing → refund by Ana/);
    const rows = readFileSync(labeledFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ text: MESSAGES[3]!.text, category: 'refund', reviewer: 'U123', reviewerName: 'Ana', feedbackId: 'feedback:api:m4', previousCategory: 'billing' });
    expect(Date.parse(rows[0]!.labeledAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(readLabeledFile(labeledFile)).toEqual([{ text: MESSAGES[3]!.text, category: 'refund' }]);
    const [event] = await audit.search({ kind: 'review_labeled' });
    expect(event).toMatchObject({ workflowId: 'feedback:api:m4', actor: { type: 'user', id: 'U123', displayName: 'Ana' } });
    expect(event!.payload).toMatchObject({ category: 'refund', confirmed: false, previous: { category: 'billing', modelVersion: 'tfidf-linear@old' } });
    const after = io();
    await review.run(['list', '--json'], after);
    expect((JSON.parse(after.out()) as { items: Array<{ workflowId: string }> }).items.map((i) => i.workflowId)).not.toContain('feedback:api:m4');
  });

  it('refuses a category the taxonomy does not have, and a label without a reviewer', async () => {
    const c = io();
    expect(await review.run(['label', 'feedback:api:m1', 'no_such_category', '--reviewer', 'U123'], c)).toBe(1);
    expect(c.err()).toMatch(/unknown category "no_such_category"/);
    expect(await review.run(['label', 'feedback:api:m1', 'refund'], io())).toBe(2);
    expect(readFileSync(labeledFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('the next model version learns from the labels: a reload retrains and later classifications carry it', async () => {
    const build = async () => {
      const extra = readLabeledFile(labeledFile);
      return { pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy, { extraExamples: extra }) }), labeledExamples: extra.length };
    };
    const before = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
    const pipeline = createReloadablePipeline(before, build);
    const item = { source: 'api', externalId: 'x1', text: 'charged twice for the same order', receivedAt: '2026-11-29T10:00:00Z' };
    const v0 = (await pipeline.triage(item)).classification.modelVersion;
    const r = await pipeline.reload();
    expect(r.previousModelVersion).toBe(v0);
    expect(r.modelVersion).not.toBe(v0);
    expect(r.labeledExamples).toBe(1);
    expect((await pipeline.triage(item)).classification.modelVersion).toBe(r.modelVersion);
    expect(pipeline.triageSync?.(item).classification.modelVersion).toBe(r.modelVersion);
  });
});

describe('emerging themes: CLI, HTTP and promotion', () => {
  it('`themes` lists the themes named in at most five words with their daily counts', async () => {
    const c = io();
    expect(await themes.run(['--json', '--days', '30'], c)).toBe(0);
    const { themes: views } = JSON.parse(c.out()) as { themes: Array<{ id: string; name: string; size: number }> };
    expect(views[0]).toMatchObject({ id: themeIds[0], size: 3 });
    expect(views[0]!.name).toMatch(/dark mode/);
    expect(views[0]!.name.split(' ').length).toBeLessThanOrEqual(5);
    const text = io();
    await themes.run([], text);
    expect(text.out()).toContain(`"${views[0]!.name}"  3 reports`);
  });

  it('`status` shows the open themes from the grouping store beside the audit store (none before one exists)', async () => {
    const views = await collectThemes(`sqlite:${auditFile}`, { limit: 5, now: Date.now() });
    expect(views?.[0]).toMatchObject({ id: themeIds[0], size: 3 });
    expect(await collectThemes(`sqlite:${join(dir, 'elsewhere.sqlite')}`, { limit: 5, now: Date.now() })).toBeUndefined();
  });

  it('the report names the themes of unclassified messages from the audit trail', async () => {
    const events = await readReportEvents(audit, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));
    const d = aggregateReport(events, { from: Date.parse('2026-11-19T00:00:00Z'), to: Date.parse('2026-11-26T00:00:00Z') });
    expect(d.unclassifiedThemes[0]).toMatchObject({ id: themeIds[0], current: 3, previous: 0 });
    expect(d.unclassifiedThemes[0]!.name).toMatch(/dark mode/);
    expect(d.unclassifiedThemes[0]!.quotes[0]).toMatch(/dark mode/i);
    expect(await renderReportHtml(d)).toContain('Emerging themes in unclassified messages');
  });

  it('serves themes and the review queue over HTTP, takes labels as the token\u2019s principal, and reloads the model', async () => {
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) });
    const pipeline = createReloadablePipeline(createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }), async () => {
      const extra = readLabeledFile(labeledFile);
      return { pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy, { extraExamples: extra }) }), labeledExamples: extra.length };
    });
    const app: FastifyInstance = await createHttpApp({
      temporal: { client, taskQueue: 'unused' },
      pipeline,
      audit,
      policy: null,
      config: { apiTokens: ['plain-token-0123456789', { token: 'bound-token-0123456789', principal: { id: 'U777', name: 'Bo' } }] },
      brain: { grouping, taxonomy: () => taxonomy, taxonomySource: 'general', labeledFile, encoder, reload: () => pipeline.reload() },
    });
    try {
      const auth = (t: string) => ({ authorization: `Bearer ${t}` });
      const t = await app.inject({ method: 'GET', url: '/v1/themes?days=30', headers: auth('plain-token-0123456789') });
      expect(t.statusCode).toBe(200);
      expect(t.json().themes[0]).toMatchObject({ id: themeIds[0], size: 3 });
      expect((await app.inject({ method: 'GET', url: '/v1/themes' })).statusCode).toBe(401);
      const q = await app.inject({ method: 'GET', url: '/v1/review?below=0.6', headers: auth('plain-token-0123456789') });
      expect(q.json().items.map((i: { workflowId: string }) => i.workflowId)).toEqual(['feedback:api:m3', 'feedback:api:m2', 'feedback:api:m1']);
      const unbound = await app.inject({ method: 'POST', url: '/v1/review/feedback:api:m1', headers: auth('plain-token-0123456789'), payload: { category: 'app_bug' } });
      expect(unbound.statusCode).toBe(403);
      const bad = await app.inject({ method: 'POST', url: '/v1/review/feedback:api:m1', headers: auth('bound-token-0123456789'), payload: {} });
      expect(bad.statusCode).toBe(400);
      const category = taxonomy.categories[0]!.id;
      const ok = await app.inject({ method: 'POST', url: '/v1/review/feedback:api:m1', headers: auth('bound-token-0123456789'), payload: { category } });
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toMatchObject({ category, previous: { category: NEEDS_REVIEW } });
      const last = JSON.parse(readFileSync(labeledFile, 'utf8').trim().split('\n').at(-1)!) as Record<string, string>;
      expect(last).toMatchObject({ reviewer: 'U777', reviewerName: 'Bo', category });
      const before = pipeline.modelVersion;
      const reload = await app.inject({ method: 'POST', url: '/v1/model/reload', headers: auth('bound-token-0123456789') });
      expect(reload.statusCode).toBe(200);
      expect(reload.json()).toMatchObject({ previousModelVersion: before, labeledExamples: 2 });
      expect(pipeline.modelVersion).toBe(reload.json().modelVersion);
      const [audited] = await audit.search({ kind: 'model_reloaded' });
      expect(audited!.payload).toMatchObject({ modelVersion: pipeline.modelVersion, labeledExamples: 2 });
      const classify = await app.inject({ method: 'POST', url: '/v1/classify', headers: auth('plain-token-0123456789'), payload: { text: 'dark mode is unreadable' } });
      expect(classify.json().classification.modelVersion).toBe(pipeline.modelVersion);
    } finally {
      await app.close();
    }
  });

  it('a reviewer can put a message into a theme; the theme moves with it', async () => {
    const c = io();
    const before = (await grouping.group('theme', themeIds[0]!))!.size;
    expect(await review.run(['theme', 'feedback:api:m5', themeIds[0]!, '--reviewer', 'U123'], c)).toBe(0);
    expect((await grouping.group('theme', themeIds[0]!))!.size).toBe(before + 1);
    const trail = await audit.trail('feedback:api:m5');
    expect(trail.map((e) => e.kind)).toEqual(['received', 'classified', 'theme_assigned', 'review_labeled']);
    expect(trail[2]!.payload).toMatchObject({ themeId: themeIds[0], reviewerId: 'U123' });
  });

  it('`themes promote` turns a theme into a category: examples, bumped version, file written and loadable, audited, once', async () => {
    const out = join(dir, 'general.promoted.yaml');
    const c = io();
    expect(await themes.run(['promote', themeIds[0]!, '--category', 'dark_mode_readability', '--reviewer', 'U123', '--name', 'Ana', '--out', out, '--json'], c)).toBe(0);
    const r = JSON.parse(c.out()) as { taxonomyVersion: string; previousVersion: string; examples: number; file: string };
    expect(r.previousVersion).toBe(taxonomy.version);
    expect(r.taxonomyVersion).not.toBe(taxonomy.version);
    expect(r.examples).toBeGreaterThanOrEqual(3);
    const promoted = loadTaxonomyFile(out);
    expect(promoted.version).toBe(r.taxonomyVersion);
    const cat = promoted.categories.find((x) => x.id === 'dark_mode_readability')!;
    expect(cat.examples).toContain(MESSAGES[0]!.text);
    expect(promoted.categories).toHaveLength(taxonomy.categories.length + 1);
    // The promoted taxonomy trains, and the new category is reachable.
    const classifier = trainOfflineClassifier(promoted);
    expect(classifier.classifySync('dark mode makes the text unreadable').category).toBe('dark_mode_readability');
    const [event] = await audit.search({ kind: 'theme_promoted' });
    expect(event).toMatchObject({ workflowId: `theme:${themeIds[0]}`, actor: { id: 'U123', displayName: 'Ana' } });
    expect(event!.payload).toMatchObject({ category: 'dark_mode_readability', taxonomyVersion: r.taxonomyVersion, file: out });
    expect((await grouping.group('theme', themeIds[0]!))).toMatchObject({ open: false, label: 'dark_mode_readability' });
    const again = io();
    expect(await themes.run(['promote', themeIds[0]!, '--category', 'dark_mode_two', '--reviewer', 'U123', '--out', join(dir, 'x.yaml')], again)).toBe(1);
    expect(again.err()).toMatch(/already promoted/);
    expect(existsSync(join(dir, 'x.yaml'))).toBe(false);
  });
});
