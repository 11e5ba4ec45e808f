// Playbook actions and their compensations, mapped onto the Jira, Slack and Zendesk ports.
// Each call carries the workflow's idempotency key so a retried activity or a restarted worker
// finds the earlier result instead of creating a second ticket, message or reply. An integration
// that is not configured cannot act: its steps are recorded as dry runs, never as successes.
import type { JiraPort } from './adapters/jira/jira-adapter.js';
import type { SlackPort } from './adapters/slack/slack-adapter.js';
import type { ZendeskPort } from './adapters/zendesk/zendesk-adapter.js';
import { issueDescription, type TDescriptionLinks } from './adapters/jira/description.js';
import { isLoopwrightError, LoopwrightError } from '../workflows/domain/errors.js';
import { slackPermalink } from '../workflows/domain/links.js';
import type { TActionRequest, TActionResult, TCompensationRequest, TTicketResult } from '../workflows/activity-types.js';

export interface TIntegrations {
  jira?: JiraPort;
  slack?: SlackPort;
  zendesk?: ZendeskPort;
}

function system(type: string): keyof TIntegrations {
  return type.split('.')[0] as keyof TIntegrations;
}

function ticketIds(tickets: string[]): number[] {
  const ids = tickets.map((t) => Number(t)).filter((n) => Number.isSafeInteger(n) && n > 0);
  if (ids.length === 0) throw new LoopwrightError('invalid_input', `no Zendesk ticket ids among ${tickets.length} affected tickets`, { retryable: false });
  return ids;
}

/** Heartbeats per ticket (details: the ticket results so far), so a retried fan-out resumes where it stopped. */
export interface TFanOut {
  heartbeat(resultsSoFar: TTicketResult[]): void;
  /** Results of an earlier attempt of this activity (its last heartbeat). */
  resumeWith?: TTicketResult[];
}

/**
 * Why a ticket cannot be acted on, or null when the error is about the call, not the ticket:
 * deleted (404) and closed or merged tickets (Zendesk answers 422 on updates to closed tickets).
 */
function ticketGone(e: unknown): string | null {
  if (!isLoopwrightError(e)) return null;
  if (e.code === 'not_found') return 'not_found';
  if (e.code === 'upstream_rejected' && /closed|merged/i.test(e.message)) return 'closed';
  return null;
}

/** Applies `fn` to each ticket, heartbeating; gone tickets are skipped, any other error fails the attempt. */
async function eachTicket(ids: number[], fanOut: TFanOut | undefined, fn: (ticketId: number) => Promise<Omit<TTicketResult, 'id'>>): Promise<TTicketResult[]> {
  const results = (fanOut?.resumeWith ?? []).slice();
  const done = new Set(results.map((r) => r.id));
  for (const ticketId of ids) {
    if (done.has(String(ticketId))) continue;
    try {
      results.push({ id: String(ticketId), ...(await fn(ticketId)) });
    } catch (e) {
      const gone = ticketGone(e);
      if (!gone) throw withResultsSoFar(e, results);
      results.push({ id: String(ticketId), outcome: 'skipped', reason: gone });
    }
    fanOut?.heartbeat(results);
  }
  return results;
}

/**
 * The failure of a fan-out carries the tickets it had already handled (`details.ticketResults`), so
 * the workflow can undo the ones this attempt changed before the failing ticket.
 */
function withResultsSoFar(e: unknown, results: TTicketResult[]): unknown {
  if (!isLoopwrightError(e) || results.length === 0) return e;
  return new LoopwrightError(e.code, e.message, { details: { ...e.details, ticketResults: results }, retryable: e.retryable, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}), cause: e });
}

function fanOutResult(results: TTicketResult[], extra: Record<string, string> = {}): TActionResult {
  const acted = results.filter((r) => r.outcome !== 'skipped').length;
  return {
    outputs: { ticketCount: String(acted), ...extra },
    externalRef: `${acted} tickets`,
    created: results.some((r) => r.outcome === 'changed'),
    dryRun: false,
    tickets: results,
  };
}

