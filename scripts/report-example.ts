// Builds the example report shown in the README: the bundled sample (samples/feedback-sample.jsonl,
// 200 real messages) goes through the real triage pipeline (masking, offline classifier, severity,
// sentiment, fingerprints); the audit events a run of the loop would write are assembled in memory,
// with the customers' writing times spread over two weeks (the sample's own dates span years) and a
// handful of remediation events so every section has something to show. needs_review fragments are
// placed in emerging themes by the worker's own grouper (activities/grouping/assign.ts, in-memory
// store, the bundled encoder) and written as the theme_assigned events routing writes; without
// models/ there are no themes, as in the worker. Then the report is rendered
// by the report's own renderer (worker/report/render.ts). Fixed clock, so the HTML is reproducible:
// `npm run docs:examples` (scripts/render-docs-examples.ts) writes docs/report-example.html and its
// screenshots, tests/docs-examples.test.ts checks the committed page is current.
// Must not: write files, or be mistaken for real operating data (the README says what it is).
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { TAuditEvent } from '../activities/audit/index.js';
import { createGrouper } from '../activities/grouping/assign.js';
import { createSqliteGroupingStore } from '../activities/grouping/sqlite.js';
import { hasModel, loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { aggregateReport } from '../worker/report/aggregate.js';
import { renderReportHtml } from '../worker/report/render.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const NOW = Date.parse('2026-11-27T09:00:00Z');
const DAY = 86_400_000;

/** The example report page, and how many messages fall in its week. */
export async function reportExample(): Promise<{ html: string; messages: number }> {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const offline = trainOfflineClassifier(taxonomy);
  const pipeline = createTriagePipeline({ taxonomy, classifier: offline, clauseClassifier: offline });
  const encoder = hasModel(modelDir()) ? await loadSentenceEncoder(modelDir()) : undefined;
  const store = createSqliteGroupingStore(':memory:');
  const grouper = createGrouper({ store, ...(encoder ? { encoder } : {}) });
  const rows = await readFeedbackFile(path.join(ROOT, 'samples', 'feedback-sample.jsonl'), { defaultSource: 'demo', defaultReceivedAt: new Date(NOW).toISOString() });

  const events: TAuditEvent[] = [];
  let seq = 0;
  type TStoredOnly = 'seq' | 'workflowSeq' | 'runId' | 'prevHash' | 'hash' | 'eventKey' | 'actor' | 'origin' | 'keyId' | 'hashVersion';
  const push = (e: Omit<TAuditEvent, TStoredOnly> & { actor?: TAuditEvent['actor'] }): void => {
    seq++;
    const stored = { seq, workflowSeq: seq, runId: null, eventKey: `${e.kind}-${seq}`, prevHash: '0'.repeat(64), hash: '0'.repeat(64), origin: null, keyId: null, hashVersion: 2 };
    events.push({ ...stored, actor: e.actor ?? { type: 'worker', id: 'example' }, ...e } as TAuditEvent);
  };
  const firstSeen = new Map<string, number>();
  let i = 0;
  for (const row of rows) {
    if (!row.item) continue;
    const item = row.item;
    // Spread over 14 days with a rising second week, deterministically by row number.
    const k = i++;
    const dayBack = k % 3 === 0 ? k % 14 : k % 7;
    const written = NOW - dayBack * DAY - ((k * 7919) % 20) * 3_600_000;
    const processed = Math.max(written, NOW - 14 * DAY) + 200 + ((k * 31) % 900);
    const r = await pipeline.triage({ ...item, receivedAt: new Date(written).toISOString() });
    const workflowId = `feedback:${item.source}:${item.externalId}`;
    const at = new Date(processed).toISOString();
    const customerRef = item.customer ? createHash('sha256').update(item.customer.id).digest('hex').slice(0, 16) : undefined;
    push({
      workflowId,
      kind: 'received',
      at,
      payload: {
        source: item.source,
        externalId: item.externalId,
        receivedAt: new Date(written).toISOString(),
        intakeAt: new Date(processed - 40 - ((k * 13) % 400)).toISOString(),
        customerTier: item.customer?.tier ?? 'unknown',
        ...(customerRef ? { customerRef, customerValue: 200 + ((k * 7717) % 9) * 450 } : {}),
        maskedText: r.masked.text,
      },
    });
    push({
      workflowId,
      kind: 'classified',
      at,
      payload: {
        category: r.classification.category,
        confidence: r.classification.confidence,
        source: r.classification.source,
        modelVersion: r.classification.modelVersion,
        taxonomyVersion: r.classification.taxonomyVersion,
        severity: { level: r.severity.level, score: r.severity.score },
        sentiment: r.sentiment,
      },
    });
    if (r.classification.category !== 'needs_review') {
      const issue = `issue:${r.fingerprint.key}`;
      push({ workflowId, kind: 'issue_linked', at, payload: { issueWorkflowId: issue, fingerprint: r.fingerprint.key } });
      firstSeen.set(issue, Math.min(firstSeen.get(issue) ?? Infinity, written));
    }
    for (const f of r.fragments) {
      if (f.classification.category !== 'needs_review') continue;
      const theme = await grouper.assignTheme({ feedbackId: `${item.source}:${item.externalId}`, fragment: f, at: new Date(written).toISOString() });
      if (theme) push({ workflowId, kind: 'theme_assigned', at, payload: { themeId: theme.themeId, created: theme.created, start: f.start, end: f.end, ...(theme.nearest ? { nearest: theme.nearest } : {}), threshold: theme.threshold } });
    }
  }
  await store.close();
  // Remediation on the three biggest issues: one fixed and verified, one awaiting approval, one dry run.
  const counts = new Map<string, number>();
  for (const e of events) if (e.kind === 'issue_linked') counts.set(e.payload.issueWorkflowId, (counts.get(e.payload.issueWorkflowId) ?? 0) + 1);
  const [fixed, waiting, dry] = [...counts].sort((a, b) => b[1] - a[1]).map(([id]) => id);
  const t = (d: number) => new Date(NOW - d * DAY).toISOString();
  if (fixed) {
    push({ workflowId: fixed, kind: 'policy_verdict', at: t(3), payload: { actionType: 'jira.create_issue', stepId: 'jira', verdict: 'allow', reasons: [], policyVersion: 'default@1.0.0' } });
    push({ workflowId: fixed, kind: 'action_succeeded', at: t(3), payload: { actionType: 'jira.create_issue', stepId: 'jira', idempotencyKey: `${fixed}/jira`, externalRef: 'APP-412' } });
    push({ workflowId: fixed, kind: 'verified', at: t(1), payload: { beforeRate: 6, afterRate: 0.5, ratio: 0.08, verdict: 'resolved' } });
  }
  if (waiting) {
    push({ workflowId: waiting, kind: 'policy_verdict', at: t(1), payload: { actionType: 'jira.create_issue', stepId: 'jira', verdict: 'allow', reasons: [], policyVersion: 'default@1.0.0' } });
    push({ workflowId: waiting, kind: 'action_succeeded', at: t(1), payload: { actionType: 'jira.create_issue', stepId: 'jira', idempotencyKey: `${waiting}/jira`, externalRef: 'BILL-88' } });
    push({ workflowId: waiting, kind: 'policy_verdict', at: t(1), payload: { actionType: 'zendesk.public_reply', stepId: 'reply', verdict: 'needs_approval', reasons: ['risk high'], policyVersion: 'default@1.0.0' } });
    push({ workflowId: waiting, kind: 'approval_requested', at: t(1), payload: { stepId: 'reply', approverGroups: ['billing-leads'], requiredApprovals: 2 } });
  }
  if (dry) {
    for (const step of ['jira', 'notify']) {
      push({ workflowId: dry, kind: 'policy_verdict', at: t(2), payload: { actionType: 'jira.create_issue', stepId: step, verdict: 'allow', reasons: [], policyVersion: 'default@1.0.0', dryRun: true } });
      push({ workflowId: dry, kind: 'action_succeeded', at: t(2), payload: { actionType: 'jira.create_issue', stepId: step, idempotencyKey: `${dry}/${step}`, dryRun: true } });
    }
  }
  const data = aggregateReport(events, { from: NOW - 7 * DAY, to: NOW });
  const html = await renderReportHtml(data, { title: 'Loopwright feedback report (example)', generatedAt: new Date(NOW).toISOString() });
  return { html, messages: data.messages.current };
}
