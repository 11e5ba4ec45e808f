// The text of a public reply as the customer reads it: a greeting with the requester's first name
// when Zendesk knows it ("Hi Ana,"), "Hello," otherwise, then the playbook's text with exactly the
// line breaks its author wrote (one paragraph per line; nothing re-wrapped, nothing cut). Pure.
// The name is read by the adapter per ticket and never leaves it: workflow histories, the audit
// trail and approval messages carry the text without it. A playbook text may also place the name
// itself, `{{ customer.first_name | default: "there" }}` (playbooks/templates.ts carries that output
// through the workflow unrendered); it is filled here, per ticket, with the same first name.
import { fillRecipientValues } from '../../../playbooks/templates.js';

/** The first name to greet with, or null when the requester's name is unknown or is not a name. */
export function firstName(name: string | null | undefined): string | null {
  const n = (name ?? '').trim();
  // Zendesk fills `name` with the email address, or its local part, when a requester gave none.
  if (n === '' || n.includes('@') || !/\p{L}/u.test(n)) return null;
  const first = n.split(/\s+/)[0]!.replace(/[,;:.!?]+$/, '');
  return /\p{L}/u.test(first) ? first : null;
}

const GREETING = /^\s*(hi|hello|hey|dear|good (morning|afternoon|evening))\b/i;

/** Whether composeReply opens the text with a greeting (it does unless the text greets already). */
export function addsGreeting(text: string): boolean {
  return !GREETING.test(text);
}

export function composeReply(text: string, requesterName: string | null | undefined): string {
  const body = fillRecipientValues(text, { firstName: firstName(requesterName) })
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  // A text that greets on its own keeps its own words.
  if (!addsGreeting(body)) return body;
  const name = firstName(requesterName);
  return `${name ? `Hi ${name},` : 'Hello,'}\n\n${body}`;
}
