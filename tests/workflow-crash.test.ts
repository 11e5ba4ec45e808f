// A worker process SIGKILLed in the middle of a playbook step: Jira has already created the issue
// but the worker never learned it. A new worker resumes the workflow; the retried step finds the
// issue by its idempotency key, so the fakes see exactly one issue and one Slack message.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';
import { TEST_PAYLOAD_KEYS } from './helpers/temporal-env.js';
import { parsePlaybook } from '../playbooks/loader.js';
import { closeUpdate } from '../workflows/messages.js';
import type { WorkerProcessConfig } from './helpers/worker-process.js';

const playbookYaml = `
id: crash-kill
version: 1.0.0
description: Jira bug then a Slack post, to be interrupted by a worker crash.
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Crash {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "Crash, see {{ steps.jira-bug.issueKey }}" }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`;
const settings = { actionTimeoutMs: 3_000 };

let h: LoopHarness;
let child: ChildProcess | undefined;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [parsePlaybook(playbookYaml, 'crash.yaml')], settings, server: 'dev-server' });
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await h?.close();
});

async function until(pred: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('resumes after SIGKILL mid-step with no duplicated side effect', async () => {
  const config: WorkerProcessConfig = {
    address: h.env.address,
    taskQueue: h.taskQueue,
    auditPath: h.auditPath,
    playbookYaml,
    settings,
    urls: { jira: h.jira.url, slackApi: h.slack.apiUrl, zendesk: h.zendesk.url },
  };
  child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'helpers/worker-process.ts'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOOPWRIGHT_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS } });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  await until(() => out.includes('ready'), 'child worker', 90_000);

  // Jira processes the create but its reply never arrives: the step is mid-flight when we kill.
  h.jira.holdReplyNext(/POST .*\/issue$/);
  const fp = fingerprint('app_crash', '000000000901');
  const handle = await h.report(fp, { feedbackId: 'api:kill' });
  await until(() => h.jira.state.issues.size === 1, 'the Jira side effect');
  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));

  await h.run(async () => {
    // The dead worker's attempt is recovered by its start-to-close timeout; let (virtual) time pass it.
    await h.env.sleep(settings.actionTimeoutMs + 1_000);
    const s = await h.waitFor(handle.workflowId, (x) => x.status === 'verifying', 'the resumed playbook');
    expect(s.steps.map((x) => [x.stepId, x.outcome])).toEqual([
      ['jira-bug', 'succeeded'],
      ['notify', 'succeeded'],
    ]);
    await handle.executeUpdate(closeUpdate, { args: [{ by: { id: 'U01SUPLEAD', name: 'Ana' }, reason: 'test over' }] });
    await h.resultOf(handle);
  });
  expect(h.jira.state.issues.size).toBe(1);
  expect(h.slack.messages('#app-incidents')).toHaveLength(1);
  const succeeded = (await h.audit.trail(`issue:${fp.key}`)).filter((e) => e.kind === 'action_succeeded');
  expect(succeeded.map((e) => (e.payload as { result?: { created?: boolean } }).result?.created)).toEqual([false, true]);
  await h.replayAll();
}, 180_000);
