// The words people read about a merge or a split: the workflow's timeline lines (audit-payloads.ts)
// and the one-line answer the CLI prints and Slack shows (describeCommand) count reports with the
// one plural helper — "1 report", "2 reports" — never "1 reports".
import { describe, expect, it } from 'vitest';
import { describeCommand } from '../worker/http/operator-commands.js';
import { absorbed, merged, split } from '../workflows/issue/audit-payloads.js';
import type { TAbsorbedIssue } from '../workflows/messages.js';

const by = { id: 'U01SUPLEAD', name: 'Ana Support' };
const into = 'issue:billing.0123456789ab';

describe('merge and split notes', () => {
  it('count reports in the singular and the plural', () => {
    expect(merged({ into, by, reason: 'same charge' }, 1, null)[1]).toBe(`Ana Support merged this issue into ${into} (1 report): same charge`);
    expect(merged({ into, by, reason: 'same charge' }, 2, null)[1]).toBe(`Ana Support merged this issue into ${into} (2 reports): same charge`);
    const a = { from: 'issue:billing.00000000aaaa', by, reason: 'dup' } as TAbsorbedIssue;
    expect(absorbed(a, 1, 0)[1]).toBe('Ana Support merged issue:billing.00000000aaaa into this issue (+1 report)');
    expect(absorbed(a, 3, 1)[1]).toBe('Ana Support merged issue:billing.00000000aaaa into this issue (+3 reports, 1 already counted)');
    expect(split({ feedbackIds: ['api:1'], by, reason: 'refunds' }, into, 'billing', 1, 4)[1]).toBe(`Ana Support split 1 report into ${into}: refunds`);
    expect(split({ grouping: 'similarity', by, reason: 'refunds' }, into, 'billing', 12, 4)[1]).toBe(`Ana Support split 12 reports into ${into}: refunds`);
  });

  it('answer the person who merged or split the same way', () => {
    const src = 'issue:billing.00000000aaaa';
    expect(describeCommand('merge', src, { into, reports: 1, cancelledStep: null })).toBe(`${src} merged into ${into} (1 report; later reports follow)`);
    expect(describeCommand('merge', src, { into, reports: 2, cancelledStep: 'reply' })).toBe(`${src} merged into ${into} (2 reports; later reports follow); reply will not run here`);
    expect(describeCommand('split', src, { issue: into, moved: 1, remaining: 3 })).toBe(`1 report of ${src} split into ${into} (3 left)`);
    expect(describeCommand('split', src, { issue: into, moved: 2, remaining: 1 })).toBe(`2 reports of ${src} split into ${into} (1 left)`);
  });
});
