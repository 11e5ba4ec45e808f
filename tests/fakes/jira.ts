// A fake Jira REST API (v2 and v3 paths) that jira-client@8 talks to unmodified.
// The paths are the ones jira-client issues (checked in node_modules/jira-client/lib/jira.js):
// POST /rest/api/{v}/issue, GET /issue/{key}, GET|POST /issue/{key}/transitions,
// GET|POST /issue/{key}/comment, POST /issueLink, POST /search. Documentation followed:
//   Issues (create with fields + properties, get):   https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
//   Transitions (list, do with update.comment):      same page, "Get transitions" / "Transition issue"
//   Comments (body, properties, expand=properties):  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/
//   Issue links:                                     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-links/
//   Search: Cloud POST /search/jql (enhanced search; the old POST /search answers 410 Gone),
//     Data Center POST /search:                      https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
//                                                    https://developer.atlassian.com/changelog/#CHANGE-2046
//   Atlassian Document Format (v3 rich text):        https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
//   Basic auth with API tokens:                      https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
//   Rate limiting (429 + Retry-After):               https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
// Errors use Jira's `{ errorMessages: [], errors: { field: message } }` envelope. v2 takes rich text as
// wiki-markup strings, v3 requires ADF documents: the fake rejects the wrong one with a 400, as Jira does.
// JQL support is the subset the adapter uses (AND of `field = "value"` clauses); anything else is a
// 400 "Error in the JQL Query", so an adapter change that needs more JQL fails loudly here.
// Test-only: product code must never import this file.
import { startHttpFake, type FakeReply, type FakeServer, type RecordedRequest } from './http-fake.js';

export interface FakeJiraComment {
  id: string;
  body: unknown;
  properties: Array<{ key: string; value: unknown }>;
}

export interface FakeJiraIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  description: unknown;
  labels: string[];
  priority: string | null;
  components: string[];
  status: string;
  properties: Record<string, unknown>;
  comments: FakeJiraComment[];
  links: Array<{ id: string; type: string; inward?: string; outward?: string }>;
}

export interface FakeJiraState {
  auth: { user: string; token: string };
  projects: Map<string, { id: string; issueTypes: string[]; components: string[] }>;
  priorities: string[];
  statuses: string[];
  linkTypes: string[];
  issues: Map<string, FakeJiraIssue>;
  nextId: number;
}

export interface FakeJira extends FakeServer {
  state: FakeJiraState;
  issue(key: string): FakeJiraIssue;
}

const jiraErr = (status: number, errorMessages: string[], errors: Record<string, string> = {}): FakeReply => ({ status, body: { errorMessages, errors } });
const NOT_FOUND = jiraErr(404, ['Issue does not exist or you do not have permission to see it.']);

function isAdf(v: unknown): boolean {
  return adfProblem(v) === undefined;
}

// The ADF content model as documented (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
// and the node pages under .../document/nodes/): which children each node takes, required attrs,
// non-empty text, allowed marks. The subset Jira's editor shows in issue descriptions and comments.
type TAdfRule = { children: ReadonlySet<string> | 'inline' | 'none'; min?: number; first?: ReadonlySet<string>; attrs?: (a: Record<string, unknown>) => string | undefined };
const BLOCKS = new Set(['paragraph', 'heading', 'bulletList', 'orderedList', 'blockquote', 'codeBlock', 'rule', 'panel', 'table']);
const ADF_RULES: Record<string, TAdfRule> = {
  doc: { children: BLOCKS },
  paragraph: { children: 'inline' },
  heading: { children: 'inline', attrs: (a) => (Number.isInteger(a.level) && (a.level as number) >= 1 && (a.level as number) <= 6 ? undefined : 'heading needs attrs.level 1-6') },
  bulletList: { children: new Set(['listItem']), min: 1 },
  orderedList: { children: new Set(['listItem']), min: 1 },
  listItem: { children: new Set(['paragraph', 'bulletList', 'orderedList', 'codeBlock']), min: 1, first: new Set(['paragraph', 'codeBlock']) },
  blockquote: { children: new Set(['paragraph', 'bulletList', 'orderedList', 'codeBlock']), min: 1 },
  codeBlock: { children: 'inline' },
  rule: { children: 'none' },
  panel: { children: new Set(['paragraph', 'heading', 'bulletList', 'orderedList']), min: 1, attrs: (a) => (['info', 'note', 'warning', 'success', 'error'].includes(String(a.panelType)) ? undefined : 'panel needs attrs.panelType') },
  table: { children: new Set(['tableRow']), min: 1 },
  tableRow: { children: new Set(['tableHeader', 'tableCell']), min: 1 },
  tableHeader: { children: new Set(['paragraph', 'heading', 'bulletList', 'orderedList', 'codeBlock', 'panel', 'rule']), min: 1 },
  tableCell: { children: new Set(['paragraph', 'heading', 'bulletList', 'orderedList', 'codeBlock', 'panel', 'rule']), min: 1 },
};
const MARKS = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link', 'subsup', 'textColor']);

