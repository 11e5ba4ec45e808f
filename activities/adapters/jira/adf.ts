// Plain text → Jira rich text: Atlassian Document Format for REST API v3
// (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/), escaped wiki
// markup for v2. Blank lines separate paragraphs, single newlines become line breaks, and no
// markup is interpreted, so customer-derived text can never become links or mentions. Pure; the
// structured issue description lives in description.ts, which this delegates to.
import { textBlocks, toAdfDocument, toWikiMarkup, type TAdfDoc } from './description.js';

export type { TAdfDoc } from './description.js';

export function toAdf(text: string): TAdfDoc {
  return toAdfDocument(textBlocks(text));
}

export function toWiki(text: string): string {
  return toWikiMarkup(textBlocks(text));
}
