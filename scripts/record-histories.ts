// Records tests/histories/*.json: histories of IssueWorkflow and FeedbackWorkflow in
// representative states, recorded on the official Java time-skipping test server (hours of
// approval timeouts skip) with the real workflows, activities and fake Jira/Slack/Zendesk
// (tests/helpers/loop-harness.ts). tests/workflow-replay.test.ts replays every file.
//   npx tsx scripts/record-histories.ts              # writes only files that do not exist yet
//   npx tsx scripts/record-histories.ts --overwrite  # re-records all (only when deliberately
//                                                    # dropping histories no live issue can have)
//   npx tsx scripts/record-histories.ts --only=operator-merge-split  # only that patch's scenarios
//   (--only=main|chunk|verify|page|segment-counts|rerank-insufficient|rerank-jira-comment: one harness's scenarios; each harness starts its own server)
// An existing history is the proof that today's code still replays what older builds wrote:
// never re-record it to turn a red replay green (workflows/README.md, "Versioning").
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJson } from '../tests/helpers/history-json.js';
import { decryptHistory } from '../tests/helpers/temporal-env.js';
import { approvalTestPlaybook, crashThreeStepTestPlaybook, crashVolumeTestPlaybook, createLoopHarness, fingerprint, severityPageTestPlaybook, testPlaybook, type LoopHarness } from '../tests/helpers/loop-harness.js';
import { approveUpdate, closeUpdate, FEEDBACK_WORKFLOW, mergeUpdate, occurrencesSignal, reclassifyUpdate, snoozeUpdate, splitUpdate, type TOccurrence } from '../workflows/messages.js';

const out = path.join(import.meta.dirname, '../tests/histories');
const MIN = 60_000;
const overwrite = process.argv.includes('--overwrite');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

const crash = crashThreeStepTestPlaybook({ id: 'crash-record', description: 'Crash playbook for recorded histories (Jira bug, Slack, tags).', threshold: 2 });

const reply = testPlaybook(`
id: reply-record
version: 1.0.0
description: A high-risk customer reply that needs two approvers.
match: { categories: [billing], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: tell-customers
    action: { type: zendesk.public_reply, body: "We found the billing problem and are fixing it." }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

const recurrence = (id: string, category: string, rule: 'new_issue' | 'reopen') =>
  testPlaybook(`
id: ${id}
version: 1.0.0
description: A Jira bug per round; a recurrence follows the playbook's rule.
match: { categories: [${category}], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Bug {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
recurrence: { jira: ${rule} }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

const sevPage = severityPageTestPlaybook();

async function save(h: LoopHarness, name: string, handle: WorkflowHandle | string, runId?: string): Promise<string | undefined> {
  const id = typeof handle === 'string' ? handle : handle.workflowId;
  const history = await h.env.client.workflow.getHandle(id, runId).fetchHistory();
  const file = path.join(out, `${name}.json`);
  if (existsSync(file) && !overwrite) {
    process.stdout.write(`kept ${name} (exists; --overwrite to replace)\n`);
  } else {
    // Payloads are encrypted with this run's random test key: committed decrypted (test data only),
    // so any key replays them; tests/workflow-replay.test.ts also replays them encrypted.
    writeFileSync(file, JSON.stringify(historyToJson(await decryptHistory(history)), null, 1) + '\n');
    process.stdout.write(`recorded ${name} (${history.events?.length ?? 0} events)\n`);
  }
  // The run this one continued (when it was started by continue-as-new).
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
}

/**
 * patched('operator-merge-split'): an issue waiting for an approval is merged into another (the
 * round is cancelled, a later report is forwarded); another issue has its similarity-grouped
 * reports split off into a new issue.
 */
async function recordMergeSplit(): Promise<void> {
  const h = await createLoopHarness({ playbooks: [approvalTestPlaybook()] });
  const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
  try {
    await h.run(async () => {
      const a = fingerprint('app_crash', '00000000dd01');
      const absorbed = await h.report(a, { feedbackId: 'api:m1' });
      await h.waitFor(absorbed.workflowId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(absorbed.workflowId, 'approval_requested');
      const survivor = await h.report(fingerprint('login_access', '00000000dd02'), { feedbackId: 'api:m2' });
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 1, 'survivor');
      await absorbed.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: 'one problem' }] });
      await h.report(a, { feedbackId: 'api:m3' });
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 3, 'forwarded report');
      await h.waitForAudit(survivor.workflowId, 'issue_absorbed');
      await save(h, 'issue-merged-while-awaiting-approval-operator-merge-split', absorbed);
      await save(h, 'issue-absorbed-operator-merge-split', survivor);

      const b = fingerprint('billing', '00000000dd03');
      const source = await h.report(b, { feedbackId: 'api:s1', excerpt: 'charged twice' });
      await h.report(b, { feedbackId: 'api:s2', excerpt: 'refund missing', grouping: { method: 'similarity', nearest: { key: b.key, similarity: 0.5 }, threshold: 0.45 } });
      await h.waitFor(source.workflowId, (s) => s.occurrences === 2, 'two reports');
      const result = await source.executeUpdate(splitUpdate, { args: [{ grouping: 'similarity', by: lead, reason: 'refunds' }] });
      await h.waitFor(result.issue, (s) => s.occurrences === 1, 'the new issue');
      await h.waitForAudit(source.workflowId, 'split');
      await save(h, 'issue-split-operator-merge-split', source);
    });
  } finally {
    await h.close();
  }
}