export async function runPlaybookAction(integrations: TIntegrations, req: TActionRequest, fanOut?: TFanOut, links: TDescriptionLinks = {}): Promise<TActionResult> {
  const { action, idempotencyKey } = req;
  const sys = system(action.type);
  if (req.dryRun || !integrations[sys]) {
    return { outputs: dryRunOutputs(action.type, sys), created: false, dryRun: true };
  }
  switch (action.type) {
    case 'jira.create_issue': {
      const r = await integrations.jira!.createIssue({
        idempotencyKey,
        project: action.project,
        issueType: action.issueType,
        summary: action.summary,
        description: action.description,
        // The playbook's text on top of the issue report (headings, evidence, quotes, hypotheses, links).
        ...(req.report ? { document: issueDescription(action.description, req.report, req.workflowId, links) } : {}),
        labels: action.labels,
        ...(action.priority ? { priority: action.priority } : {}),
      });
      // A recurrence's new issue points at the old one (a no-op when the link exists: retry-safe).
      if (action.relatesTo) await integrations.jira!.link({ type: 'Relates', inwardIssue: r.key, outwardIssue: action.relatesTo });
      return { outputs: { issueKey: r.key, issueUrl: r.url }, externalRef: r.key, created: r.created, dryRun: false };
    }
    case 'jira.comment': {
      const r = await integrations.jira!.comment({ idempotencyKey, issueKey: action.issueKey, body: action.body });
      return { outputs: { commentId: r.id }, externalRef: `${action.issueKey}#${r.id}`, created: r.created, dryRun: false };
    }
    case 'jira.transition': {
      const r = await integrations.jira!.transition({ issueKey: action.issueKey, status: action.transition });
      return { outputs: { previousStatus: r.from, status: r.to }, externalRef: action.issueKey, created: r.changed, dryRun: false };
    }
    case 'slack.post_message': {
      const r = await integrations.slack!.postMessage({ idempotencyKey, channel: action.channel, text: action.text });
      return { outputs: { channel: r.channel, ts: r.ts, permalink: slackPermalink(r.channel, r.ts) }, externalRef: `${r.channel}/${r.ts}`, created: r.created, dryRun: false };
    }
    case 'zendesk.add_tags': {
      const zendesk = integrations.zendesk!;
      const results = await eachTicket(ticketIds(req.tickets), fanOut, async (ticketId) => {
        const { added } = await zendesk.addTags({ ticketId, tags: action.tags });
        return { outcome: added.length > 0 ? 'changed' : 'unchanged', addedTags: added };
      });
      return fanOutResult(results);
    }
    case 'zendesk.internal_note': {
      const zendesk = integrations.zendesk!;
      const results = await eachTicket(ticketIds(req.tickets), fanOut, async (ticketId) => {
        const r = await zendesk.addInternalNote({ idempotencyKey: `${idempotencyKey}/${ticketId}`, ticketId, body: action.body });
        return { outcome: r.created ? 'changed' : 'unchanged' };
      });
      return fanOutResult(results);
    }
    case 'zendesk.public_reply': {
      const zendesk = integrations.zendesk!;
      const results = await eachTicket(ticketIds(req.tickets), fanOut, async (ticketId) => {
        const r = await zendesk.publicReply({ idempotencyKey: `${idempotencyKey}/${ticketId}`, ticketId, body: action.body });
        return { outcome: r.created ? 'changed' : 'unchanged' };
      });
      return fanOutResult(results);
    }
    case 'zendesk.set_priority': {
      const zendesk = integrations.zendesk!;
      const results = await eachTicket(ticketIds(req.tickets), fanOut, async (ticketId) => {
        const r = await zendesk.setPriority({ ticketId, priority: action.priority });
        return { outcome: r.previous === action.priority ? 'unchanged' : 'changed', previousPriority: r.previous };
      });
      // Kept for playbooks that quote it; compensation restores each ticket's own priority instead.
      return fanOutResult(results, { previousPriority: mostCommon(results.map((r) => r.previousPriority ?? 'normal')) });
    }
  }
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'normal';
}

/**
 * Undoes one step. Ticket actions are undone per ticket from the forward action's own results:
 * only the tags it added are removed, each ticket gets back its own previous priority, and
 * tickets it skipped or left unchanged are not touched.
 */
export async function runCompensation(integrations: TIntegrations, req: TCompensationRequest, heartbeat?: (done: number) => void): Promise<void> {
  const c = req.compensation;
  const sys = system(c.type);
  if (req.dryRun || !integrations[sys]) return;
  const changed = (req.ticketResults ?? req.tickets.map((id) => ({ id, outcome: 'changed' as const }))).filter((t) => t.outcome === 'changed');
  let done = 0;
  const each = async (fn: (t: TTicketResult, ticketId: number) => Promise<void>) => {
    for (const t of changed) {
      const ticketId = Number(t.id);
      if (!Number.isSafeInteger(ticketId) || ticketId <= 0) continue;
      try {
        await fn(t, ticketId);
      } catch (e) {
        if (!ticketGone(e)) throw e;
      }
      heartbeat?.(++done);
    }
  };
  switch (c.type) {
    case 'jira.transition':
      await integrations.jira!.transition({ issueKey: c.issueKey, status: c.transition, comment: `Loopwright compensation: a later step of ${req.workflowId} failed, so ${req.compensates} was undone.` });
      return;
    case 'slack.delete_message':
      await integrations.slack!.deleteMessage({ channel: c.channel, ts: c.ts });
      return;
    case 'zendesk.remove_tags':
      await each(async (t, ticketId) => {
        const tags = req.ticketResults ? (t.addedTags ?? []) : c.tags;
        if (tags.length > 0) await integrations.zendesk!.removeTags({ ticketId, tags });
      });
      return;
    case 'zendesk.set_priority':
      await each(async (t, ticketId) => {
        const priority = (req.ticketResults ? (t.previousPriority ?? 'normal') : c.priority) as 'low' | 'normal' | 'high' | 'urgent';
        if (!['low', 'normal', 'high', 'urgent'].includes(priority)) throw new LoopwrightError('invalid_input', `cannot restore priority "${priority}"`, { retryable: false });
        await integrations.zendesk!.setPriority({ ticketId, priority });
      });
      return;
  }
}

function dryRunOutputs(type: string, sys: string): Record<string, string> {
  const note = `(dry run: ${sys} not configured)`;
  switch (type) {
    case 'jira.create_issue':
      return { issueKey: note, issueUrl: note };
    case 'jira.comment':
      return { commentId: note };
    case 'jira.transition':
      return { previousStatus: note, status: note };
    case 'slack.post_message':
      return { channel: note, ts: note, permalink: note };
    case 'zendesk.set_priority':
      return { ticketCount: '0', previousPriority: 'normal' };
    default:
      return { ticketCount: '0' };
  }
}
