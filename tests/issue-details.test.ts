// The IssueWorkflow's current details (workflows/issue/details.ts), the summary the Temporal UI
// shows, read as a person reads it: built from real issue state (initialIssueState +
// absorbOccurrences + issueView), never from a hand-made view; and its link back to Loopwright, from
// LOOPWRIGHT_PUBLIC_URL through the activities' start input (the Chromium check: temporal-ui.test.ts).
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { AuditStore } from '../activities/audit/index.js';
import { createActivities } from '../activities/index.js';
import type { TriagePipeline } from '../activities/triage/pipeline.js';
import { parseConfig } from '../worker/config.js';
import { currentDetails, LINE_BREAK, roundShown } from '../workflows/issue/details.js';
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

describe('currentDetails lines and round', () => {
  it('ends each part with a markdown hard line break (the UI joins lines split by a plain newline)', () => {
    const shown = detailsOf([occ('api:a', 'cust-1')]);
    expect(shown.split('\n')).toHaveLength(2);
    expect(shown.split('\n').slice(0, -1).every((l) => l.endsWith('  '))).toBe(true);
  });

  it('describes a severity page’s round while it runs, as the approval desk does, else the issue’s round', () => {
    const round = { n: 1 } as never;
    const page = { n: 2 } as never;
    expect(roundShown({ round, pageRound: page })).toBe(page);
    expect(roundShown({ round, pageRound: null })).toBe(round);
    expect(roundShown({ round: null })).toBeNull();
  });
});

describe('currentDetails title', () => {
  it('opens with the human title (theme in words and the masked excerpt) and the issue id; markdown in the excerpt is neutralised', () => {
    const shown = detailsOf([{ ...occ('api:a', 'cust-1'), excerpt: 'The app *crashes* when I open [settings](http://x) #2' }]);
    const [title, state] = shown.split(LINE_BREAK);
    expect(title).toMatch(/^\*\*App crash: "The app {2}crashes {2}when I open {2}settings \(http:\/\/x\) {2}2"\*\* · issue app_crash\.00000000dd01$/);
    expect(state).toBe('**watching** · app_crash · max severity medium · 1 report from 1 customer');
  });
});

describe('currentDetails links back', () => {
  const workflowId = 'issue:app_crash.00000000dd01';
  function shown(back?: { workflowId: string; publicUrl?: string }): string[] {
    const s = initialIssueState(fp);
    absorbOccurrences(s, [occ('api:a', 'cust-1')]);
    return currentDetails(issueView(fp, s, []), s, null, T, back).split(LINE_BREAK);
  }

  it('links the issue in the HTTP console under LOOPWRIGHT_PUBLIC_URL, and nothing when it is unset', () => {
    // On the title's line: the UI's frame is about five lines high and cut a line of links of its own.
    const linked = shown({ workflowId, publicUrl: 'https://loopwright.example.com/ops' });
    expect(linked).toHaveLength(2);
    expect(linked[0]).toMatch(/^\*\*.*\*\* · issue app_crash\.00000000dd01 · \[Open in Loopwright\]\(https:\/\/loopwright\.example\.com\/ops\/v1\/issues\/issue%3Aapp_crash\.00000000dd01\)$/);
    for (const lines of [shown({ workflowId }), shown()]) {
      expect(lines).toHaveLength(2);
      expect(lines.join('\n')).not.toContain('](');
    }
  });

  it('takes the URL from start-up validation: an http(s) base without query or fragment, else the start fails naming the variable', () => {
    expect(parseConfig({ LOOPWRIGHT_PUBLIC_URL: 'https://loopwright.example.com/' }).publicUrl).toBe('https://loopwright.example.com');
    expect(parseConfig({}).publicUrl).toBeNull();
    for (const bad of ['ftp://loopwright.example.com', 'https://loopwright.example.com/?a=1', 'javascript:alert(1)', 'loopwright.example.com']) {
      expect(() => parseConfig({ LOOPWRIGHT_PUBLIC_URL: bad })).toThrow(/LOOPWRIGHT_PUBLIC_URL/);
    }
  });

  it('reaches every IssueWorkflow the activities start (signal-with-start input), and only when set', async () => {
    const started: unknown[] = [];
    const client = { workflow: { signalWithStart: async (_type: string, o: { args: unknown[] }) => void started.push(o.args[0]) } } as unknown as Client;
    const base = { pipeline: {} as TriagePipeline, audit: {} as AuditStore, issueConfig: () => ({ playbooks: [], policy: null }), integrations: {}, contextSources: [], identity: 'test' };
    const withUrl = createActivities({ ...base, temporal: { client, taskQueue: 'q' }, links: { publicUrl: 'https://loopwright.example.com' } });
    await withUrl.sendOccurrences({ workflowId, fingerprint: fp, occurrences: [occ('api:a')] });
    const without = createActivities({ ...base, temporal: { client, taskQueue: 'q' } });
    await without.sendOccurrences({ workflowId, fingerprint: fp, occurrences: [occ('api:a')] });
    expect(started).toEqual([{ fingerprint: fp, publicUrl: 'https://loopwright.example.com' }, { fingerprint: fp }]);
  });
});
