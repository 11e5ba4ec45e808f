// `loopwright approve` / `reject` against a real IssueWorkflow waiting for approval: the command
// reads the pending request id, signals, and reports whether the workflow recorded the decision.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecisionCommand, type TemporalSession } from '../worker/commands/approve.js';
import { createStatusCommand } from '../worker/commands/status.js';
import type { CliIo } from '../worker/commands/types.js';
import { closeSignal } from '../workflows/messages.js';
import { approvalTestPlaybook, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const playbook = approvalTestPlaybook();

let h: LoopHarness;
beforeAll(async () => {
  // The dev server: `status` lists issues through visibility, which the time-skipping server lacks.
  h = await createLoopHarness({ playbooks: [playbook], server: 'dev-server' });
}, 120_000);
afterAll(async () => h?.close());

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, out: () => out, err: () => err };
}

const connect = async (): Promise<TemporalSession> => ({ client: h.env.client, taskQueue: h.taskQueue, close: async () => {} });

describe('approve / reject commands', () => {
  it('refuses a non-member, then approves as the on-call engineer and the step runs', async () => {
    const fp = fingerprint('app_crash', '0000000000c1');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      await h.report(fp, { feedbackId: 'api:cli-1' });
      await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request');
      const approve = createDecisionCommand('approve', connect);

      // `status` lists the open issue with its pending step, and the audited Jira action.
      const status = createStatusCommand(connect, async () => ({ ...h.audit, close: async () => {} }));
      const before = io();
      expect(await status.run([], before)).toBe(0);
      expect(before.out()).toContain(`${id}  awaiting_approval  app_crash  1 reports / 0 customers  max medium  APP-`);
      expect(before.out()).toMatch(/awaiting approval: step start-work \(jira\.transition\) from eng-oncall, 0\/1/);
      expect(before.out()).toMatch(/action_succeeded +issue:app_crash\.0000000000c1 +jira\.create_issue \(jira-bug\) → APP-\d+/);
      const asJson = io();
      expect(await status.run(['--json', '--limit', '5'], asJson)).toBe(0);
      expect((JSON.parse(asJson.out()) as { openIssues: Array<{ workflowId: string }> }).openIssues.map((i) => i.workflowId)).toContain(id);

      const outsider = io();
      expect(await approve.run([id, 'start-work', '--as', 'U01SUPLEAD', '--name', 'Ana Support', '--wait-ms', '1500'], outsider)).toBe(1);
      expect(outsider.err()).toMatch(/did not record the decision/);

      const wrongStep = io();
      expect(await approve.run([id, 'jira-bug', '--as', 'U03ENGONC', '--name', 'Chen Oncall'], wrongStep)).toBe(1);
      expect(wrongStep.err()).toMatch(/not waiting for approval \(pending: start-work\)/);

      const ok = io();
      expect(await approve.run([id, 'start-work', '--as', 'U03ENGONC', '--name', 'Chen Oncall', '--reason', 'safe'], ok)).toBe(0);
      expect(ok.out()).toBe(`approved step start-work of ${id} as Chen Oncall (U03ENGONC)\n`);
      const s = await h.waitFor(id, (x) => x.status === 'verifying', 'verification');
      expect(s.steps.find((x) => x.stepId === 'start-work')?.outcome).toBe('succeeded');
      await h.env.client.workflow.getHandle(id).signal(closeSignal, { by: { id: 'U03ENGONC', name: 'Chen Oncall' }, reason: 'test over' });
      await h.env.client.workflow.getHandle(id).result();
    });
    const trail = await h.audit.trail(id);
    expect(trail.find((e) => e.kind === 'approval_refused')?.payload).toMatchObject({ approverId: 'U01SUPLEAD', code: 'not_a_member' });
    expect(trail.find((e) => e.kind === 'approved')?.payload).toMatchObject({ approverId: 'U03ENGONC', approverName: 'Chen Oncall' });
  });

  it('rejects with a reason and the step is skipped', async () => {
    const fp = fingerprint('app_crash', '0000000000c2');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      await h.report(fp, { feedbackId: 'api:cli-2' });
      await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request');
      const out = io();
      expect(await createDecisionCommand('reject', connect).run([id, 'start-work', '--as', 'U04ENGONC', '--name', 'Dara Oncall', '--reason', 'not now'], out)).toBe(0);
      expect(out.out()).toMatch(/^rejected step start-work/);
      const s = await h.waitFor(id, (x) => x.status === 'verifying', 'verification');
      expect(s.steps.find((x) => x.stepId === 'start-work')?.outcome).toBe('rejected');
      await h.env.client.workflow.getHandle(id).signal(closeSignal, { by: { id: 'U04ENGONC', name: 'Dara Oncall' }, reason: 'test over' });
      await h.env.client.workflow.getHandle(id).result();
    });
    expect((await h.audit.trail(id)).find((e) => e.kind === 'rejected')?.payload).toMatchObject({ approverId: 'U04ENGONC', reason: 'not now' });
  });

  it('reports usage errors with exit 2', async () => {
    const cmd = createDecisionCommand('approve', connect);
    for (const args of [[], ['feedback:api:1', 'x', '--as', 'U1AA', '--name', 'n'], ['issue:a', 's', '--as', 'bob', '--name', 'n'], ['issue:a', 's', '--as', 'U03ENGONC']]) {
      const out = io();
      expect(await cmd.run(args, out), args.join(' ')).toBe(2);
      expect(out.err()).toMatch(/usage: loopwright approve/);
    }
  });
});
