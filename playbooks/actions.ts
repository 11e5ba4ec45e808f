// The closed list of action types a playbook step may run, their typed parameters, the
// compensation each one has (where one exists) and which texts customers read (templates.ts renders them).
// Pure zod: the workflow, the policy evaluator and the action adapters all import it, so it must
// not do I/O. Adding an action type here is the only way to make it runnable; policies still have
// to allow it explicitly.
import { z } from 'zod';
import { renderText, type TTextTarget } from './templates.js';

export const ACTION_TYPES = [
  'jira.create_issue',
  'jira.comment',
  'jira.transition',
  'slack.post_message',
  'zendesk.add_tags',
  'zendesk.internal_note',
  'zendesk.public_reply',
  'zendesk.set_priority',
] as const;
export const ZActionType = z.enum(ACTION_TYPES);
export type TActionType = z.infer<typeof ZActionType>;

export function isActionType(s: string): s is TActionType {
  return (ACTION_TYPES as readonly string[]).includes(s);
}

/** A Liquid template (playbooks/templates.ts); its variables are checked against the step's context at load. */
export const ZTemplate = z.string().min(1).max(10_000);

const ZTag = z.string().regex(/^[a-z0-9_:-]{1,80}$/, 'tags are lowercase a-z, 0-9, _, : or -');

export const ZJiraCreateIssue = z.strictObject({
  type: z.literal('jira.create_issue'),
  project: z.string().regex(/^[A-Z][A-Z0-9_]{1,19}$/, 'project must be a Jira project key (e.g. APP)'),
  issueType: z.string().min(1).default('Bug'),
  summary: ZTemplate.max(255),
  description: ZTemplate,
  priority: z.enum(['Highest', 'High', 'Medium', 'Low', 'Lowest']).optional(),
  labels: z.array(z.string().regex(/^\S{1,255}$/, 'labels contain no whitespace')).default([]),
  /** Transition that closes the created issue if a later step fails and the run is compensated. */
  compensationTransition: z.string().min(1).default("Won't Do"),
  /** An earlier issue the new one is linked to ("Relates"): set by the workflow on a recurrence. */
  relatesTo: ZTemplate.optional(),
});
export const ZJiraComment = z.strictObject({ type: z.literal('jira.comment'), issueKey: ZTemplate, body: ZTemplate });
export const ZJiraTransition = z.strictObject({ type: z.literal('jira.transition'), issueKey: ZTemplate, transition: z.string().min(1) });
export const ZSlackPostMessage = z.strictObject({
  type: z.literal('slack.post_message'),
  channel: z.string().regex(/^(#[a-z0-9._-]{1,80}|[CGD][A-Z0-9]{6,})$/, 'channel is #name or a Slack channel id'),
  text: ZTemplate.max(3_000),
});
export const ZZendeskAddTags = z.strictObject({ type: z.literal('zendesk.add_tags'), tags: z.array(ZTag).min(1).max(20) });
export const ZZendeskInternalNote = z.strictObject({ type: z.literal('zendesk.internal_note'), body: ZTemplate });
export const ZZendeskPublicReply = z.strictObject({ type: z.literal('zendesk.public_reply'), body: ZTemplate });
export const ZZendeskSetPriority = z.strictObject({ type: z.literal('zendesk.set_priority'), priority: z.enum(['low', 'normal', 'high', 'urgent']) });

export const ZPlaybookAction = z.discriminatedUnion('type', [
  ZJiraCreateIssue,
  ZJiraComment,
  ZJiraTransition,
  ZSlackPostMessage,
  ZZendeskAddTags,
  ZZendeskInternalNote,
  ZZendeskPublicReply,
  ZZendeskSetPriority,
]);
export type TPlaybookAction = z.infer<typeof ZPlaybookAction>;

/** Fields each action type returns to later steps as `{{ steps.<id>.<field> }}`. */
export const ACTION_OUTPUTS: Record<TActionType, readonly string[]> = {
  'jira.create_issue': ['issueKey', 'issueUrl'],
  'jira.comment': ['commentId'],
  'jira.transition': ['previousStatus', 'status'],
  'slack.post_message': ['channel', 'ts', 'permalink'],
  'zendesk.add_tags': ['ticketCount'],
  'zendesk.internal_note': ['ticketCount'],
  'zendesk.public_reply': ['ticketCount'],
  'zendesk.set_priority': ['ticketCount'],
};

/** Whether an action changes only tickets the issue touched (so its blast radius is the affected tickets). */
export const TOUCHES_TICKETS: Record<TActionType, boolean> = {
  'jira.create_issue': false,
  'jira.comment': false,
  'jira.transition': false,
  'slack.post_message': false,
  'zendesk.add_tags': true,
  'zendesk.internal_note': true,
  'zendesk.public_reply': true,
  'zendesk.set_priority': true,
};

/**
 * Undo operations. `{{ result.<field> }}` is filled from the forward action's own result
 * (ACTION_OUTPUTS plus the per-type `previous*` values adapters must return), at compensation time.
 */
export const ZCompensation = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('jira.transition'), issueKey: ZTemplate, transition: z.string().min(1) }),
  z.strictObject({ type: z.literal('slack.delete_message'), channel: ZTemplate, ts: ZTemplate }),
  z.strictObject({ type: z.literal('zendesk.remove_tags'), tags: z.array(ZTag).min(1) }),
  z.strictObject({ type: z.literal('zendesk.set_priority'), priority: ZTemplate }),
]);
export type TCompensation = z.infer<typeof ZCompensation>;