/**
 * Session 5 operator-command patches: prompt-operator-audit (snooze, reclassify and close audited
 * before their Update returns; a close while an approval is pending), merge-segment-profile (the
 * survivor takes the absorbed issue's segment profile), split-any-report and split-records-moves
 * (a report older than the 150 kept in memory split off; the moves linked on its trails).
 */
async function recordOperatorCommands(): Promise<void> {
  const h = await createLoopHarness({ playbooks: [approvalTestPlaybook()] });
  const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
  try {
    await h.run(async () => {
      const quiet = await h.report(fingerprint('billing', '00000000de01'), { feedbackId: 'api:o1' });
      await h.waitFor(quiet.workflowId, (s) => s.occurrences === 1, 'one report');
      await quiet.executeUpdate(snoozeUpdate, { args: [{ minutes: 30, by: lead }] });
      await quiet.executeUpdate(reclassifyUpdate, { args: [{ category: 'refunds', by: lead, reason: 'refunds' }] });
      await h.report(fingerprint('billing', '00000000de01'), { feedbackId: 'api:o2' });
      await h.waitFor(quiet.workflowId, (s) => s.occurrences === 2, 'a later report');
      await save(h, 'issue-snoozed-reclassified-prompt-operator-audit', quiet);

      const pending = await h.report(fingerprint('app_crash', '00000000de02'), { feedbackId: 'api:o3' });
      await h.waitFor(pending.workflowId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(pending.workflowId, 'approval_requested');
      await pending.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'fixed by hand' }] });
      await h.resultOf(pending);
      await save(h, 'issue-closed-awaiting-approval-prompt-operator-audit', pending);

      const gone = await h.report(fingerprint('login_access', '00000000de03'), { feedbackId: 'api:o4', segments: { platform: 'android', appVersion: '5.2.1' } });
      const survivor = await h.report(fingerprint('login_access', '00000000de04'), { feedbackId: 'api:o5', segments: { platform: 'ios', region: 'us-east' } });
      await h.waitFor(gone.workflowId, (s) => s.occurrences === 1, 'absorbed');
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 1, 'survivor');
      await gone.executeUpdate(mergeUpdate, { args: [{ into: survivor.workflowId, by: lead, reason: 'same login problem' }] });
      await h.waitFor(survivor.workflowId, (s) => s.occurrences === 2 && (s.segments?.reports ?? 0) === 2, 'merged profile');
      await h.waitForAudit(survivor.workflowId, 'issue_absorbed');
      await save(h, 'issue-absorbed-segments-merge-segment-profile', survivor);
    });
  } finally {
    await h.close();
  }
}

/**
 * split-any-report + split-records-moves: a ticket's report older than the 150 kept in memory,
 * taken in through a real FeedbackWorkflow (its audit trail is what the split reads), split off.
 */
