// What an approval request says, in words a support lead decides from: the question ("Reply to
// 48 customers about duplicate charge?"), the reach of the step, the text customers will read,
// and why the policy asks a person (from the verdict's machine reasons). Pure, no Slack types:
// the Slack blocks (adapters/slack/approval-blocks.ts) and the CLI show the same sentences.
// Must not: invent facts. Every number comes from the request; an unknown reason is shown as is.
import { deriveCompensation, type TPlaybookAction } from '../playbooks/actions.js';
import { categoryInWords } from '../workflows/domain/issue-title.js';
import { addsGreeting } from './adapters/zendesk/reply-text.js';
import { showRecipientOutputs } from '../playbooks/templates.js';
import { countOf } from '../workflows/domain/plural.js';

/** `1 ticket`, `2 tickets`, `1 reply`, `3 replies` (the one count-in-words helper: workflows/domain/plural.ts). */
export const plural = countOf;

/** `a`, `a and b`, `a, b and c`. */
export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

export interface TReach {
  tickets: number;
  customers: number;
}

/** The yes/no question the approval asks, at most 150 characters (a Block Kit header). */
export function approvalQuestion(action: TPlaybookAction, category: string, reach: TReach): string {
  const topic = categoryInWords(category).toLowerCase();
  const tickets = plural(reach.tickets, 'ticket');
  const q = (() => {
    switch (action.type) {
      case 'zendesk.public_reply':
        return reach.customers > 0 && reach.customers !== reach.tickets
          ? `Reply to ${plural(reach.customers, 'customer')} (${tickets}) about ${topic}?`
          : `Reply to ${plural(reach.tickets, 'customer')} about ${topic}?`;
      case 'zendesk.internal_note':
        return `Add an internal note to ${tickets} about ${topic}?`;
      case 'zendesk.add_tags':
        return `Tag ${tickets} about ${topic} with ${action.tags.join(', ')}?`;
      case 'zendesk.set_priority':
        return `Set ${tickets} about ${topic} to ${action.priority} priority?`;
      case 'jira.create_issue':
        return `Open a Jira ${action.issueType} in ${action.project} for ${topic}?`;
      case 'jira.comment':
        return `Comment on Jira ${action.issueKey} about ${topic}?`;
      case 'jira.transition':
        return `Move Jira ${action.issueKey} to "${action.transition}"?`;
      case 'slack.post_message':
        return `Post in ${action.channel} about ${topic}?`;
    }
  })();
  return q.length <= 150 ? q : `${q.slice(0, 148)}…?`;
}

/** Who and what the step touches, in a sentence. */
export function reachInWords(action: TPlaybookAction, reach: TReach, tiers: readonly string[] = []): string {
  const known = tiers.filter((t) => t !== 'unknown');
  const tierNote = known.length > 0 ? ` (${listInWords(known)})` : '';
  switch (action.type) {
    case 'zendesk.public_reply':
      return `${plural(reach.tickets, 'ticket')} from ${plural(reach.customers, 'customer')}${tierNote}; each customer receives the reply below by email`;
    case 'zendesk.internal_note':
      return `${plural(reach.tickets, 'ticket')}; agents see the note, customers do not`;
    case 'zendesk.add_tags':
    case 'zendesk.set_priority':
      return `${plural(reach.tickets, 'ticket')} from ${plural(reach.customers, 'customer')}${tierNote}; customers see no change`;
    case 'jira.create_issue':
      return `One new Jira issue in ${action.project}; no customer sees it`;
    case 'jira.comment':
    case 'jira.transition':
      return `Jira issue ${action.issueKey}; no customer sees it`;
    case 'slack.post_message':
      return `One message in ${action.channel}, seen by everyone in the channel`;
  }
}

/** True when nothing can take the step back (a sent email, a comment): such steps ask for a confirmation. */
export function isIrreversible(action: TPlaybookAction): boolean {
  return deriveCompensation(action) === null;
}

/** The text people outside the team will read, when the step sends one. */
export function customerFacingText(action: TPlaybookAction): { label: string; text: string } | null {
  switch (action.type) {
    case 'zendesk.public_reply':
      // The Zendesk adapter opens the reply with the requester's first name (reply-text.ts).
      // A `{{ customer.first_name | default: … }}` the adapter fills per ticket is shown as written.
      return { label: addsGreeting(action.body) ? 'The reply customers will receive (each opens with "Hi <first name>,")' : 'The reply customers will receive', text: showRecipientOutputs(action.body) };
    case 'zendesk.internal_note':
      return { label: 'The internal note', text: action.body };
    case 'jira.comment':
      return { label: 'The Jira comment', text: action.body };
    case 'slack.post_message':
      return { label: `The message for ${action.channel}`, text: action.text };
    default:
      return null;
  }
}

const pct = (v: string): string => {
  const n = Number(v);
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : v;
};

/**
 * One policy reason (policies/evaluate.ts) in words. The machine form stays in the audit trail;
 * people read this.
 */
export function reasonInWords(reason: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^confidence: ([\d.]+) < auto\.minConfidence ([\d.]+)/.exec(reason))) {
    return `The classifier is ${pct(m[1]!)} sure of the category; acting without a person needs ${pct(m[2]!)}.`;
  }
  if ((m = /^blast_radius: (\d+) (tickets|customers) > auto\.maxBlastRadius\.\w+ (\d+)/.exec(reason))) {
    const unit = m[2] === 'tickets' ? 'ticket' : 'customer';
    return `It reaches ${plural(Number(m[1]), unit)}; without a person, at most ${plural(Number(m[3]), unit)}.`;
  }
  if ((m = /^category: (\S+) not in auto\.categories/.exec(reason))) {
    return `${categoryInWords(m[1]!)} issues are never handled without a person.`;
  }
  if ((m = /^severity: (\S+) not in auto\.severities/.exec(reason))) {
    return `${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)}-severity issues need a person.`;
  }
  if ((m = /^tier: (\S+) not in auto\.tiers/.exec(reason))) {
    return `It affects ${listInWords(m[1]!.split(','))} customers, who always get a person's review.`;
  }
  if ((m = /^rate_limit: (\d+) in the last (\d+) min >= auto\.rateLimit\.max (\d+)/.exec(reason))) {
    return `${plural(Number(m[1]), 'such action')} already ran in the last ${m[2]} minutes (the automatic limit is ${m[3]}).`;
  }
  if (reason.startsWith('auto_disabled')) return 'This kind of action always needs a person.';
  return reason;
}

/** `2 hours`, `30 minutes`, `1 day`. */
export function durationInWords(ms: number): string {
  const min = Math.max(1, Math.round(ms / 60_000));
  if (min < 90) return plural(min, 'minute');
  const h = Math.round(min / 60);
  if (h < 48) return plural(h, 'hour');
  return plural(Math.round(h / 24), 'day');
}