/**
 * The compensation for an action, or null when none exists: comments and notes are additive and
 * harmless, and a public reply cannot be unsent (which is why policies treat it as risky).
 */
export function deriveCompensation(action: TPlaybookAction): TCompensation | null {
  switch (action.type) {
    case 'jira.create_issue':
      return { type: 'jira.transition', issueKey: '{{ result.issueKey }}', transition: action.compensationTransition };
    case 'jira.transition':
      return { type: 'jira.transition', issueKey: action.issueKey, transition: '{{ result.previousStatus }}' };
    case 'slack.post_message':
      return { type: 'slack.delete_message', channel: '{{ result.channel }}', ts: '{{ result.ts }}' };
    case 'zendesk.add_tags':
      return { type: 'zendesk.remove_tags', tags: action.tags };
    case 'zendesk.set_priority':
      return { type: 'zendesk.set_priority', priority: '{{ result.previousPriority }}' };
    case 'jira.comment':
    case 'zendesk.internal_note':
    case 'zendesk.public_reply':
      return null;
  }
}

/** Values every template may use; filled by the workflow from the issue state. */
export const ISSUE_PLACEHOLDERS = [
  'issue.workflowId',
  'issue.fingerprint',
  'issue.category',
  'issue.topic',
  'issue.title',
  'issue.severity',
  'issue.occurrences',
  'issue.reports',
  'issue.customers',
  'issue.firstSeen',
  'issue.lastSeen',
  'issue.hypothesis',
  'playbook.id',
  'playbook.version',
] as const;

/**
 * What a text customers read may use: the topic in words and counts, never an internal identifier
 * (issue id, fingerprint, category id, Jira key or URL, playbook). Checked at playbook load.
 */
export const CUSTOMER_PLACEHOLDERS = ['issue.topic', 'issue.occurrences', 'issue.reports', 'issue.customers'] as const;

/** Action types whose text people outside the company read. */
export function isCustomerFacing(type: string): boolean {
  return type === 'zendesk.public_reply';
}

/** How an action's texts are rendered: Slack messages escape inserted values for mrkdwn. */
export function textTarget(type: string): TTextTarget {
  return type === 'slack.post_message' ? 'slack' : 'plain';
}

/** Fills a template (Liquid, strict): see templates.ts. Kept under this name for the workflow and shadow code. */
export function renderTemplate(template: string, values: Readonly<Record<string, string | number>>, target: TTextTarget = 'plain'): string {
  return renderText(template, values, target);
}
