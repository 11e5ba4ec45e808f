// The Jira port and its adapter over jira-client@8: create (idempotent), comment (idempotent),
// transition by status name, link, find by label or entity property, and the compensation
// (transition to a configured "won't do" status with a comment). Owns request shapes, rich-text
// format per API version (v2 wiki-markup strings, v3 Atlassian Document Format) and error mapping;
// it does not choose projects or priorities (playbooks do) and never logs credentials.
//
// Idempotency:
//   createIssue  the issue gets label `lw-<digest(key)>` and entity property `loopwright` =
//                { idempotencyKey }; before creating, JQL `labels = "lw-<digest>"` finds an earlier one.
//                Labels are searchable by plain REST clients; entity properties are only JQL-searchable
//                when an app declares an index for them, so the label is the lookup and the property
//                the audit trail. Jira's search index can lag a create by seconds; Temporal runs one
//                attempt of an activity at a time, so that window only matters for a crash between
//                create and index, which the label check closes on the next attempt after indexing.
//   comment      comment property `loopwright` = { idempotencyKey }, checked via expand=properties.
//   transition   a no-op when the issue already has the target status.
//   link         a no-op when the same link already exists.
import { createRequire } from 'node:module';
import JiraApiModule from 'jira-client';
import { z } from 'zod';
import { LoopwrightError, formatIssues } from '../../../workflows/domain/errors.js';
import { errorFromHttpStatus, malformedResponse, networkError, unexpectedError, withRetries, type RetryOptions } from '../http-errors.js';
import { idempotencyMarker } from '../idempotency.js';
import { toAdf, toWiki } from './adf.js';
import { toAdfDocument, toWikiMarkup, ZDocBlock } from './description.js';

// jira-client is compiled CommonJS with `exports.default`; tsx/vitest unwrap it, plain Node ESM does not.
const JiraApi = (JiraApiModule as unknown as { default?: typeof JiraApiModule }).default ?? JiraApiModule;
type JiraClient = InstanceType<typeof JiraApiModule>;

export const LOOPWRIGHT_PROPERTY = 'loopwright';

export const ZJiraConfig = z.strictObject({
  /** e.g. https://acme.atlassian.net or https://jira.internal:8443/jira */
  baseUrl: z.url(),
  /** Cloud: account email + API token. Data Center: username + password/PAT. */
  username: z.string().min(1).optional(),
  apiToken: z.string().min(1).optional(),
  /** '2' (wiki-markup strings, Cloud and Data Center) or '3' (ADF, Cloud only). */
  apiVersion: z.enum(['2', '3']).default('2'),
  /**
   * Jira Cloud removed POST /search (410 Gone) in favour of POST /search/jql; Data Center only has
   * /search. jira-client@8 only knows the old one, so the adapter picks the endpoint from this.
   */
  deployment: z.enum(['cloud', 'datacenter']).default('cloud'),
  /** Status an issue is moved to when its creation is compensated. */
  wontDoStatus: z.string().min(1).default("Won't Do"),
  timeoutMs: z.number().int().positive().default(15_000),
  /** In-process attempts for retryable failures; 1 leaves retrying to the activity's retry policy. */
  maxAttempts: z.number().int().min(1).max(10).default(1),
});
export type TJiraConfig = z.input<typeof ZJiraConfig>;

const ZIssueKey = z.string().regex(/^[A-Z][A-Z0-9_]+-\d+$/, 'issue keys look like PROJ-123');
const ZLabel = z.string().regex(/^\S{1,255}$/, 'labels have no spaces and at most 255 characters');
const ZIdempotencyKey = z.string().min(1).max(500);

