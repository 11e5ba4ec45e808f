// Plain text → Atlassian Document Format, the rich-text shape Jira REST API v3 requires for
// descriptions and comments (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
// Deliberately minimal: blank lines separate paragraphs, single newlines become hard breaks, and
// no markup is interpreted, so customer-derived text can never become links or mentions. Pure.

export interface TAdfDoc {
  type: 'doc';
  version: 1;
  content: Array<{ type: 'paragraph'; content: Array<{ type: 'text'; text: string } | { type: 'hardBreak' }> }>;
}

export function toAdf(text: string): TAdfDoc {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((p) => ({
      type: 'paragraph',
      content: p.split('\n').flatMap((line, i) => {
        const nodes: Array<{ type: 'text'; text: string } | { type: 'hardBreak' }> = i > 0 ? [{ type: 'hardBreak' }] : [];
        // ADF rejects empty text nodes.
        if (line !== '') nodes.push({ type: 'text', text: line });
        return nodes;
      }),
    })),
  };
}