function inlineProblem(n: Record<string, unknown>, at: string): string | undefined {
  if (n.type === 'hardBreak') return undefined;
  if (n.type === 'mention' || n.type === 'emoji' || n.type === 'inlineCard') return typeof n.attrs === 'object' && n.attrs !== null ? undefined : `${at}: ${String(n.type)} needs attrs`;
  if (n.type !== 'text') return `${at}: ${String(n.type)} is not an inline node`;
  if (typeof n.text !== 'string' || n.text === '') return `${at}: text nodes need non-empty text`;
  if (n.marks === undefined) return undefined;
  if (!Array.isArray(n.marks)) return `${at}: marks must be an array`;
  for (const m of n.marks as Array<Record<string, unknown>>) {
    if (!MARKS.has(String(m?.type))) return `${at}: unknown mark ${String(m?.type)}`;
    if (m.type === 'link' && typeof (m.attrs as { href?: unknown } | undefined)?.href !== 'string') return `${at}: link marks need attrs.href`;
  }
  return undefined;
}

/** The first way `v` breaks the ADF content model, or undefined for a valid document. */
export function adfProblem(v: unknown, at = 'doc', parent?: string): string | undefined {
  if (typeof v !== 'object' || v === null) return `${at}: not a node`;
  const n = v as Record<string, unknown>;
  if (parent === undefined && (n.type !== 'doc' || n.version !== 1)) return 'root must be { type: "doc", version: 1 }';
  const rule = ADF_RULES[String(n.type)];
  if (!rule) return `${at}: unknown node type ${String(n.type)}`;
  if (rule.attrs) {
    const problem = rule.attrs((n.attrs ?? {}) as Record<string, unknown>);
    if (problem) return `${at}: ${problem}`;
  }
  if (rule.children === 'none') return n.content === undefined ? undefined : `${at}: ${String(n.type)} takes no content`;
  const content = n.content ?? [];
  if (!Array.isArray(content)) return `${at}: content must be an array`;
  if (content.length < (rule.min ?? 0)) return `${at}: ${String(n.type)} needs at least ${rule.min} child node(s)`;
  for (const [i, child] of content.entries()) {
    const here = `${at}.content[${i}]`;
    if (rule.children === 'inline') {
      const problem = typeof child === 'object' && child !== null ? inlineProblem(child as Record<string, unknown>, here) : `${here}: not a node`;
      if (problem) return problem;
      if (n.type === 'codeBlock' && (child as { marks?: unknown }).marks !== undefined) return `${here}: code blocks take unmarked text`;
      continue;
    }
    const type = String((child as { type?: unknown } | null)?.type);
    const allowed = i === 0 && rule.first ? rule.first : rule.children;
    if (!allowed.has(type)) return `${here}: ${type} is not allowed in ${String(n.type)}`;
    const problem = adfProblem(child, here, String(n.type));
    if (problem) return problem;
  }
  return undefined;
}