export const ZCreateIssueInput = z.strictObject({
  idempotencyKey: ZIdempotencyKey,
  project: z.string().regex(/^[A-Z][A-Z0-9_]+$/, 'project is a Jira project key such as PAY'),
  issueType: z.string().min(1),
  summary: z.string().min(1).max(255),
  /** Plain text; paragraphs separated by blank lines. ADF on API v3, escaped wiki markup on v2. */
  description: z.string().max(30_000).default(''),
  /** A structured description (description.ts); when present it replaces `description`. */
  document: z.array(ZDocBlock).max(200).optional(),
  labels: z.array(ZLabel).max(20).default([]),
  priority: z.string().min(1).optional(),
  components: z.array(z.string().min(1)).max(10).default([]),
});
export type TCreateIssueInput = z.input<typeof ZCreateIssueInput>;

export const ZCommentInput = z.strictObject({ idempotencyKey: ZIdempotencyKey, issueKey: ZIssueKey, body: z.string().min(1).max(30_000) });
export type TCommentInput = z.infer<typeof ZCommentInput>;
export const ZTransitionInput = z.strictObject({ issueKey: ZIssueKey, status: z.string().min(1), comment: z.string().min(1).max(30_000).optional() });
export type TTransitionInput = z.infer<typeof ZTransitionInput>;
export const ZLinkInput = z.strictObject({ type: z.string().min(1), inwardIssue: ZIssueKey, outwardIssue: ZIssueKey });
export type TLinkInput = z.infer<typeof ZLinkInput>;
export const ZCompensateInput = z.strictObject({ issueKey: ZIssueKey, reason: z.string().min(1).max(30_000) });
export type TCompensateInput = z.infer<typeof ZCompensateInput>;

export interface TJiraIssueRef {
  key: string;
  id: string;
  url: string;
  summary: string;
  status: string;
  labels: string[];
}

export interface JiraPort {
  createIssue(input: TCreateIssueInput): Promise<{ key: string; id: string; url: string; created: boolean }>;
  comment(input: TCommentInput): Promise<{ id: string; created: boolean }>;
  transition(input: TTransitionInput): Promise<{ from: string; to: string; changed: boolean }>;
  link(input: TLinkInput): Promise<{ created: boolean }>;
  findByLabel(label: string, opts?: { project?: string; maxResults?: number }): Promise<TJiraIssueRef[]>;
  /** JQL over an entity property; only works where an app has declared an index for that property. */
  findByProperty(input: { property: string; path: string; value: string; project?: string }): Promise<TJiraIssueRef[]>;
  findByIdempotencyKey(idempotencyKey: string): Promise<TJiraIssueRef | undefined>;
  /** Compensation for createIssue: moves the issue to the configured "won't do" status with a comment. */
  compensateIssue(input: TCompensateInput): Promise<{ from: string; to: string; changed: boolean }>;
}

const ZSearchResult = z.object({
  issues: z.array(
    z.object({
      id: z.string(),
      key: z.string(),
      fields: z.object({ summary: z.string().optional(), status: z.object({ name: z.string() }).optional(), labels: z.array(z.string()).optional() }).loose(),
    }),
  ),
});
const ZIssue = z.object({
  id: z.string(),
  key: z.string(),
  fields: z
    .object({
      status: z.object({ name: z.string() }),
      issuelinks: z
        .array(z.object({ type: z.object({ name: z.string() }), inwardIssue: z.object({ key: z.string() }).optional(), outwardIssue: z.object({ key: z.string() }).optional() }))
        .default([]),
    })
    .loose(),
});
const ZTransitions = z.object({ transitions: z.array(z.object({ id: z.string(), name: z.string(), to: z.object({ name: z.string() }) })) });
const ZComments = z.object({ comments: z.array(z.object({ id: z.string(), properties: z.array(z.object({ key: z.string(), value: z.unknown() })).optional() })) });
const ZCreated = z.object({ id: z.string(), key: z.string() });

/**
 * jira-client's request builders: public JavaScript methods (documented in its JSDoc) that its
 * TypeScript typings mark private. Used only for endpoints the library has no method for.
 */