async function recordSplitAnyReport(): Promise<void> {
  const h = await createLoopHarness({ playbooks: [] });
  const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };
  try {
    await h.run(async () => {
      // split-any-report + split-records-moves: a ticket's report older than the 150 kept in memory,
      // taken in through a real FeedbackWorkflow (its audit trail is what the split reads).
      const item = { source: 'zendesk', externalId: '80001', text: 'The app crashes every time I open checkout, error E4012 on iOS 17.2.', receivedAt: new Date(await h.env.currentTimeMs()).toISOString(), channel: 'ticket', customer: { id: 'zendesk-user:8', tier: 'premium' as const } };
      const routed = await h.resultOf<{ issueWorkflowIds: string[] }>(await h.env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: `feedback:zendesk:80001`, taskQueue: h.taskQueue, args: [item] }));
      const source = h.env.client.workflow.getHandle(routed.issueWorkflowIds[0]!);
      const t0 = await h.env.currentTimeMs();
      const later: TOccurrence[] = Array.from({ length: 160 }, (_, i) => ({ feedbackId: `api:r${i}`, source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'app_crash', at: new Date(t0 + (i + 1) * 1_000).toISOString(), evidence: [], excerpt: `report ${i}` }));
      await source.signal(occurrencesSignal, later);
      await h.waitFor(source.workflowId, (s) => s.occurrences === 161, '161 reports');
      const split = await source.executeUpdate(splitUpdate, { args: [{ feedbackIds: ['zendesk:80001', 'api:r159'], by: lead, reason: 'its own defect' }] });
      await h.waitFor(split.issue, (s) => s.occurrences === 2, 'the new issue');
      await h.waitForAudit(source.workflowId, 'split');
      await save(h, 'issue-split-old-report-split-any-report', source);
    });
  } finally {
    await h.close();
  }
}

/**
 * patched('segment-counts'): the segment profile counts reports by event time, and the round's
 * ranking gets those counts (an everyday issue's background hours earlier, then a regional spike).
 */
