// The IssueWorkflow's current details (workflows/issue/details.ts), the summary the Temporal UI
// shows, read as a person reads it: built from real issue state (initialIssueState +
// absorbOccurrences + issueView), never from a hand-made view. Also the other summaries that count
// an issue's reports and customers (rehearsal text, the Slack preview) when no customer is known.
import { describe, expect, it } from 'vitest';
import { buildPreviewBlocks } from '../activities/adapters/slack/preview-blocks.js';
import { formatRehearsal, type TRehearsal } from '../activities/shadow/index.js';
import { currentDetails } from '../workflows/issue/details.js';
import { absorbOccurrences, initialIssueState, issueView } from '../workflows/issue/state.js';
import type { TOccurrence } from '../workflows/messages.js';

const T = Date.UTC(2026, 10, 1);
const fp = { key: 'app_crash.00000000dd01', category: 'app_crash', features: ['test'], version: 'fp-1' };

function occ(id: string, customerId?: string): TOccurrence {
  return { feedbackId: id, source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'app_crash', at: new Date(T).toISOString(), evidence: [], excerpt: `report ${id}`, ...(customerId ? { customerId } : {}) };
}

function detailsOf(occs: TOccurrence[]): string {
  const s = initialIssueState(fp);
  absorbOccurrences(s, occs);
  return currentDetails(issueView(fp, s, []), s, null, T);
}

describe('currentDetails', () => {
  it('counts reports and the distinct customers behind them', () => {
    const shown = detailsOf([occ('api:a', 'cust-1'), occ('api:b', 'cust-2'), occ('api:c', 'cust-1')]);
    expect(shown).toContain('3 reports from 2 customers');
  });

  it('says the customer is unknown when no report named one, never "from 0 customers"', () => {
    const one = detailsOf([occ('api:a')]);
    expect(one).toContain('· 1 report, customer unknown');
    expect(one).not.toMatch(/from 0 customers/);
    const two = detailsOf([occ('api:a'), occ('api:b')]);
    expect(two).toContain('· 2 reports, customers unknown');
    expect(two).not.toMatch(/from 0 customers/);
  });
});

describe('rehearsal summaries', () => {
  it('say the customers are unknown when no report named one (CLI text and Slack preview)', () => {
    const at = new Date(T).toISOString();
    const r: TRehearsal = {
      issue: { workflowId: `issue:${fp.key}`, category: 'app_crash', severity: 'medium', occurrences: 2, customers: 0, tickets: 0, firstSeen: at, lastSeen: at },
      playbook: 'demo@1.0.0',
      policy: 'default@1.0.0',
      selection: { selected: true, reason: 'category app_crash' },
      trigger: { fired: false, reason: '2 of 3 reports' },
      round: { playbook: 'demo@1.0.0', playbookHash: 'h', policy: 'default@1.0.0', at, trigger: '2 of 3 reports', steps: [] },
      sideEffects: 'none',
    };
    for (const shown of [formatRehearsal(r), JSON.stringify(buildPreviewBlocks(r))]) {
      expect(shown).toContain('2 reports, customers unknown');
      expect(shown).not.toMatch(/from 0 customers/);
    }
  });
});
