// `loopwright approve` / `reject` against a real IssueWorkflow waiting for approval, through the
// authenticated HTTP API: the approver is the API token's principal (there is no --as), refusals
// are audited with the actor, and the command prints what the workflow recorded.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { loadPolicyFile } from '../policies/loader.js';
import { createDecisionCommand, type TemporalSession } from '../worker/commands/approve.js';
import { createStatusCommand } from '../worker/commands/status.js';
import type { CliIo } from '../worker/commands/types.js';
import { createHttpApp } from '../worker/http/app.js';
import { parseApiToken } from '../worker/http/auth.js';
import { closeUpdate } from '../workflows/messages.js';
import { approvalTestPlaybook, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const playbook = approvalTestPlaybook();
const TOKENS = { chen: 'tok-chen-0123456789', dara: 'tok-dara-0123456789', ana: 'tok-ana-0123456789', intake: 'tok-intake-0123456789' };

let h: LoopHarness;
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  // The dev server: `status` lists issues through visibility, which the time-skipping server lacks.
  h = await createLoopHarness({ playbooks: [playbook], server: 'dev-server' });
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  app = await createHttpApp({
    temporal: { client: h.env.client, taskQueue: h.taskQueue },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit: h.audit,
    policy: await loadPolicyFile(new URL('../policies/default.v1.yaml', import.meta.url).pathname),
    config: {
      apiTokens: [`U03ENGONC:Chen Oncall:${TOKENS.chen}`, `U04ENGONC:Dara Oncall:${TOKENS.dara}`, `U01SUPLEAD:Ana Support:${TOKENS.ana}`, TOKENS.intake].map(parseApiToken),
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

function io(token?: string): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env: { LOOPWRIGHT_API_URL: base, ...(token ? { LOOPWRIGHT_API_TOKEN: token } : {}) }, out: () => out, err: () => err };
}

const connect = async (): Promise<TemporalSession> => ({ client: h.env.client, taskQueue: h.taskQueue, close: async () => {} });
const close = (id: string) => h.env.client.workflow.getHandle(id).executeUpdate(closeUpdate, { args: [{ by: { id: 'U03ENGONC', name: 'Chen Oncall' }, reason: 'test over' }] });

describe('approve / reject commands', () => {
  it('acts only as the token principal: refuses a non-member (audited), then approves as the on-call engineer', async () => {
    const fp = fingerprint('app_crash', '0000000000c1');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      await h.report(fp, { feedbackId: 'api:cli-1' });
      await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request');
      const approve = createDecisionCommand('approve');

      // `status` lists the open issue with its pending step, and the audited Jira action.
      const status = createStatusCommand(connect, async () => ({ ...h.audit, close: async () => {} }));
      const before = io();
      expect(await status.run([], before)).toBe(0);
      const table = before.out().split('\n');
      expect(table[1]).toMatch(/^ {2}SEVERITY\s+STATUS\s+REPORTS\s+CUSTOMERS\s+AGE\s+LAST\s+PENDING\s+JIRA\s+ID\s+TITLE$/);
      const row = table.find((l) => l.includes(id)) ?? '';
      expect(row).toMatch(new RegExp(`^  medium\\s+awaiting_approval\\s+1\\s+0\\s+\\S+\\s+\\S+\\s+1\\s+APP-\\d+\\s+${id.replace('.', '\\.')}\\s+App crash`));
      expect(before.out()).toMatch(/step start-work \(jira\.transition\) asks eng-oncall: 0 of 1 approvals/);

      // There is no way to name an approver: --as is not an option any more.
      const named = io(TOKENS.ana);
      expect(await approve.run([id, 'start-work', '--as', 'U03ENGONC'], named)).toBe(2);

      const outsider = io(TOKENS.ana);
      expect(await approve.run([id, 'start-work'], outsider)).toBe(1);
      expect(outsider.err()).toMatch(/not recorded \(not_a_member\)/);

      const unbound = io(TOKENS.intake);
      expect(await approve.run([id, 'start-work'], unbound)).toBe(1);
      expect(unbound.err()).toMatch(/not bound to an approver/);

      const wrongStep = io(TOKENS.chen);
      expect(await approve.run([id, 'jira-bug'], wrongStep)).toBe(1);
      expect(wrongStep.err()).toMatch(/not recorded \(no_open_request\)/);

      const ok = io(TOKENS.chen);
      expect(await approve.run([id, 'start-work', '--reason', 'safe'], ok)).toBe(0);
      expect(ok.out()).toBe('Approved (1/1): step start-work runs now. (approved as Chen Oncall (U03ENGONC))\n');
      const s = await h.waitFor(id, (x) => x.status === 'verifying', 'verification');
      expect(s.steps.find((x) => x.stepId === 'start-work')?.outcome).toBe('succeeded');
      await close(id);
    });
    const trail = await h.audit.trail(id);
    const attempts = trail.filter((e) => e.kind === 'approval_refused' || e.kind === 'approval_ignored');
    expect(attempts.map((e) => [e.kind, e.actor.id, (e.payload as { code: string }).code])).toEqual([
      ['approval_refused', 'U01SUPLEAD', 'not_a_member'],
      ['approval_ignored', 'U03ENGONC', 'no_open_request'],
    ]);
    // The CLI names itself (User-Agent): its attempts and decisions are recorded as via "cli", not "api" or unknown.
    expect(attempts[0]!.payload).toMatchObject({ via: 'cli', attemptedAt: expect.any(String), requestId: expect.any(String) });
    expect(trail.find((e) => e.kind === 'approved')?.payload).toMatchObject({ approverId: 'U03ENGONC', approverName: 'Chen Oncall', comment: 'safe', via: 'cli' });
  });

  it('rejects with a reason and the step is skipped', async () => {
    const fp = fingerprint('app_crash', '0000000000c2');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      await h.report(fp, { feedbackId: 'api:cli-2' });
      await h.waitFor(id, (s) => s.pendingApprovals.length === 1, 'approval request');
      const out = io(TOKENS.dara);
      expect(await createDecisionCommand('reject').run([id, 'start-work', '--reason', 'not now'], out)).toBe(0);
      expect(out.out()).toMatch(/^Rejected: step start-work will not run/);
      const s = await h.waitFor(id, (x) => x.status === 'verifying', 'verification');
      expect(s.steps.find((x) => x.stepId === 'start-work')?.outcome).toBe('rejected');
      await close(id);
    });
    expect((await h.audit.trail(id)).find((e) => e.kind === 'rejected')?.payload).toMatchObject({ approverId: 'U04ENGONC', reason: 'not now', via: 'cli' });
  });

  it('reports usage errors with exit 2', async () => {
    const cmd = createDecisionCommand('approve');
    for (const args of [[], ['feedback:api:1', 'x'], ['issue:a', 's', 'extra'], ['issue:a', 's', '--as', 'U03ENGONC']]) {
      const out = io(TOKENS.chen);
      expect(await cmd.run(args, out), args.join(' ')).toBe(2);
      expect(out.err()).toMatch(/usage: loopwright approve/);
    }
  });
});
