// Routing's merge of the issues grouping folded (activities/grouping/fold.ts), against a client
// that answers as the server does: a merge recorded, the folded issue already merged into the
// survivor (a retry), gone, busy, closing, merged elsewhere, or a survivor that no longer takes
// merges. Only `busy` fails routing (retryable); the rest is an outcome for the audit, and the
// issue_folded payload keeps ids, counts and the segment only. The real server: workflow-grouping-fold.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ZIssueFoldedPayload } from '../activities/audit/index.js';
import type { TGroupingDecision } from '../activities/grouping/assign.js';
import { FOLD_BUSY_ATTEMPTS, foldReason, GROUPING_ACTOR, mergeFolds, retryBusyFolds } from '../activities/grouping/fold.js';
import { ZMergeCommand, type TIssueState, type TMergeCommand } from '../workflows/messages.js';

const INTO = 'app_crash.00000000000a';
const decision = (...keys: string[]): TGroupingDecision => ({
  method: 'similarity',
  fingerprint: { key: INTO, category: 'app_crash', features: [], version: 'g' },
  features: ['burst:region:eu-west', 'window:4/0.2', 'partition:app_crash'],
  version: 'g',
  folded: keys.map((key, i) => ({ key, members: Array.from({ length: i + 1 }, (_, j) => `api:${key}#${j}`) })),
});
const refusal = (type: string, message: string) => new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type, message, nonRetryable: true }));

type Issue = { state?: Pick<TIssueState, 'status' | 'mergedInto'>; update?: Error | { reports: number } };
/** Workflow ids → how each answers a state query and the merge Update; an id not listed does not exist. */
function fakeClient(issues: Record<string, Issue>) {
  const merges: Array<{ id: string; cmd: TMergeCommand }> = [];
  const getHandle = (id: string) => ({
    workflowId: id,
    async query() {
      const state = issues[id]?.state;
      if (!state) throw new WorkflowNotFoundError('workflow not found', id, undefined);
      return state;
    },
    async executeUpdate(_def: unknown, { args: [cmd] }: { args: [TMergeCommand] }) {
      const u = issues[id]?.update;
      if (!issues[id]) throw new WorkflowNotFoundError('workflow not found', id, undefined);
      if (u instanceof Error) throw u;
      merges.push({ id, cmd });
      return { status: 'merged', into: cmd.into, reports: u?.reports ?? 0, cancelledStep: null };
    },
  });
  return { client: { workflow: { getHandle } } as unknown as Client, merges };
}

const running = { status: 'watching' } as const;

