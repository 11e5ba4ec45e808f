// `loopwright status` as a person reads it: pending approvals with their deadline in words (how long
// is left, and the UTC time), never a raw ISO timestamp.
import { describe, expect, it } from 'vitest';
import { deadlineInWords, renderStatus, type TStatusReport } from '../worker/commands/status.js';

const NOW = Date.parse('2026-11-29T19:10:00Z');

describe('status: pending approvals', () => {
  it('says how long is left before the deadline, or how long ago it passed', () => {
    expect(deadlineInWords('2026-11-29T22:30:00.000Z', NOW)).toBe('in 3h (2026-11-29 22:30 UTC)');
    expect(deadlineInWords('2026-11-29T19:05:00Z', NOW)).toBe('passed 5m ago (2026-11-29 19:05 UTC)');
    expect(deadlineInWords('not a time', NOW)).toBe('not a time');
  });

  it('prints the deadline in words in the pending list', () => {
    const report: TStatusReport = {
      issues: { items: [], next: null, total: 0, truncated: false },
      pending: [
        {
          id: 'issue:billing.0123456789ab',
          title: 'Billing: "charged twice"',
          approval: { stepId: 'notify', actionType: 'zendesk.public_reply', approverGroup: 'support-leads', approvals: [], approvalsRequired: 2, deadline: '2026-11-29T22:30:00.000Z' } as never,
        },
      ],
      outlook: [],
      recent: [],
    };
    const text = renderStatus(report, NOW);
    expect(text).toContain('issue:billing.0123456789ab  step notify (zendesk.public_reply) asks support-leads: 0 of 2 approvals, deadline in 3h (2026-11-29 22:30 UTC)');
    expect(text).not.toContain('22:30:00.000Z');
  });
});
