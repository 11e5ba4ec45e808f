// The IssueWorkflow's "Current Details" in the Temporal UI (setCurrentDetails, Temporal markdown):
// the issue's human title (theme in words + masked excerpt) with its id, the state in one line
// (Jira linked), whom or what the workflow is waiting on right now, and links back: the issue in
// Loopwright's HTTP console (when LOOPWRIGHT_PUBLIC_URL reached the workflow's input) and the Slack
// thread of a pending approval. Waiting on:
// the approvers by name (those who have not decided yet) and their channel, an integration that
// is down with its next retry, or the end of the verification window. Pure: no I/O, no commands.
import { consoleIssueUrl, slackPermalink } from '../domain/links.js';
import { countFromCustomers } from '../domain/plural.js';
import type { TIssueState } from '../messages.js';
import type { TRoundState } from './round-state.js';
import type { TCarriedIssueState } from './state.js';

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Whom (or what) the issue waits on, as one line; null when it only watches for reports. */
export function waitingOn(s: TCarriedIssueState, round: TRoundState | null, now: number): string | null {
  if (s.closeRequest) return `Closing (requested by ${s.closeRequest.by.name})`;
  const current = round?.current;
  const approval = current?.approval;
  if (approval && approval.state.outcome === 'pending') {
    const groups = approval.verdict.approverGroup
      ? [approval.verdict.approverGroup, ...approval.verdict.escalationChain].slice(0, approval.level + 1)
      : [];
    const group = groups.at(-1) ?? 'none';
    const policy = round?.policy?.policy;
    const decided = new Set(approval.decidedBy.map((a) => a.id));
    const people = groups
      .flatMap((g) => policy?.approverGroups[g]?.members ?? [])
      .filter(
        (m, i, all) => !decided.has(m.slackUserId) && all.findIndex((x) => x.slackUserId === m.slackUserId) === i,
      );
    const channel = policy?.approverGroups[group]?.channel;
    const given = approval.state.approvals.length;
    return (
      `Waiting on **${group}** (${people.map((p) => p.name).join(', ') || 'no eligible member'}${channel ? ` in ${channel}` : ''}) to approve **${approval.stepId}** (${approval.actionType}): ` +
      `${given} of ${approval.verdict.approvalsRequired} approval(s), deadline ${iso(approval.deadline)}` +
      (approval.posted
        ? ''
        : ` · Slack not reached (${approval.postFailures} failure(s)); the request is open for the API and CLI${approval.retryPostAt ? `, posting again at ${iso(approval.retryPostAt)}` : ''}`)
    );
  }
  if (current?.retryAt && current.retryAt > now) {
    const system = current.action.type.split('.')[0]!;
    return `Waiting on **${system[0]!.toUpperCase()}${system.slice(1)}** for **${current.stepId}** (${current.action.type}): failing since ${iso(current.firstFailureAt ?? now)}, ${current.attempts} retry(ies), next at ${iso(current.retryAt)}`;
  }
  if (round?.phase === 'verify' && round.verify)
    return `Verifying the fix until ${iso(round.verify.until)} (reports since the fix are counted against those before)`;
  if (round) return `Running round ${round.n} of playbook ${round.playbook.version} (${round.phase})`;
  if (s.snoozedUntil !== null && s.snoozedUntil > now) return `Snoozed until ${iso(s.snoozedUntil)}`;
  return null;
}

/** Where the details link back to: the issue in the HTTP console, and the Slack thread of a pending approval. */
export function linksBack(
  back: { workflowId: string; publicUrl?: string },
  round: TRoundState | null,
): { console: string | null; slack: string | null } {
  const safe = (url: string) => /^https?:\/\/[^\s()<>]+$/.test(url);
  const issuePage = back.publicUrl ? consoleIssueUrl(back.publicUrl, back.workflowId) : null;
  const approval = round?.current?.approval;
  const message = approval && approval.state.outcome === 'pending' ? approval.messages.at(-1) : undefined;
  return {
    console: issuePage && safe(issuePage) ? `[Open in Loopwright](${issuePage})` : null,
    slack: message ? `[Slack approval thread](${slackPermalink(message.channel, message.ts)})` : null,
  };
}

/** A markdown hard line break. */
export const LINE_BREAK = '  \n';

/**
 * The round the details describe: a severity page's round while it runs (it is the one asking
 * people, like the approval desk's), else the issue's round.
 */
export function roundShown(s: Pick<TCarriedIssueState, 'round' | 'pageRound'>): TRoundState | null {
  return s.pageRound ?? s.round;
}

export function currentDetails(
  v: TIssueState,
  s: TCarriedIssueState,
  round: TRoundState | null,
  now: number,
  back?: { workflowId: string; publicUrl?: string },
): string {
  // The title carries a (masked) customer excerpt: markdown and HTML characters are neutralised.
  const title = `**${v.title.replace(/[\r\n#*_[\]`<>|\\]/g, ' ')}** · issue ${v.fingerprint}`;
  const jira = v.jiraKey
    ? v.jiraUrl && /^https?:\/\/[^\s()]+$/.test(v.jiraUrl)
      ? `[${v.jiraKey}](${v.jiraUrl})`
      : v.jiraKey
    : null;
  const line =
    `**${v.status}** · ${v.category} · max severity ${v.maxSeverity} · ${countFromCustomers(v.occurrences, 'report', v.customers)}` +
    (jira ? ` · Jira ${jira}` : '') +
    (s.hypotheses[0] ? ` · likely cause: ${s.hypotheses[0].title}` : '');
  const waiting = waitingOn(s, round, now);
  // The links ride on the lines they belong to: the frame the UI shows the details in is about
  // five lines high, and a line of links of their own was cut off.
  const links = back ? linksBack(back, round) : { console: null, slack: null };
  // One line each, as hard line breaks (two trailing spaces): the UI renders markdown, where a
  // plain newline does not break a line, in a frame of fixed height that cuts paragraphs' margins.
  return [
    links.console ? `${title} · ${links.console}` : title,
    line,
    ...(waiting ? [links.slack ? `${waiting} · ${links.slack}` : waiting] : []),
  ].join(LINE_BREAK);
}
