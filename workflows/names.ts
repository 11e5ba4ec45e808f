// Workflow type names, id shapes and search-attribute keys: the few constants every process and
// both workflow bundles need. Deliberately free of zod and of any other module-level work: the
// SDK re-evaluates a bundle's modules for every new workflow, so what FeedbackWorkflow imports is
// paid per message.
import { defineSearchAttributeKey } from '@temporalio/common';

export const FEEDBACK_WORKFLOW = 'FeedbackWorkflow';
export const ISSUE_WORKFLOW = 'IssueWorkflow';

export function issueWorkflowId(fingerprintKey: string): string {
  return `issue:${fingerprintKey}`;
}

/** Search attributes incident commanders filter on in the Temporal UI. All keywords. */
export const SA = {
  category: defineSearchAttributeKey('LoopwrightCategory', 'KEYWORD'),
  severity: defineSearchAttributeKey('LoopwrightSeverity', 'KEYWORD'),
  status: defineSearchAttributeKey('LoopwrightStatus', 'KEYWORD'),
  playbook: defineSearchAttributeKey('LoopwrightPlaybook', 'KEYWORD'),
  customerTier: defineSearchAttributeKey('LoopwrightCustomerTier', 'KEYWORD'),
} as const;

/** What a server must register before our workflows start (name → indexed type). */
export const SEARCH_ATTRIBUTES = Object.fromEntries(Object.values(SA).map((k) => [k.name, k.type])) as Record<
  string,
  'KEYWORD'
>;