/** Parses `a = "x" AND b = y ORDER BY ...` into clauses; undefined when outside the subset. */
function parseJql(jql: string): Array<{ field: string; value: string }> | undefined {
  const where = jql.replace(/\s+ORDER\s+BY\s+.*$/i, '').trim();
  if (where === '') return [];
  const clauses: Array<{ field: string; value: string }> = [];
  for (const part of where.split(/\s+AND\s+/i)) {
    const m = /^\s*([A-Za-z][\w.]*(?:\[[\w.-]+\][\w.]*)?)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([\w.-]+))\s*$/.exec(part);
    if (!m?.[1]) return undefined;
    clauses.push({ field: m[1], value: (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1') });
  }
  return clauses;
}

function propertyAt(issue: FakeJiraIssue, field: string): unknown {
  const m = /^issue\.property\[([\w.-]+)\]\.?([\w.]*)$/.exec(field);
  if (!m?.[1]) return undefined;
  let v: unknown = issue.properties[m[1]];
  for (const seg of (m[2] ?? '').split('.').filter(Boolean)) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

export async function startFakeJira(opts: { apiVersion?: '2' | '3'; deployment?: 'cloud' | 'datacenter' } = {}): Promise<FakeJira> {
  const version = opts.apiVersion ?? '2';
  const deployment = opts.deployment ?? 'cloud';
  const state: FakeJiraState = {
    auth: { user: 'bot@example.test', token: 'jira-api-token' },
    projects: new Map([
      ['PAY', { id: '10000', issueTypes: ['Bug', 'Task', 'Story'], components: ['Checkout', 'Billing'] }],
      ['APP', { id: '10001', issueTypes: ['Bug', 'Task'], components: ['iOS', 'Android'] }],
    ]),
    priorities: ['Highest', 'High', 'Medium', 'Low', 'Lowest'],
    statuses: ['To Do', 'In Progress', 'Done', "Won't Do"],
    linkTypes: ['Relates', 'Blocks', 'Duplicate'],
    issues: new Map(),
    nextId: 10100,
  };
  // `self` links need the server's own URL, known only once it listens.
  const origin = { url: '' };
  const self = (path: string): string => `${origin.url}/rest/api/${version}${path}`;

  const issueJson = (i: FakeJiraIssue, withProperties: boolean): Record<string, unknown> => ({
    id: i.id,
    key: i.key,
    self: self(`/issue/${i.id}`),
    fields: {
      summary: i.summary,
      description: i.description,
      issuetype: { name: i.issueType },
      project: { key: i.project, id: state.projects.get(i.project)?.id },
      labels: i.labels,
      priority: i.priority ? { name: i.priority } : null,
      components: i.components.map((name) => ({ name })),
      status: { name: i.status, id: String(state.statuses.indexOf(i.status) + 1) },
      issuelinks: i.links.map((l) => ({
        id: l.id,
        type: { name: l.type },
        ...(l.inward ? { inwardIssue: { key: l.inward } } : {}),
        ...(l.outward ? { outwardIssue: { key: l.outward } } : {}),
      })),
    },
    ...(withProperties ? { properties: i.properties } : {}),
  });

  const richTextError = (field: string, v: unknown): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (version === '3' && !isAdf(v)) return `Operation value must be an Atlassian Document (field ${field}): ${adfProblem(v)}.`;
    if (version === '2' && typeof v !== 'string') return `Operation value must be a string (field ${field}).`;
    return undefined;
  };

  const createIssue = (body: Record<string, unknown>): FakeReply => {
    const f = (body.fields ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = {};
    const projectKey = (f.project as { key?: string } | undefined)?.key ?? '';
    const project = state.projects.get(projectKey);
    if (!project) errors.project = 'valid project is required';
    const issueType = (f.issuetype as { name?: string } | undefined)?.name ?? '';
    if (project && !project.issueTypes.includes(issueType)) errors.issuetype = 'valid issue type is required';
    if (typeof f.summary !== 'string' || f.summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (f.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    const descErr = richTextError('description', f.description);
    if (descErr) errors.description = descErr;
    const labels = (f.labels ?? []) as unknown[];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || /\s/.test(l) || l.length > 255)) errors.labels = 'The label must not contain spaces.';
    const priority = (f.priority as { name?: string } | undefined)?.name;
    if (priority !== undefined && !state.priorities.includes(priority)) errors.priority = `The priority selected is invalid.`;
    const components = ((f.components ?? []) as Array<{ name?: string }>).map((c) => c.name ?? '');
    const unknown = components.filter((c) => !project?.components.includes(c));
    if (unknown.length) errors.components = `Component name '${unknown[0]}' is not valid`;
    if (Object.keys(errors).length) return jiraErr(400, [], errors);

    const id = String(state.nextId++);
    const key = `${projectKey}-${[...state.issues.values()].filter((i) => i.project === projectKey).length + 1}`;
    const props = Array.isArray(body.properties) ? (body.properties as Array<{ key: string; value: unknown }>) : [];
    state.issues.set(key, {
      id,
      key,
      project: projectKey,
      issueType,
      summary: f.summary as string,
      description: f.description ?? null,
      labels: labels as string[],
      priority: priority ?? 'Medium',
      components,
      status: 'To Do',
      properties: Object.fromEntries(props.map((p) => [p.key, p.value])),
      comments: [],
      links: [],
    });
    return { status: 201, body: { id, key, self: self(`/issue/${id}`) } };
  };

  const find = (keyOrId: string): FakeJiraIssue | undefined => state.issues.get(keyOrId) ?? [...state.issues.values()].find((i) => i.id === keyOrId);

  const handle = (req: RecordedRequest): FakeReply => {
    const expected = `Basic ${Buffer.from(`${state.auth.user}:${state.auth.token}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return { status: 401, body: 'Client must be authenticated to access this resource.' };
    const prefix = `/rest/api/${version}`;
    if (!req.path.startsWith(prefix)) return jiraErr(404, ['null for uri: ' + req.path]);
    const path = req.path.slice(prefix.length);
    const body = (req.body ?? {}) as Record<string, unknown>;

    if (req.method === 'POST' && path === '/issue') return createIssue(body);
    if (req.method === 'POST' && path === '/search' && deployment === 'cloud') {
      return jiraErr(410, ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.']);
    }
    if (req.method === 'POST' && path === '/search/jql' && deployment === 'datacenter') return jiraErr(404, ['null for uri: ' + req.path]);
    if (req.method === 'POST' && (path === '/search' || path === '/search/jql')) {
      const jql = typeof body.jql === 'string' ? body.jql : '';
      const clauses = parseJql(jql);
      if (!clauses) return jiraErr(400, [`Error in the JQL Query: unsupported query '${jql}'.`]);
      if (path === '/search/jql' && clauses.length === 0) return jiraErr(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
      const hits = [...state.issues.values()].filter((i) =>
        clauses.every((c) => {
          if (c.field === 'project') return i.project === c.value;
          if (c.field === 'labels') return i.labels.includes(c.value);
          if (c.field === 'key') return i.key === c.value;
          if (c.field === 'status') return i.status === c.value;
          if (c.field.startsWith('issue.property[')) return String(propertyAt(i, c.field)) === c.value;
          return false;
        }),
      );
      const bad = clauses.find((c) => !['project', 'labels', 'key', 'status'].includes(c.field) && !c.field.startsWith('issue.property['));
      if (bad) return jiraErr(400, [`Field '${bad.field}' does not exist or you do not have permission to view it.`]);
      const max = typeof body.maxResults === 'number' ? body.maxResults : 50;
      const issues = hits.slice(0, max).map((i) => issueJson(i, false));
      // Enhanced search pages with tokens and has no total; the legacy endpoint has startAt/total.
      return path === '/search/jql'
        ? { status: 200, body: { issues, isLast: hits.length <= max, ...(hits.length > max ? { nextPageToken: 'page-2' } : {}) } }
        : { status: 200, body: { startAt: 0, maxResults: max, total: hits.length, issues } };
    }
    if (req.method === 'POST' && path === '/issueLink') {
      const type = (body.type as { name?: string } | undefined)?.name ?? '';
      if (!state.linkTypes.includes(type)) return jiraErr(404, [`No issue link type with name '${type}' found.`]);
      const inward = find((body.inwardIssue as { key?: string } | undefined)?.key ?? '');
      const outward = find((body.outwardIssue as { key?: string } | undefined)?.key ?? '');
      if (!inward || !outward) return NOT_FOUND;
      const id = String(state.nextId++);
      inward.links.push({ id, type, outward: outward.key });
      outward.links.push({ id, type, inward: inward.key });
      return { status: 201 };
    }

    const m = /^\/issue\/([^/]+)(\/transitions|\/comment)?$/.exec(path);
    const issue = m?.[1] ? find(m[1]) : undefined;
    if (!m) return jiraErr(404, ['null for uri: ' + req.path]);
    if (!issue) return NOT_FOUND;

    if (m[2] === undefined && req.method === 'GET') {
      const props = req.query.get('properties');
      return { status: 200, body: issueJson(issue, props !== null && props !== '') };
    }
    if (m[2] === '/transitions' && req.method === 'GET') {
      // A simple workflow: every status is reachable from every other, transition named after its target.
      const transitions = state.statuses
        .filter((s) => s !== issue.status)
        .map((s) => ({ id: String(state.statuses.indexOf(s) + 11), name: s === "Won't Do" ? 'Close as won\u2019t do' : s, to: { id: String(state.statuses.indexOf(s) + 1), name: s } }));
      return { status: 200, body: { expand: 'transitions', transitions } };
    }
    if (m[2] === '/transitions' && req.method === 'POST') {
      const tid = (body.transition as { id?: string } | undefined)?.id ?? '';
      const target = state.statuses[Number(tid) - 11];
      if (!target || target === issue.status) return jiraErr(400, [`Transition id '${tid}' is not valid for this issue.`]);
      const adds = ((body.update as { comment?: Array<{ add?: { body?: unknown } }> } | undefined)?.comment ?? []).map((c) => c.add?.body);
      for (const b of adds) {
        const e = richTextError('comment', b);
        if (e) return jiraErr(400, [], { comment: e });
      }
      issue.status = target;
      for (const b of adds) issue.comments.push({ id: String(state.nextId++), body: b, properties: [] });
      return { status: 204 };
    }
    if (m[2] === '/comment' && req.method === 'POST') {
      if (body.body === undefined || body.body === '') return jiraErr(400, [], { comment: 'Comment body can not be empty!' });
      const e = richTextError('comment', body.body);
      if (e) return jiraErr(400, [], { comment: e });
      const c: FakeJiraComment = { id: String(state.nextId++), body: body.body, properties: Array.isArray(body.properties) ? (body.properties as FakeJiraComment['properties']) : [] };
      issue.comments.push(c);
      return { status: 201, body: { id: c.id, body: c.body, self: self(`/issue/${issue.id}/comment/${c.id}`) } };
    }
    if (m[2] === '/comment' && req.method === 'GET') {
      const withProps = (req.query.get('expand') ?? '').split(',').includes('properties');
      const comments = issue.comments.map((c) => ({ id: c.id, body: c.body, ...(withProps ? { properties: c.properties } : {}) }));
      return { status: 200, body: { startAt: 0, maxResults: 5000, total: comments.length, comments } };
    }
    return jiraErr(405, ['Method not allowed']);
  };

  const server = await startHttpFake(handle, (status) => (status === 429 ? { errorMessages: ['Rate limit exceeded.'], errors: {} } : { errorMessages: [`HTTP ${status}`], errors: {} }));
  origin.url = server.url;
  return {
    ...server,
    state,
    issue(key) {
      const i = state.issues.get(key);
      if (!i) throw new Error(`fake jira has no issue ${key}`);
      return i;
    },
  };
}
