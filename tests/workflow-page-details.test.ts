// What the Temporal UI shows while a severity page runs beside a verifying round (issue #17's
// "a critical report pages at once even while another round is verifying"): the page's round is
// the one described (`roundShown`: pageRound before round), so an incident commander sees that the
// page is stuck on Slack, not "Verifying the fix"; once the page is out, the verifying round is
// shown again. Time-skipping server: Slack answers 503 for 40 minutes of workflow time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINE_BREAK } from '../workflows/issue/details.js';
import { closeUpdate } from '../workflows/messages.js';
import { createLoopHarness, crashVolumeTestPlaybook, fingerprint, severityPageTestPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const MINUTE = 60_000;
const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [crashVolumeTestPlaybook(2), severityPageTestPlaybook()] });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

/** The workflow's Current Details (the SDK's built-in metadata query the Temporal UI reads). */
async function details(workflowId: string): Promise<string[]> {
  const meta = await h.env.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return (meta.currentDetails ?? '').split(LINE_BREAK);
}

describe('Current details while a page runs beside a verifying round', () => {
  it('describe the page stuck on Slack, then the verifying round again once the page is out', async () => {
    const fp = fingerprint('app_crash', '0000000d0e01');
    const id = `issue:${fp.key}`;
    let slackUp = () => {};
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:d1' });
      await h.report(fp, { feedbackId: 'api:d2' });
      await h.waitFor(id, (s) => s.status === 'verifying' && s.remediations === 1, 'the volume round verifying');
      expect((await details(id)).some((l) => l.startsWith('Verifying the fix until '))).toBe(true);

      slackUp = h.slack.outage({ status: 503, body: '<html>503 Service Unavailable</html>' }, /chat\.postMessage/);
      await h.report(fp, { feedbackId: 'api:d3', severity: 'critical' });
      await h.env.sleep(10 * MINUTE);
      const stuck = await details(id);
      expect(stuck.find((l) => l.startsWith('Waiting on '))).toMatch(/^Waiting on \*\*Slack\*\* for \*\*page\*\* \(slack\.post_message\): failing since .*, next at /);
      expect(stuck.some((l) => l.startsWith('Verifying the fix until '))).toBe(false);
      expect(h.slack.messages('#app-incidents')).toEqual([]);

      slackUp();
      await h.env.sleep(30 * MINUTE);
      const paged = await h.waitFor(id, (s) => s.steps.some((x) => x.stepId === 'page' && x.outcome === 'succeeded'), 'the page sent');
      expect(paged.remediations).toBe(2);
      expect(h.slack.messages('#app-incidents').map((m) => m.text)).toEqual([`PAGE ${fp.key} (critical)`]);
      await h.waitFor(id, (s) => s.status === 'verifying', 'back to verifying');
      const after = await details(id);
      expect(after.some((l) => l.startsWith('Verifying the fix until '))).toBe(true);
      expect(after.some((l) => l.startsWith('Waiting on '))).toBe(false);

      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
    }).finally(() => slackUp());
  }, 300_000);
});
