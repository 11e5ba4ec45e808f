// The IssueWorkflow's current details (workflows/issue/details.ts), the summary the Temporal UI
// shows, read as a person reads it: built from real issue state (initialIssueState +
// absorbOccurrences + issueView), never from a hand-made view.
import { describe, expect, it } from 'vitest';
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

describe('currentDetails title', () => {
  it('opens with the human title (theme in words and the masked excerpt) and the issue id; markdown in the excerpt is neutralised', () => {
    const shown = detailsOf([{ ...occ('api:a', 'cust-1'), excerpt: 'The app *crashes* when I open [settings](http://x) #2' }]);
    const [title, state] = shown.split('\n');
    expect(title).toMatch(/^\*\*App crash: "The app {2}crashes {2}when I open {2}settings \(http:\/\/x\) {2}2"\*\* · issue app_crash\.00000000dd01$/);
    expect(state).toBe('**watching** · app_crash · max severity medium · 1 report from 1 customer');
  });
});
