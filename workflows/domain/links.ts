// Links people follow between surfaces, built the same way wherever they are shown: a Slack
// message's permalink and an issue's page in Loopwright's HTTP console. Pure: workflow-safe.

/** Slack's documented permalink shape: /archives/<channel>/p<ts without the dot>. */
export function slackPermalink(channel: string, ts: string): string {
  return `https://slack.com/archives/${encodeURIComponent(channel)}/p${ts.replace('.', '')}`;
}

/** An issue in the HTTP console (GET /v1/issues/:workflowId) under Loopwright's public base URL. */
export function consoleIssueUrl(publicUrl: string, workflowId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/issues/${encodeURIComponent(workflowId)}`;
}