interface JiraClientInternals {
  makeUri(opts: { pathname: string; query?: Record<string, string> }): string;
  makeRequestHeader(uri: string, opts: Record<string, unknown>): Record<string, unknown>;
  doRequest(opts: Record<string, unknown>): Promise<unknown>;
}

/** What our transport puts in a rejection; jira-client JSON-stringifies it into an Error message. */
interface TransportFailure {
  lwStatus?: number;
  lwRetryAfter?: string;
  lwNetwork?: string;
  lwMessage?: string;
}

type PostmanRequest = (options: Record<string, unknown>, cb: (err: (Error & { code?: string }) | null, res: { statusCode: number; headers: Record<string, string | undefined>; body: unknown }) => void) => void;

/**
 * jira-client's own transport (postman-request) rejects with the bare response body, losing the
 * status code and Retry-After. Through its documented `request` option we keep the same HTTP
 * library, loaded from jira-client's own dependency tree, and reject with what error mapping needs.
 */
export function createJiraTransport(timeoutMs: number): (options: Record<string, unknown>) => Promise<unknown> {
  const requireFromJira = createRequire(createRequire(import.meta.url).resolve('jira-client'));
  const postman = requireFromJira('postman-request') as PostmanRequest;
  return (options) =>
    new Promise((resolve, reject) => {
      postman({ timeout: timeoutMs, ...options }, (err, res) => {
        if (err) {
          reject({ lwNetwork: err.code ?? err.name, lwMessage: err.message } satisfies TransportFailure);
          return;
        }
        if (res.statusCode >= 400) {
          reject({ lwStatus: res.statusCode, lwRetryAfter: res.headers['retry-after'], lwMessage: jiraMessage(res.body) } satisfies TransportFailure);
          return;
        }
        resolve(res.body);
      });
    });
}

function jiraMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 300) || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { errorMessages?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (Array.isArray(b.errorMessages)) parts.push(...b.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (typeof b.errors === 'object' && b.errors !== null) parts.push(...Object.entries(b.errors).map(([k, v]) => `${k}: ${String(v)}`));
  return parts.length ? parts.join('; ') : undefined;
}

export function mapJiraError(operation: string, e: unknown): LoopwrightError {
  if (e instanceof LoopwrightError) return e;
  let failure: TransportFailure = {};
  try {
    failure = JSON.parse(e instanceof Error ? e.message : String(e)) as TransportFailure;
  } catch {
    // Not ours: jira-client threw before or after the transport.
  }
  if (typeof failure.lwStatus === 'number') {
    return errorFromHttpStatus({ system: 'jira', operation, status: failure.lwStatus, retryAfter: failure.lwRetryAfter, upstreamMessage: failure.lwMessage });
  }
  if (failure.lwNetwork) return networkError('jira', operation, Object.assign(new Error(failure.lwMessage ?? 'network error'), { code: failure.lwNetwork }));
  // jira-client also throws for a 2xx body carrying errorMessages, and on its own bugs.
  return unexpectedError('jira', operation, e);
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown, operation: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new LoopwrightError('invalid_input', `jira ${operation}: ${formatIssues(r.error.issues)}`, {
      details: { operation, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return r.data;
}

function jqlString(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function createJiraAdapter(config: TJiraConfig, client?: JiraClient): JiraPort {
  const parsed = ZJiraConfig.safeParse(config);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `jira config: ${formatIssues(parsed.error.issues)}`);
  const cfg = parsed.data;
  const base = new URL(cfg.baseUrl);
  if (!client && (!cfg.username || !cfg.apiToken)) {
    throw new LoopwrightError('invalid_config', 'jira config: username and apiToken are required when no client is given', { details: { field: cfg.username ? 'apiToken' : 'username' } });
  }
  const jira: JiraClient =
    client ??
    new JiraApi({
      protocol: base.protocol.replace(':', ''),
      host: base.hostname,
      ...(base.port ? { port: base.port } : {}),
      base: base.pathname.replace(/\/+$/, ''),
      username: cfg.username,
      password: cfg.apiToken,
      apiVersion: cfg.apiVersion,
      strictSSL: true,
      request: createJiraTransport(cfg.timeoutMs),
    });
  const internals = jira as unknown as JiraClientInternals;
  const browse = (key: string): string => `${cfg.baseUrl.replace(/\/+$/, '')}/browse/${key}`;
  // v2 takes wiki markup, so plain text is escaped there: a `*` or `[x|http…]` in a report stays text.
  const richText = (text: string): unknown => (cfg.apiVersion === '3' ? toAdf(text) : toWiki(text));
  const retry: RetryOptions = { maxAttempts: cfg.maxAttempts };

  const call = <S extends z.ZodType>(operation: string, schema: S | null, fn: () => Promise<unknown>): Promise<z.output<S>> =>
    withRetries(async () => {
      let raw: unknown;
      try {
        raw = await fn();
      } catch (e) {
        throw mapJiraError(operation, e);
      }
      if (schema === null) return undefined as z.output<S>;
      const r = schema.safeParse(raw);
      if (!r.success) throw malformedResponse('jira', operation, formatIssues(r.error.issues));
      return r.data;
    }, retry);

  async function search(operation: string, jql: string, maxResults = 50): Promise<TJiraIssueRef[]> {
    const fields = ['summary', 'status', 'labels'];
    const res = await call(operation, ZSearchResult, () =>
      cfg.deployment === 'datacenter'
        ? jira.searchJira(jql, { maxResults, fields })
        : // jira-client has no method for the enhanced search endpoint; its own request builder keeps
          // auth, base path and transport identical to every other call.
          internals.doRequest(internals.makeRequestHeader(internals.makeUri({ pathname: '/search/jql' }), { method: 'POST', followAllRedirects: true, body: { jql, maxResults, fields } })),
    );
    return res.issues.map((i) => ({
      key: i.key,
      id: i.id,
      url: browse(i.key),
      summary: i.fields.summary ?? '',
      status: i.fields.status?.name ?? '',
      labels: i.fields.labels ?? [],
    }));
  }

  const findByIdempotencyKey = async (idempotencyKey: string): Promise<TJiraIssueRef | undefined> =>
    (await search('findByIdempotencyKey', `labels = ${jqlString(idempotencyMarker(idempotencyKey))}`, 2))[0];

  async function transition(input: TTransitionInput, operation: string): Promise<{ from: string; to: string; changed: boolean }> {
    const issue = await call('getIssue', ZIssue, () => jira.findIssue(input.issueKey, '', 'status', ''));
    const from = issue.fields.status.name;
    if (from.toLowerCase() === input.status.toLowerCase()) return { from, to: from, changed: false };
    const { transitions } = await call('listTransitions', ZTransitions, () => jira.listTransitions(input.issueKey));
    const wanted = input.status.toLowerCase();
    const t = transitions.find((x) => x.to.name.toLowerCase() === wanted) ?? transitions.find((x) => x.name.toLowerCase() === wanted);
    if (!t) {
      throw new LoopwrightError('upstream_rejected', `jira ${operation}: no transition from "${from}" to "${input.status}" on ${input.issueKey}`, {
        retryable: false,
        details: { system: 'jira', operation, issueKey: input.issueKey, from, available: transitions.map((x) => x.to.name) },
      });
    }
    await call(operation, null, () =>
      jira.transitionIssue(input.issueKey, {
        transition: { id: t.id },
        ...(input.comment ? { update: { comment: [{ add: { body: richText(input.comment) } }] } } : {}),
      }),
    );
    return { from, to: t.to.name, changed: true };
  }

  return {
    async createIssue(input) {
      const i = parseInput(ZCreateIssueInput, input, 'createIssue');
      const marker = idempotencyMarker(i.idempotencyKey);
      const existing = await findByIdempotencyKey(i.idempotencyKey);
      if (existing) return { key: existing.key, id: existing.id, url: existing.url, created: false };
      const created = await call('createIssue', ZCreated, () =>
        jira.addNewIssue({
          fields: {
            project: { key: i.project },
            issuetype: { name: i.issueType },
            summary: i.summary,
            ...(i.document?.length
              ? { description: cfg.apiVersion === '3' ? toAdfDocument(i.document) : toWikiMarkup(i.document) }
              : i.description
                ? { description: richText(i.description) }
                : {}),
            labels: [...new Set([...i.labels, marker])],
            ...(i.priority ? { priority: { name: i.priority } } : {}),
            ...(i.components.length ? { components: i.components.map((name) => ({ name })) } : {}),
          },
          properties: [{ key: LOOPWRIGHT_PROPERTY, value: { idempotencyKey: i.idempotencyKey } }],
        } as never),
      );
      return { key: created.key, id: created.id, url: browse(created.key), created: true };
    },

    async comment(input) {
      const c = parseInput(ZCommentInput, input, 'comment');
      const { comments } = await call('listComments', ZComments, () => internals.doRequest(internals.makeRequestHeader(internals.makeUri({ pathname: `/issue/${c.issueKey}/comment`, query: { expand: 'properties' } }), { method: 'GET' })));
      const prior = comments.find((x) =>
        x.properties?.some((p) => p.key === LOOPWRIGHT_PROPERTY && (p.value as { idempotencyKey?: unknown } | null)?.idempotencyKey === c.idempotencyKey),
      );
      if (prior) return { id: prior.id, created: false };
      const res = await call('comment', z.object({ id: z.string() }), () =>
        jira.addCommentAdvanced(c.issueKey, { body: richText(c.body), properties: [{ key: LOOPWRIGHT_PROPERTY, value: { idempotencyKey: c.idempotencyKey } }] } as never),
      );
      return { id: res.id, created: true };
    },

    transition: (input) => transition(parseInput(ZTransitionInput, input, 'transition'), 'transition'),

    async link(input) {
      const l = parseInput(ZLinkInput, input, 'link');
      const issue = await call('getIssue', ZIssue, () => jira.findIssue(l.inwardIssue, '', 'issuelinks', ''));
      const exists = issue.fields.issuelinks.some((x) => x.type.name.toLowerCase() === l.type.toLowerCase() && x.outwardIssue?.key === l.outwardIssue);
      if (exists) return { created: false };
      await call('link', null, () => jira.issueLink({ type: { name: l.type }, inwardIssue: { key: l.inwardIssue }, outwardIssue: { key: l.outwardIssue } }));
      return { created: true };
    },

    async findByLabel(label, opts = {}) {
      const l = parseInput(ZLabel, label, 'findByLabel');
      const project = opts.project ? ` AND project = ${jqlString(opts.project)}` : '';
      return search('findByLabel', `labels = ${jqlString(l)}${project} ORDER BY created DESC`, opts.maxResults ?? 50);
    },

    async findByProperty(input) {
      const p = parseInput(
        z.strictObject({ property: z.string().regex(/^[\w.-]+$/), path: z.string().regex(/^[\w.]*$/), value: z.string(), project: z.string().optional() }),
        input,
        'findByProperty',
      );
      const field = `issue.property[${p.property}]${p.path ? `.${p.path}` : ''}`;
      const project = p.project ? ` AND project = ${jqlString(p.project)}` : '';
      return search('findByProperty', `${field} = ${jqlString(p.value)}${project}`);
    },

    findByIdempotencyKey: (key) => findByIdempotencyKey(parseInput(ZIdempotencyKey, key, 'findByIdempotencyKey')),

    async compensateIssue(input) {
      const c = parseInput(ZCompensateInput, input, 'compensateIssue');
      return transition({ issueKey: c.issueKey, status: cfg.wontDoStatus, comment: c.reason }, 'compensateIssue');
    },
  };
}
