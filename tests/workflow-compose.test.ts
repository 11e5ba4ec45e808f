// Playbooks compose in the IssueWorkflow (issue 17, patched compose-playbooks), time-skipping
// server: a severity page applies to an issue whose category has its own volume playbook (before,
// the category playbook won and the critical page was lost); each playbook keeps its own trigger
// cursor and page memory; a second critical report on the same unchanged issue is not paged
// again but audited as repage_suppressed; the volume playbook still runs its own round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUpdate } from '../workflows/messages.js';
import { createLoopHarness, crashVolumeTestPlaybook, fingerprint, severityPageTestPlaybook, type LoopHarness } from './helpers/loop-harness.js';

const MIN = 60_000;
const lead = { id: 'U01SUPLEAD', name: 'Ana Support' };

const page = severityPageTestPlaybook();

const volume = crashVolumeTestPlaybook(3);

let h: LoopHarness;
beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [page, volume] });
}, 180_000);
afterAll(async () => h?.close(), 180_000);

describe('IssueWorkflow with composed playbooks', () => {
  it('pages a critical crash once, suppresses the unchanged re-page, and still runs the volume round', async () => {
    const fp = fingerprint('app_crash', '0000000c0a01');
    const id = `issue:${fp.key}`;
    await h.run(async () => {
      const handle = await h.report(fp, { feedbackId: 'api:c1', severity: 'critical' });
      await h.waitFor(id, (s) => s.status === 'verifying' && s.remediations === 1, 'the page round');
      await h.waitForAudit(id, 'action_succeeded');
      expect(h.slack.messages('#app-incidents').map((m) => m.text)).toEqual([`PAGE ${fp.key} (critical)`]);
      await h.env.sleep(6 * MIN);
      await h.waitFor(id, (s) => s.status !== 'verifying', 'the page round verified');

      // Another critical report ten minutes later: same severity, same episode: no second page.
      await h.report(fp, { feedbackId: 'api:c2', severity: 'critical' });
      await h.waitForAudit(id, 'repage_suppressed');
      expect(h.slack.messages('#app-incidents')).toHaveLength(1);

      // A third report: three in the hour, the volume playbook's own trigger fires: its round runs.
      await h.report(fp, { feedbackId: 'api:c3' });
      const s = await h.waitFor(id, (x) => x.remediations === 2 && x.jiraKey !== null, 'the volume round');
      expect(s.playbook).toBe('crash-volume@1.0.0');
      await h.waitForAudit(id, 'action_succeeded', 2);
      await handle.executeUpdate(closeUpdate, { args: [{ by: lead, reason: 'test over' }] });
      await h.resultOf(handle);
    });
    const trail = await h.audit.trail(id);
    expect(trail.filter((e) => e.kind === 'playbook_selected').map((e) => (e.payload as { playbookId: string }).playbookId)).toEqual(['sev-page', 'crash-volume']);
    const suppressed = trail.filter((e) => e.kind === 'repage_suppressed').map((e) => e.payload);
    expect(suppressed).toEqual([expect.objectContaining({ playbookId: 'sev-page', suppressed: 1, reason: expect.stringContaining('same episode') })]);
    expect(h.slack.messages('#app-incidents')).toHaveLength(1);
    expect(h.jira.state.issues.size).toBe(1);
  }, 300_000);
});
