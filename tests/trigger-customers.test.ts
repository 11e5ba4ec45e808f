// Triggers that count distinct customers as well as messages (`minCustomers`): one customer, or one
// attacker, repeating a message cannot fire a trigger that asks for several customers.
import { describe, expect, it } from 'vitest';
import { addOccurrences, createIssueStats, distinctCustomersBetween, evaluateTrigger, ZIssueTrigger } from '../workflows/domain/issue-stats.js';
import { ZPlaybook } from '../playbooks/schema.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const occ = (i: number, customerId?: string) => ({ ticketId: `t-${i}`, severity: 'medium' as const, at: T0 + i * 1_000, ...(customerId ? { customerId } : {}) });

describe('minCustomers', () => {
  it('ten messages from one customer fire a count trigger only without minCustomers', () => {
    const s = addOccurrences(createIssueStats(), Array.from({ length: 10 }, (_, i) => occ(i, 'cust-1')));
    const now = T0 + 60_000;
    expect(evaluateTrigger(s, { kind: 'count', threshold: 5, windowMinutes: 60 }, now).fired).toBe(true);
    const gated = evaluateTrigger(s, { kind: 'count', threshold: 5, windowMinutes: 60, minCustomers: 3 }, now);
    expect(gated).toMatchObject({ fired: false, observed: { count: 10, customers: 1, customersExact: true } });
    expect(gated.reason).toMatch(/1 distinct customer\(s\) < minCustomers 3/);

    const three = addOccurrences(s, [occ(20, 'cust-2'), occ(21, 'cust-3')]);
    expect(evaluateTrigger(three, { kind: 'count', threshold: 5, windowMinutes: 60, minCustomers: 3 }, now + 30_000).fired).toBe(true);
  });

  it('messages without a customer id count as one customer together', () => {
    const s = addOccurrences(createIssueStats(), Array.from({ length: 6 }, (_, i) => occ(i)));
    expect(distinctCustomersBetween(s, T0, T0 + 3_600_000)).toEqual({ count: 1, exact: true });
    expect(evaluateTrigger(s, { kind: 'severity', minSeverity: 'medium', minCustomers: 2 }, T0 + 60_000).fired).toBe(false);
  });

  it('only customers inside the window count, for spike triggers too', () => {
    const old = Array.from({ length: 5 }, (_, i) => ({ ...occ(100 + i, `old-${i}`), at: T0 - 5 * 3_600_000 + i }));
    const recent = Array.from({ length: 8 }, (_, i) => occ(i, 'same-customer'));
    const s = addOccurrences(createIssueStats(), [...old, ...recent]);
    const spike = { kind: 'spike' as const, windowMinutes: 60, baselineMinutes: 600, factor: 2, minCount: 5 };
    expect(evaluateTrigger(s, spike, T0 + 60_000).fired).toBe(true);
    expect(evaluateTrigger(s, { ...spike, minCustomers: 2 }, T0 + 60_000)).toMatchObject({ fired: false, observed: { customers: 1 } });
  });

  it('is optional and validated in the playbook trigger schema', () => {
    expect(ZIssueTrigger.parse({ kind: 'count', threshold: 1, windowMinutes: 5 })).not.toHaveProperty('minCustomers');
    expect(() => ZIssueTrigger.parse({ kind: 'count', threshold: 1, windowMinutes: 5, minCustomers: 0 })).toThrow();
    expect(ZPlaybook.shape.trigger).toBe(ZIssueTrigger);
  });
});
