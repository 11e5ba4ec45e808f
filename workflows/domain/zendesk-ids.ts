// How Zendesk messages are named inside Loopwright: a ticket's first message has the ticket id as
// its externalId (`35436`), every customer comment added later its own id (`35436-c901`), so each
// follow-up is a new message (a new FeedbackWorkflow, triaged) that still names its ticket.
// Pure: imported by the webhook mapper and by activities that address the ticket.

const TICKET = /^(\d{1,20})(?:-c(\d{1,20}))?$/;

export function zendeskCommentExternalId(ticketId: string, commentId: string): string {
  return `${ticketId}-c${commentId}`;
}

/** The ticket a Zendesk externalId belongs to and, for a follow-up, its comment; null when it is neither. */
export function parseZendeskExternalId(externalId: string): { ticketId: string; commentId: string | null } | null {
  const m = TICKET.exec(externalId);
  return m ? { ticketId: m[1]!, commentId: m[2] ?? null } : null;
}
