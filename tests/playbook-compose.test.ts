// Playbooks compose (issue 17): a severity page and a volume playbook both apply to one issue with
// a documented precedence, and an ongoing issue is not paged again until it changes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybookDir } from '../playbooks/loader.js';
import { selectPlaybook, selectPlaybooks } from '../playbooks/schema.js';
import { addOccurrences, createIssueStats, type TIssueOccurrenceInput, type TIssueTrigger } from '../workflows/domain/issue-stats.js';
import { createPageMemory, decideRepage } from '../workflows/domain/paging.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1);
const reports = (mins: number[], severity: TIssueOccurrenceInput['severity'] = 'medium'): TIssueOccurrenceInput[] =>
  mins.map((m, i) => ({ ticketId: `${severity}-${m}-${i}`, severity, at: T0 + m * MIN }));

describe('playbook composition', () => {
  it('keeps the critical page when a category has its own volume playbook (the defect: one playbook per issue)', async () => {
    const all = await loadPlaybookDir(join(import.meta.dirname, '..', 'playbooks'));
    // Today's single selection: the category playbook wins and critical-any is gone.
    expect(selectPlaybook(all, { category: 'app_crash', severity: 'critical' })?.selected.playbook.id).toBe('app-crash-regression');
    const composed = selectPlaybooks(all, { category: 'app_crash', severity: 'critical' });
    expect(composed.map((s) => s.selected.playbook.id)).toEqual(['critical-any', 'app-crash-regression']);
    expect(composed[0]!.reason).toMatch(/^severity class/);
    expect(selectPlaybooks(all, { category: 'app_crash', severity: 'high' }).map((s) => s.selected.playbook.id)).toEqual(['app-crash-regression']);
    expect(selectPlaybooks(all, { category: 'privacy_data', severity: 'high' })).toEqual([]);
  });
});

describe('paging again only when the issue changes', () => {
  const count: TIssueTrigger = { kind: 'count', threshold: 5, windowMinutes: 30 };
  const sev: TIssueTrigger = { kind: 'severity', minSeverity: 'high' };

  it('suppresses the same ongoing episode and acts on a new spike after a quiet window', () => {
    // Steady 1 report/min for 3 h, a quiet hour, then a second wave.
    const stats = addOccurrences(createIssueStats(), reports([...Array.from({ length: 180 }, (_, i) => i), ...Array.from({ length: 30 }, (_, i) => 240 + i)]));
    const first = decideRepage(stats, createPageMemory(), { trigger: count, at: T0 + 5 * MIN, severity: 'medium' });
    expect(first.act).toBe(true);
    const same = decideRepage(stats, first.memory, { trigger: count, at: T0 + 120 * MIN, severity: 'medium' });
    expect(same.act).toBe(false);
    expect(same.memory.suppressed).toBe(1);
    const wave = decideRepage(stats, same.memory, { trigger: count, at: T0 + 250 * MIN, severity: 'medium' });
    expect(wave.act).toBe(true);
    expect(wave.reason).toContain('new spike');
  });

  it('acts again when severity rises or a snooze ends, not on another report of the same severity', () => {
    const stats = addOccurrences(createIssueStats(), reports(Array.from({ length: 60 }, (_, i) => i), 'high'));
    const first = decideRepage(stats, createPageMemory(), { trigger: sev, at: T0, severity: 'high' });
    expect(decideRepage(stats, first.memory, { trigger: sev, at: T0 + 30 * MIN, severity: 'high' }).act).toBe(false);
    expect(decideRepage(stats, first.memory, { trigger: sev, at: T0 + 30 * MIN, severity: 'critical' }).reason).toContain('severity rose');
    expect(decideRepage(stats, first.memory, { trigger: sev, at: T0 + 30 * MIN, severity: 'high', snoozeEndedAt: T0 + 20 * MIN }).act).toBe(true);
  });

  it('treats a volume firing after a verified fix as a recurrence, but not a severity page', () => {
    const stats = addOccurrences(createIssueStats(), reports(Array.from({ length: 180 }, (_, i) => i)));
    const first = decideRepage(stats, createPageMemory(), { trigger: count, at: T0 + 5 * MIN, severity: 'medium' });
    const again = { trigger: count, at: T0 + 120 * MIN, severity: 'medium' } as const;
    expect(decideRepage(stats, first.memory, again).act).toBe(false);
    expect(decideRepage(stats, first.memory, { ...again, resolvedSinceLastRound: true }).reason).toContain('recurred after verification');
    const page = decideRepage(stats, createPageMemory(), { trigger: sev, at: T0, severity: 'high' });
    expect(decideRepage(stats, page.memory, { trigger: sev, at: T0 + 30 * MIN, severity: 'high', resolvedSinceLastRound: true }).act).toBe(false);
  });

  it('pages a severe report again after the issue was quiet for a day', () => {
    const stats = addOccurrences(createIssueStats(), reports([0, 1, 2, 26 * 60], 'high'));
    const first = decideRepage(stats, createPageMemory(), { trigger: sev, at: T0, severity: 'high' });
    expect(decideRepage(stats, first.memory, { trigger: sev, at: T0 + 26 * 60 * MIN, severity: 'high' }).act).toBe(true);
  });
});
