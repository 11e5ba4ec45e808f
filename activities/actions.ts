// Playbook actions and their compensations, mapped onto the Jira, Slack and Zendesk ports.
// Each call carries the workflow's idempotency key so a retried activity or a restarted worker
// finds the earlier result instead of creating a second ticket, message or reply. An integration
// that is not configured cannot act: its steps are recorded as dry runs, never as successes.
import type { JiraPort } from './adapters/jira/jira-adapter.js';
import type { SlackPort } from './adapters/slack/slack-adapter.js';
import type { ZendeskPort } from './adapters/zendesk/zendesk-adapter.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import type { TActionRequest, TActionResult, TCompensationRequest } from '../workflows/activity-types.js';

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

/** Slack's documented permalink shape: /archives/<channel>/p<ts without the dot>. */
function slackPermalink(channel: string, ts: string): string {
  return `https://slack.com/archives/${encodeURIComponent(channel)}/p${ts.replace('.', '')}`;
}

export async function runPlaybookAction(integrations: TIntegrations, req: TActionRequest): Promise<TActionResult> {
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
        labels: action.labels,
        ...(action.priority ? { priority: action.priority } : {}),
      });
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
      const ids = ticketIds(req.tickets);
      let changed = 0;
      for (const ticketId of ids) if ((await integrations.zendesk!.addTags({ ticketId, tags: action.tags })).added.length > 0) changed++;
      return { outputs: { ticketCount: String(ids.length) }, externalRef: `${ids.length} tickets`, created: changed > 0, dryRun: false };
    }
    case 'zendesk.internal_note': {
      const ids = ticketIds(req.tickets);
      let created = 0;
      for (const ticketId of ids) if ((await integrations.zendesk!.addInternalNote({ idempotencyKey: `${idempotencyKey}/${ticketId}`, ticketId, body: action.body })).created) created++;
      return { outputs: { ticketCount: String(ids.length) }, externalRef: `${ids.length} tickets`, created: created > 0, dryRun: false };
    }
    case 'zendesk.public_reply': {
      const ids = ticketIds(req.tickets);
      let created = 0;
      for (const ticketId of ids) if ((await integrations.zendesk!.publicReply({ idempotencyKey: `${idempotencyKey}/${ticketId}`, ticketId, template: action.body })).created) created++;
      return { outputs: { ticketCount: String(ids.length) }, externalRef: `${ids.length} tickets`, created: created > 0, dryRun: false };
    }
    case 'zendesk.set_priority': {
      const ids = ticketIds(req.tickets);
      const previous = new Map<string, number>();
      for (const ticketId of ids) {
        const r = await integrations.zendesk!.setPriority({ ticketId, priority: action.priority });
        const p = r.previous ?? 'normal';
        previous.set(p, (previous.get(p) ?? 0) + 1);
      }
      // One restore value for all tickets: the most common previous priority.
      const previousPriority = [...previous.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'normal';
      return { outputs: { ticketCount: String(ids.length), previousPriority }, externalRef: `${ids.length} tickets`, created: true, dryRun: false };
    }
  }
}

export async function runCompensation(integrations: TIntegrations, req: TCompensationRequest): Promise<void> {
  const c = req.compensation;
  const sys = system(c.type);
  if (req.dryRun || !integrations[sys]) return;
  switch (c.type) {
    case 'jira.transition':
      await integrations.jira!.transition({ issueKey: c.issueKey, status: c.transition, comment: `Loopwright compensation: a later step of ${req.workflowId} failed, so ${req.compensates} was undone.` });
      return;
    case 'slack.delete_message':
      await integrations.slack!.deleteMessage({ channel: c.channel, ts: c.ts });
      return;
    case 'zendesk.remove_tags':
      for (const ticketId of ticketIds(req.tickets)) await integrations.zendesk!.removeTags({ ticketId, tags: c.tags });
      return;
    case 'zendesk.set_priority': {
      const priority = c.priority as 'low' | 'normal' | 'high' | 'urgent';
      if (!['low', 'normal', 'high', 'urgent'].includes(priority)) throw new LoopwrightError('invalid_input', `cannot restore priority "${c.priority}"`, { retryable: false });
      for (const ticketId of ticketIds(req.tickets)) await integrations.zendesk!.setPriority({ ticketId, priority });
      return;
    }
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
