// Committed histories of representative IssueWorkflow and FeedbackWorkflow states (tests/histories/,
// recorded by scripts/record-histories.ts on the official servers) replayed by today's workflow
// code with Worker.runReplayHistories, as sdk-typescript's test-replay does. A change to a
// workflow's command sequence that is not behind patched() fails here (workflows/README.md).
// Replays use Loopwright's data converter (payload encryption, worker/data-converter.ts), as the
// workers do: the histories are committed decrypted and replayed both as they are and encrypted,
// the way the server holds them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { historyFromJson } from './helpers/history-json.js';
import { encryptHistory, testDataConverter } from './helpers/temporal-env.js';

const dir = path.join(import.meta.dirname, 'histories');
const REQUIRED = [
  'issue-watching',
  'issue-two-person-one-given',
  'issue-two-person-progress-approval-progress',
  'issue-escalated',
  'issue-continued-as-new-awaiting-approval',
  'issue-approved-after-continue-as-new',
  'issue-mid-verification',
  'issue-continued-as-new-watching',
  'issue-after-continue-as-new',
  'issue-after-compensation',
  'issue-reopened',
  'feedback-completed',
  // patched('config-outage-retry-later'), patched('compensate-partial-fan-out')
  'issue-config-outage-retry-later',
  'issue-partial-fan-out-compensated',
  // patched('recurrence-jira-rule')
  'issue-recurrence-new-issue',
  'issue-recurrence-reopen',
  // patched('compose-playbooks')
  'issue-composed-repage-suppressed',
  // patched('operator-merge-split')
  'issue-merged-while-awaiting-approval-operator-merge-split',
  'issue-absorbed-operator-merge-split',
  'issue-split-operator-merge-split',
  // patched('tolerant-occurrences'), patched('compensate-failing-chunk')
  'issue-tolerant-occurrences',
  'issue-failing-chunk-compensated',
  // patched('page-while-verifying')
  'issue-page-while-verifying',
  // patched('prompt-operator-audit'), patched('merge-segment-profile')
  'issue-snoozed-reclassified-prompt-operator-audit',
  'issue-closed-awaiting-approval-prompt-operator-audit',
  'issue-absorbed-segments-merge-segment-profile',
  // patched('split-any-report'), patched('split-records-moves')
  'issue-split-old-report-split-any-report',
  // patched('segment-counts')
  'issue-ranked-on-counts-segment-counts',
  // patched('rerank-insufficient')
  'issue-reranked-rerank-insufficient',
  // patched('rerank-jira-comment')
  'issue-reranked-jira-comment-rerank-jira-comment',
];

// Replay workers log their lifecycle at INFO; nondeterminism shows in the assertion below.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // Already installed in this process.
}

describe('committed workflow histories', () => {
  it('cover every representative state', () => {
    const names = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    expect(names.sort()).toEqual(expect.arrayContaining(REQUIRED));
  });

  it('replay deterministically on the current workflow code', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    const histories = files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJson(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))) }));
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, '../workflows/index.ts'), logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never });
    const encrypted = await Promise.all(histories.map(async (h) => ({ workflowId: `${h.workflowId} (encrypted)`, history: await encryptHistory(structuredClone(h.history)) })));
    const results: ReplayResult[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle, dataConverter: testDataConverter() }, [...histories, ...encrypted])) results.push(r);
    expect(results.map((r) => r.workflowId).sort()).toEqual([...histories, ...encrypted].map((h) => h.workflowId).sort());
    expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.message}`)).toEqual([]);
    // Control: the encrypted form cannot be replayed without the codec, so the converter is what made it pass.
    const bare: ReplayResult[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle }, encrypted.slice(0, 1))) bare.push(r);
    expect(bare[0]?.error).toBeDefined();
  }, 360_000);

  it('include runs that ended in and started from continue-as-new in the middle of a round', () => {
    const events = (name: string) => (JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { events: Array<{ eventType: string }> }).events.map((e) => e.eventType);
    expect(events('issue-continued-as-new-awaiting-approval').at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    expect(events('issue-approved-after-continue-as-new')).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
    expect(events('issue-two-person-one-given')).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
  });

  it('include the new branch of every patch (its marker)', () => {
    const patches = (name: string) =>
      (JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { events: Array<{ markerRecordedEventAttributes?: { details?: Record<string, { payloads: Array<{ data: string }> }> } }> }).events
        .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
        .map((p) => (JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as { id: string }).id);
    expect(patches('issue-config-outage-retry-later')).toContain('config-outage-retry-later');
    expect(patches('issue-partial-fan-out-compensated')).toContain('compensate-partial-fan-out');
    expect(patches('issue-recurrence-new-issue')).toContain('recurrence-jira-rule');
    expect(patches('issue-recurrence-reopen')).toContain('recurrence-jira-rule');
    expect(patches('issue-composed-repage-suppressed')).toContain('compose-playbooks');
    expect(patches('issue-tolerant-occurrences')).toContain('tolerant-occurrences');
    expect(patches('issue-failing-chunk-compensated')).toContain('compensate-failing-chunk');
    expect(patches('issue-page-while-verifying')).toContain('page-while-verifying');
    expect(patches('issue-reranked-rerank-insufficient')).toContain('rerank-insufficient');
    expect(patches('issue-reranked-rerank-insufficient')).not.toContain('rerank-jira-comment');
    expect(patches('issue-reranked-jira-comment-rerank-jira-comment')).toContain('rerank-jira-comment');
  });
});
