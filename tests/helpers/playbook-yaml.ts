// The smallest valid playbook as YAML text, for tests of the loader and of what it refuses: one
// Jira step for one category, a count trigger, a verification window; `patch` is appended as
// top-level YAML (e.g. a customerReply). Line numbers in load errors count from its first line.
// Also loadError(), which returns the LoopwrightError a load throws (and fails the test otherwise).
import { expect } from 'vitest';
import { LoopwrightError } from '../../workflows/domain/errors.js';

export function minimalPlaybookYaml(patch = '', o: { category?: string; summary?: string } = {}): string {
  return `id: demo
version: 1.0.0
description: A playbook used only by tests.
match:
  categories: [${o.category ?? 'app_crash'}]
trigger:
  kind: count
  threshold: 3
  windowMinutes: 30
steps:
  - id: ticket
    action:
      type: jira.create_issue
      project: APP
      summary: "${o.summary ?? 'Crash {{ issue.category }}'}"
      description: "seen {{ issue.occurrences }} times"
verification:
  windowMinutes: 60
  requiredDropRatio: 0.5
${patch}`;
}

export function loadError(fn: () => unknown): LoopwrightError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoopwrightError);
    return e as LoopwrightError;
  }
  throw new Error('expected a load error');
}