describe('merging the issues grouping folded', () => {
  it('merges each folded issue into the bursting one as the grouping, with a reason that holds no text', async () => {
    const { client, merges } = fakeClient({ [`issue:${INTO}`]: { state: running }, 'issue:app_crash.0000000000b1': { state: running, update: { reports: 1 } }, 'issue:app_crash.0000000000b2': { state: running, update: { reports: 2 } } });
    const d = decision('app_crash.0000000000b1', 'app_crash.0000000000b2');
    const outcomes = await mergeFolds(client, d);
    expect(outcomes).toEqual([
      { from: 'issue:app_crash.0000000000b1', into: `issue:${INTO}`, rule: 'burst', segment: 'region:eu-west', members: 1, outcome: 'merged', reports: 1 },
      { from: 'issue:app_crash.0000000000b2', into: `issue:${INTO}`, rule: 'burst', segment: 'region:eu-west', members: 2, outcome: 'merged', reports: 2 },
    ]);
    expect(merges.map((m) => m.id)).toEqual(['issue:app_crash.0000000000b1', 'issue:app_crash.0000000000b2']);
    // The command the workflow's validator checks (the same schema as an operator's), by the grouping.
    for (const m of merges) expect(ZMergeCommand.parse(m.cmd)).toMatchObject({ into: `issue:${INTO}`, by: GROUPING_ACTOR });
    expect(merges[0]!.cmd.reason).toBe("Folded by grouping into a burst in region:eu-west (4 reports in its window): this issue's 1 report would join it now");
    expect(foldReason(d, d.folded![1]!)).toContain("this issue's 2 reports");
    for (const o of outcomes) expect(ZIssueFoldedPayload.safeParse(o).success).toBe(true);
    expect(() => retryBusyFolds(outcomes)).not.toThrow();
  });

  it("says a release's fold is a release's (an evidence join while its cohort spikes)", async () => {
    const { client, merges } = fakeClient({ [`issue:${INTO}`]: { state: running }, 'issue:app_crash.0000000000b4': { state: running, update: { reports: 1 } } });
    const release = {
      ...decision('app_crash.0000000000b4'),
      method: 'evidence_join' as const,
      features: ['join:release', 'platform:ios', 'app_version:7.2.0'],
      join: { key: INTO, by: 'release' as const, evidence: ['platform:ios', 'app_version:7.2.0'], from: 'app_crash', window: { count: 9, expected: 0 }, version: 'join-2' },
    };
    const outcomes = await mergeFolds(client, release);
    expect(outcomes).toEqual([{ from: 'issue:app_crash.0000000000b4', into: `issue:${INTO}`, rule: 'release', segment: 'platform:ios app_version:7.2.0', members: 1, outcome: 'merged', reports: 1 }]);
    expect(ZIssueFoldedPayload.safeParse(outcomes[0]).success).toBe(true);
    expect(merges[0]!.cmd.reason).toBe("Folded by grouping into the issue of a spiking release, platform:ios app_version:7.2.0 (9 reports in its window): 1 report of this issue, all of that release");
  });

  it("says a surge's fold is a surge's (rule 4: no segment, no similarity)", async () => {
    const { client, merges } = fakeClient({ [`issue:${INTO}`]: { state: running }, 'issue:app_crash.0000000000b3': { state: running, update: { reports: 1 } } });
    const surge = { ...decision('app_crash.0000000000b3'), features: ['surge:unmatched', 'window:9/1.5', 'from:app_crash'] };
    expect(await mergeFolds(client, surge)).toEqual([{ from: 'issue:app_crash.0000000000b3', into: `issue:${INTO}`, rule: 'surge', members: 1, outcome: 'merged', reports: 1 }]);
    expect(merges[0]!.cmd.reason).toBe("Folded by grouping into a surge of unmatched reports (9 reports in its window): this issue's 1 report matched nothing before it");
  });

  it('counts a folded issue already merged into the survivor as done, skips one that is gone, records every other refusal', async () => {
    const { client, merges } = fakeClient({
      [`issue:${INTO}`]: { state: running },
      // A retry: merged by the first attempt (the validator refuses `merged`; its state says where).
      'issue:app_crash.0000000000c1': { state: { status: 'merged', mergedInto: `issue:${INTO}` }, update: refusal('merged', `this issue was merged into issue:${INTO}`) },
      // Merged elsewhere meanwhile (an operator): not this fold's merge.
      'issue:app_crash.0000000000c2': { state: { status: 'merged', mergedInto: 'issue:app_crash.0000000000ff' }, update: refusal('merged', 'this issue was merged into issue:app_crash.0000000000ff') },
      'issue:app_crash.0000000000c3': { state: running, update: refusal('closed', 'the issue is closed or closing') },
      // c4 does not exist (or no longer runs).
    });
    const outcomes = await mergeFolds(client, decision('app_crash.0000000000c1', 'app_crash.0000000000c2', 'app_crash.0000000000c3', 'app_crash.0000000000c4'));
    expect(outcomes.map((o) => [o.from.slice(-2), o.outcome, o.code])).toEqual([
      ['c1', 'already_merged', undefined],
      ['c2', 'refused', 'merged'],
      ['c3', 'refused', 'closed'],
      ['c4', 'skipped', 'unknown_issue'],
    ]);
    expect(outcomes[2]!.reason).toBe('the issue is closed or closing');
    expect(merges).toEqual([]);
    for (const o of outcomes) expect(ZIssueFoldedPayload.safeParse(o).success).toBe(true);
    expect(() => retryBusyFolds(outcomes)).not.toThrow();
  });

  it('refuses a survivor that is closed or merged away before asking the folded issue', async () => {
    const { client, merges } = fakeClient({ [`issue:${INTO}`]: { state: { status: 'closed' } }, 'issue:app_crash.0000000000d1': { state: running, update: { reports: 1 } } });
    const [o] = await mergeFolds(client, decision('app_crash.0000000000d1'));
    expect(o).toMatchObject({ outcome: 'refused', code: 'closed', reason: `issue:${INTO} is closed; merge into a running issue` });
    expect(merges).toEqual([]);
    const gone = fakeClient({ 'issue:app_crash.0000000000d1': { state: running, update: { reports: 1 } } });
    expect((await mergeFolds(gone.client, decision('app_crash.0000000000d1')))[0]).toMatchObject({ outcome: 'refused', code: 'unknown_issue' });
  });

  it('fails routing with a retryable error when a folded issue is mid-merge or mid-split, after trying the others', async () => {
    const { client, merges } = fakeClient({
      [`issue:${INTO}`]: { state: running },
      'issue:app_crash.0000000000e1': { state: running, update: refusal('busy', 'a merge or split of this issue is in progress; try again in a moment') },
      'issue:app_crash.0000000000e2': { state: running, update: { reports: 1 } },
    });
    const outcomes = await mergeFolds(client, decision('app_crash.0000000000e1', 'app_crash.0000000000e2'));
    expect(outcomes.map((o) => o.outcome)).toEqual(['busy', 'merged']);
    expect(merges.map((m) => m.id)).toEqual(['issue:app_crash.0000000000e2']);
    let thrown: unknown;
    try {
      retryBusyFolds(outcomes);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'conflict', retryable: true });
    expect((thrown as Error).message).toContain('issue:app_crash.0000000000e1');
    // Only for the first attempts of the routing activity: from FOLD_BUSY_ATTEMPTS on the fold is left busy
    // (the audit says so) and the message is routed, not failed when its 10 attempts run out.
    expect(() => retryBusyFolds(outcomes, FOLD_BUSY_ATTEMPTS - 1)).toThrow(/in progress/);
    expect(retryBusyFolds(outcomes, FOLD_BUSY_ATTEMPTS)).toBe(true);
    expect(retryBusyFolds(outcomes.filter((o) => o.outcome !== 'busy'), FOLD_BUSY_ATTEMPTS)).toBe(false);
  });

  it('passes a transport failure through (the activity retries)', async () => {
    const client = { workflow: { getHandle: () => ({ query: async () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) }) } } as unknown as Client;
    await expect(mergeFolds(client, decision('app_crash.0000000000f1'))).rejects.toThrow(/UNAVAILABLE/);
  });

  it('keeps the audit payload to ids, counts, the segment and the refusal', () => {
    const base = { from: 'issue:a.000000000001', into: 'issue:a.000000000002', rule: 'burst', segment: 'any', members: 1, outcome: 'merged' };
    expect(ZIssueFoldedPayload.safeParse(base).success).toBe(true);
    expect(ZIssueFoldedPayload.safeParse({ ...base, text: 'The app crashes' }).success).toBe(false);
    expect(ZIssueFoldedPayload.safeParse({ ...base, outcome: 'maybe' }).success).toBe(false);
    expect(ZIssueFoldedPayload.safeParse({ ...base, rule: 'similarity' }).success).toBe(false);
  });
});