async function recordSegmentCounts(): Promise<void> {
  const t0 = Date.parse('2026-11-20T14:00:00Z');
  const at = (ms: number) => new Date(ms).toISOString();
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-record-ctx-'));
  const contextFile = path.join(dir, 'context.json');
  writeFileSync(contextFile, JSON.stringify({ events: [{ id: 'psp-outage-ap-south', kind: 'incident', title: 'PSP outage ap-south', at: at(t0 - 10 * MIN), segments: { regions: ['ap-south'] }, categories: ['app_crash'] }] }));
  const h = await createLoopHarness({ playbooks: [crashVolumeTestPlaybook(5)], contextFile });
  try {
    await h.run(async () => {
      const fp = fingerprint('app_crash', '00000000cc01');
      let issue: WorkflowHandle | undefined;
      for (let i = 0; i < 4; i++) issue = await h.report(fp, { feedbackId: `api:bg${i}`, at: at(t0 - 70 * MIN - 40 * (3 - i) * MIN), segments: { platform: 'web', region: i % 2 ? 'eu-west' : 'us-east' } });
      for (let i = 0; i < 5; i++) issue = await h.report(fp, { feedbackId: `api:sp${i}`, at: at(t0 + i * MIN), segments: { platform: 'web', region: 'ap-south' } });
      await h.waitForAudit(issue!.workflowId, 'hypotheses');
      await h.waitFor(issue!.workflowId, (s) => s.status === 'verifying', 'the round verifying');
      await save(h, 'issue-ranked-on-counts-segment-counts', issue!);
    });
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  if (!only || only === 'operator-merge-split') await recordMergeSplit();
  if (!only || only === 'operator-commands') await recordOperatorCommands();
  if (!only || only === 'split-any-report') await recordSplitAnyReport();
  if (!only || only === 'main') await recordMain();
  if (!only || only === 'chunk') await recordChunk();
  if (!only || only === 'verify') await recordVerify();
  if (!only || only === 'page') await recordPage();
  if (!only || only === 'segment-counts') await recordSegmentCounts();
  if (!only || only === 'rerank-insufficient' || only === 'rerank-jira-comment') await recordRerank();
}

/**
 * patched('rerank-insufficient'), patched('rerank-jira-comment'): a verifying round whose first answer was "insufficient evidence"
 * ranks again when its reports doubled, twice, the second time naming the region's incident, which
 * it then comments on the round's Jira bug (issue 17). The first history was recorded before the comment existed.
 */
async function recordRerank(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-record-rerank-'));
  const t0 = Math.floor((Date.now() - 3 * 60 * MIN) / (5 * MIN)) * 5 * MIN;
  const at = (ms: number) => new Date(ms).toISOString();
  const contextFile = path.join(dir, 'context.json');
  writeFileSync(
    contextFile,
    JSON.stringify({
      events: ['eu-west', 'ap-south'].map((region) => ({ id: `psp-outage-${region}`, kind: 'incident', title: `PSP outage ${region}`, at: at(t0 - 10 * MIN), segments: { regions: [region] }, categories: ['app_crash'] })),
    }),
  );
  const r = await createLoopHarness({ playbooks: [crashVolumeTestPlaybook(2)], contextFile });
  try {
    await r.run(async () => {
      const fp = fingerprint('app_crash', '00000000ef01');
      let issue!: WorkflowHandle;
      const send = async (minutes: number[]) => {
        for (const m of minutes) issue = await r.report(fp, { feedbackId: `api:rr-${m}`, at: at(t0 + m * MIN), segments: { platform: 'web', region: 'ap-south' } });
      };
      await send([1, 2]);
      await r.waitFor(issue.workflowId, (s) => s.status === 'verifying', 'the round verifying');
      await send([6, 7, 16]);
      await r.waitForAudit(issue.workflowId, 'hypotheses', 2);
      await send([17, 18, 19, 26]);
      await r.waitForAudit(issue.workflowId, 'hypotheses', 3);
      await save(r, 'issue-reranked-rerank-insufficient', issue);
      // patched('rerank-jira-comment'): the named cause told on the round's Jira bug.
      await r.waitForAudit(issue.workflowId, 'action_succeeded', 2);
      await save(r, 'issue-reranked-jira-comment-rerank-jira-comment', issue);
    });
  } finally {
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** patched('page-while-verifying'): a critical report pages while the volume round verifies (issue 17). */
async function recordPage(): Promise<void> {
  const volume = crashVolumeTestPlaybook(2);
  const p = await createLoopHarness({ playbooks: [volume, sevPage] });
  try {
    await p.run(async () => {
      const fp = fingerprint('app_crash', '00000000ee01');
      const issue = await p.report(fp, { feedbackId: 'api:pv-1' });
      await p.report(fp, { feedbackId: 'api:pv-2' });
      await p.waitFor(issue.workflowId, (s) => s.status === 'verifying', 'the volume round verifying');
      await p.waitForAudit(issue.workflowId, 'action_succeeded');
      await p.report(fp, { feedbackId: 'api:pv-3', severity: 'critical' });
      await p.waitFor(issue.workflowId, (s) => s.remediations === 2 && s.status === 'verifying', 'the page, back to verifying');
      await p.waitForAudit(issue.workflowId, 'action_succeeded', 2);
      await save(p, 'issue-page-while-verifying', issue);
    });
  } finally {
    await p.close();
  }
}

async function recordMain(): Promise<void> {
  const h = await createLoopHarness({
    playbooks: [crash, reply, approvalTestPlaybook(), recurrence('recur-new', 'login_access', 'new_issue'), recurrence('recur-reopen', 'performance', 'reopen'), sevPage],
    settings: { continueAsNewAfterSignals: 30 },
  });
  const lead1 = { id: 'U01SUPLEAD', name: 'Ana Support' };
  try {
    await h.run(async () => {
      // watching: one report, below the trigger.
      const watching = await h.report(fingerprint('app_crash', '00000000aa01'), { feedbackId: 'api:w1' });
      await h.waitFor(watching.workflowId, (s) => s.occurrences === 1, 'watching');
      await save(h, 'issue-watching', watching);

      // patched('tolerant-occurrences'): a newer intake's fields (top level and nested) are dropped, the report counts.
      const tolerant = await h.report(fingerprint('app_crash', '00000000aa07'), { feedbackId: 'api:t1' });
      const newer = { feedbackId: 'api:t2', source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'app_crash', at: new Date(await h.env.currentTimeMs()).toISOString(), evidence: [], excerpt: 'x', language: 'de', grouping: { method: 'fingerprint', margin: 0.1 } };
      await tolerant.signal(occurrencesSignal, [newer as unknown as TOccurrence]);
      await h.waitFor(tolerant.workflowId, (s) => s.occurrences === 2, 'the newer occurrence counted');
      await save(h, 'issue-tolerant-occurrences', tolerant);

      // two-person approval with one approval given.
      h.zendesk.addTicket({ id: 701, subject: 'double charged' });
      const two = await h.report(fingerprint('billing', '00000000aa02'), { feedbackId: 'zendesk:701', ticketId: '701', source: 'zendesk', tier: 'enterprise', customerId: 'c1' });
      const pending = await h.waitFor(two.workflowId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await two.executeUpdate(approveUpdate, { args: [{ stepId: 'tell-customers', requestId: pending.pendingApprovals[0]!.requestId, approver: lead1, at: new Date().toISOString() }] });
      await h.waitFor(two.workflowId, (s) => s.pendingApprovals[0]?.approvals.length === 1, 'one approval');
      await h.waitForAudit(two.workflowId, 'approved');
      await save(h, 'issue-two-person-one-given', two);

      // patch approval-progress: the first of two approvals is shown on the request (in place and
      // in its thread), then the second approves and the reply goes out.
      h.zendesk.addTicket({ id: 702, subject: 'double charged' });
      const prog = await h.report(fingerprint('billing', '00000000aa04'), { feedbackId: 'zendesk:702', ticketId: '702', source: 'zendesk', tier: 'enterprise', customerId: 'c2' });
      const open = await h.waitFor(prog.workflowId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(prog.workflowId, 'approval_requested');
      const progRequestId = open.pendingApprovals[0]!.requestId;
      await prog.executeUpdate(approveUpdate, { args: [{ stepId: 'tell-customers', requestId: progRequestId, approver: lead1, at: new Date().toISOString(), via: 'slack' }] });
      const posted = h.slack.messages('#support-approvals').at(-1)!;
      for (let i = 0; i < 400 && h.slack.thread('#support-approvals', posted.ts).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const lead2 = { id: 'U02SUPLEAD', name: 'Ben Support' };
      await prog.executeUpdate(approveUpdate, { args: [{ stepId: 'tell-customers', requestId: progRequestId, approver: lead2, at: new Date().toISOString(), via: 'cli' }] });
      await h.waitFor(prog.workflowId, (s) => s.status === 'verifying', 'verification after two approvals');
      await h.waitForAudit(prog.workflowId, 'action_succeeded');
      await save(h, 'issue-two-person-progress-approval-progress', prog);

      // patched('recurrence-jira-rule'): resolved, then the problem recurs. Before any
      // continue-as-new on this server (time stops skipping after one: sdk-java#1540).
      const rn = fingerprint('login_access', '00000000aa04');
      const rp = fingerprint('performance', '00000000aa05');
      const newIssue = await h.report(rn, { feedbackId: 'api:rn-1' });
      const reopen = await h.report(rp, { feedbackId: 'api:rp-1' });
      await h.waitFor(newIssue.workflowId, (s) => s.status === 'verifying', 'verification');
      await h.waitFor(reopen.workflowId, (s) => s.status === 'verifying', 'verification');
      await h.env.sleep(61 * MIN);
      await h.waitFor(newIssue.workflowId, (s) => s.status === 'resolved', 'resolution');
      await h.waitFor(reopen.workflowId, (s) => s.status === 'resolved', 'resolution');
      await h.report(rn, { feedbackId: 'api:rn-2' });
      await h.report(rp, { feedbackId: 'api:rp-2' });
      await h.waitFor(newIssue.workflowId, (s) => s.remediations === 2 && s.status === 'verifying', 'recurrence round');
      await h.waitForAudit(newIssue.workflowId, 'action_succeeded', 2);
      await save(h, 'issue-recurrence-new-issue', newIssue);
      const reopening = await h.waitFor(reopen.workflowId, (s) => s.pendingApprovals.length === 1, 'approval of the reopen');
      const oncall0 = { id: 'U03ENGONC', name: 'Chen Oncall' };
      await reopen.executeUpdate(approveUpdate, { args: [{ stepId: 'jira-bug', requestId: reopening.pendingApprovals[0]!.requestId, approver: oncall0, at: new Date().toISOString() }] });
      await h.waitFor(reopen.workflowId, (s) => s.remediations === 2 && s.status === 'verifying', 'recurrence round');
      await h.waitForAudit(reopen.workflowId, 'action_succeeded', 2);
      await save(h, 'issue-recurrence-reopen', reopen);

      // patched('compose-playbooks'): a critical crash pages through the severity playbook (the
      // category's volume playbook applies too); the unchanged second critical report is suppressed.
      const fpc = fingerprint('app_crash', '00000000aa06');
      const composed = await h.report(fpc, { feedbackId: 'api:sev-1', severity: 'critical' });
      await h.waitFor(composed.workflowId, (s) => s.status === 'verifying', 'the page round');
      await h.waitForAudit(composed.workflowId, 'action_succeeded');
      await h.env.sleep(6 * MIN);
      await h.waitFor(composed.workflowId, (s) => s.status !== 'verifying', 'the page round verified');
      await h.report(fpc, { feedbackId: 'api:sev-2', severity: 'critical' });
      await h.waitForAudit(composed.workflowId, 'repage_suppressed');
      await save(h, 'issue-composed-repage-suppressed', composed);

      // escalated: the approval test playbook's jira.transition waits 4 h for eng-oncall.
      const esc = await h.report(fingerprint('app_crash', '00000000aa03'), { feedbackId: 'api:e1' });
      await h.waitFor(esc.workflowId, (s) => s.pendingApprovals.length === 1, 'approval request');
      await h.waitForAudit(esc.workflowId, 'approval_requested');
      await h.env.sleep(241 * MIN);
      await h.waitFor(esc.workflowId, (s) => s.pendingApprovals[0]?.escalationLevel === 1, 'escalation');
      await h.waitForAudit(esc.workflowId, 'escalated');
      await save(h, 'issue-escalated', esc);

      // continue-as-new while the escalated approval is pending: the open request travels in the
      // input; the previous run ends in ContinueAsNew mid-approval; the approval then completes.
      for (let i = 0; i < 30; i++) await h.report(fingerprint('app_crash', '00000000aa03'), { feedbackId: `api:e-flood-${i}` });
      const continued = await h.waitFor(esc.workflowId, (s) => s.runs > 1 && s.occurrences === 31, 'continue-as-new mid-approval');
      const request = continued.pendingApprovals[0]!;
      const oncall = { id: 'U03ENGONC', name: 'Chen Oncall' };
      await esc.executeUpdate(approveUpdate, { args: [{ stepId: request.stepId, requestId: request.requestId, approver: oncall, at: new Date().toISOString() }] });
      await h.waitFor(esc.workflowId, (s) => s.status === 'verifying', 'verification after the approval');
      await h.waitForAudit(esc.workflowId, 'action_succeeded', 2);
      const before = await save(h, 'issue-approved-after-continue-as-new', esc);
      await save(h, 'issue-continued-as-new-awaiting-approval', esc, before);
    });
  } finally {
    await h.close();
  }

}

async function recordChunk(): Promise<void> {
  // Default chunks (50 tickets): a failure inside a chunk.
  const d = await createLoopHarness({ playbooks: [crash] });
  try {
    await d.run(async () => {
      // patched('compensate-failing-chunk'): both tickets in one chunk; Zendesk refuses the second
      // one's tags after the first was tagged: that ticket is untagged with the Jira bug and Slack post.
      d.zendesk.addTicket({ id: 721, subject: 'crash', tags: ['vip'] });
      d.zendesk.addTicket({ id: 722, subject: 'crash' });
      d.zendesk.failNext(403, {}, { error: 'Forbidden' }, /PUT \/api\/v2\/tickets\/722\/tags/);
      const fpf = fingerprint('app_crash', '00000000dd01');
      const chunk = await d.report(fpf, { feedbackId: 'zendesk:721', ticketId: '721', source: 'zendesk' });
      await d.report(fpf, { feedbackId: 'zendesk:722', ticketId: '722', source: 'zendesk' });
      await d.waitForAudit(chunk.workflowId, 'compensated', 3);
      await save(d, 'issue-failing-chunk-compensated', chunk);
    });
  } finally {
    await d.close();
  }

}

async function recordVerify(): Promise<void> {
  const c = await createLoopHarness({ playbooks: [crash], settings: { continueAsNewAfterSignals: 30, fanOutChunk: 1 } });
  try {
    await c.run(async () => {
      // mid-verification, then reopened: reports keep coming after the fix.
      c.zendesk.addTicket({ id: 801, subject: 'crash' });
      c.zendesk.addTicket({ id: 802, subject: 'crash' });
      const fp = fingerprint('app_crash', '00000000bb01');
      const v = await c.report(fp, { feedbackId: 'zendesk:801', ticketId: '801', source: 'zendesk' });
      await c.report(fp, { feedbackId: 'zendesk:802', ticketId: '802', source: 'zendesk' });
      await c.waitFor(v.workflowId, (s) => s.status === 'verifying', 'verification');
      await c.waitForAudit(v.workflowId, 'action_succeeded', 3);
      await save(c, 'issue-mid-verification', v);
      for (let i = 0; i < 3; i++) await c.report(fp, { feedbackId: `api:after-${i}` });
      await c.waitFor(v.workflowId, (s) => s.occurrences === 5, 'post-fix reports');
      await c.env.sleep(61 * MIN);
      await c.waitFor(v.workflowId, (s) => s.status === 'reopened', 'reopened');
      await c.waitForAudit(v.workflowId, 'reopened');
      await save(c, 'issue-reopened', v);

      // after compensation: Zendesk refuses the tags (403), the Slack post and Jira bug are undone.
      c.zendesk.addTicket({ id: 803, subject: 'crash' });
      c.zendesk.failNext(403, {}, { error: 'Forbidden' }, /tags\.json/);
      const fp2 = fingerprint('app_crash', '00000000bb02');
      const comp = await c.report(fp2, { feedbackId: 'zendesk:803', ticketId: '803', source: 'zendesk' });
      await c.report(fp2, { feedbackId: 'api:comp-2' });
      await c.waitFor(comp.workflowId, (s) => s.steps.some((x) => x.stepId === 'jira-bug' && x.outcome === 'compensated'), 'compensation');
      await c.waitForAudit(comp.workflowId, 'compensated', 2);
      await save(c, 'issue-after-compensation', comp);

      // after continue-as-new: enough reports for the history bound.
      const fp3 = fingerprint('performance', '00000000bb03');
      const can = await c.report(fp3, { feedbackId: 'api:can-0' });
      for (let i = 1; i < 40; i++) await c.report(fp3, { feedbackId: `api:can-${i}` });
      await c.waitFor(can.workflowId, (s) => s.runs > 1 && s.occurrences === 40, 'continue-as-new');
      const first = await save(c, 'issue-after-continue-as-new', can);
      await save(c, 'issue-continued-as-new-watching', can, first);

      // patched('config-outage-retry-later'): a missing Slack channel is waited out, not compensated.
      const channel = c.slack.state.channels.get('#app-incidents')!;
      c.slack.state.channels.delete('#app-incidents');
      const fp4 = fingerprint('app_crash', '00000000bb04');
      const cfg = await c.report(fp4, { feedbackId: 'api:cfg-1' });
      await c.report(fp4, { feedbackId: 'api:cfg-2' });
      await c.waitForAudit(cfg.workflowId, 'degraded');
      await save(c, 'issue-config-outage-retry-later', cfg);
      c.slack.state.channels.set('#app-incidents', channel);

      // patched('compensate-partial-fan-out'): the tag step fails on its second chunk (one ticket
      // per chunk here); the first chunk's ticket is untagged with the earlier steps.
      c.zendesk.addTicket({ id: 811, subject: 'crash' });
      c.zendesk.addTicket({ id: 812, subject: 'crash' });
      c.zendesk.failNext(403, {}, { error: 'Forbidden' }, /tickets\/812\/tags/);
      const fp5 = fingerprint('app_crash', '00000000bb05');
      const part = await c.report(fp5, { feedbackId: 'zendesk:811', ticketId: '811', source: 'zendesk' });
      await c.report(fp5, { feedbackId: 'zendesk:812', ticketId: '812', source: 'zendesk' });
      await c.waitForAudit(part.workflowId, 'compensated', 3);
      await save(c, 'issue-partial-fan-out-compensated', part);

      // a FeedbackWorkflow, start to end.
      const fb = await c.env.client.workflow.start(FEEDBACK_WORKFLOW, {
        workflowId: 'feedback:api:record-1',
        taskQueue: c.taskQueue,
        args: [{ source: 'api', externalId: 'record-1', text: 'The app crashes every time I open the settings page.', receivedAt: new Date().toISOString(), channel: 'api' }],
      });
      await c.resultOf(fb);
      await save(c, 'feedback-completed', fb);
    });
  } finally {
    await c.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`record-histories: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
