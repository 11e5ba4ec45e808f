// The one template engine for every text Loopwright sends: Jira summaries and descriptions, Slack
// messages, Zendesk notes and customer replies. Liquid (liquidjs), the syntax Zendesk admins
// already write in macros and triggers. Strict: an unknown variable or filter is an error, at
// playbook load (checkTemplate, with the template's line and column) and again at render.
//
// Pure and synchronous: the IssueWorkflow renders a step's texts in workflow code, so this module
// must stay deterministic and bundleable. liquidjs qualifies: the Temporal bundler (webpack, web
// target) resolves its `browser` build, which imports no Node built-in; rendering is synchronous
// (renderSync: no timers, no promises); the `date` filter is pinned to UTC (timezoneOffset 0) and
// `now` reads the workflow's deterministic clock. A rendered text only ever becomes an activity's
// input, so a text that renders differently after an upgrade cannot change a replayed command
// sequence; only success versus failure could, and strictness here matches the engine it replaced.
// Must not: do I/O, read the clock or environment, or render untrusted templates (templates come
// from validated playbooks; values are data and are never parsed as Liquid).
import { Liquid, type Template } from 'liquidjs';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { countFromCustomers, countOf, formatCount } from '../workflows/domain/plural.js';

/** Where a text goes: Slack mrkdwn needs &, < and > escaped in inserted values (`<!channel>` is a ping). */
export type TTextTarget = 'plain' | 'slack';

export { countOf, formatCount } from '../workflows/domain/plural.js';

const escapeSlack = (v: unknown): string => String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function createEngine(target: TTextTarget): Liquid {
  const engine = new Liquid({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    timezoneOffset: 0,
    // Playbook texts are whole documents: no partials, layouts or files.
    relativeReference: false,
    ...(target === 'slack' ? { outputEscape: escapeSlack } : {}),
  });
  // {{ issue.customers | plural: "customer" }} → "45 customers"; {{ n | plural: "reply", "replies" }}.
  engine.registerFilter('plural', (n: unknown, one: unknown, many?: unknown) => {
    const count = Number(n);
    if (!Number.isFinite(count)) throw new Error(`plural: ${String(n)} is not a number`);
    return countOf(count, String(one), many === undefined ? undefined : String(many));
  });
  // {{ issue.reports | count_from_customers: "report", issue.customers }} → "3 reports from 2 customers", or
  // "1 report, customer unknown" when no report named its customer (never "from 0 customers").
  engine.registerFilter('count_from_customers', (n: unknown, one: unknown, customers: unknown) => {
    const count = Number(n);
    const people = Number(customers);
    if (!Number.isFinite(count)) throw new Error(`count_from_customers: ${String(n)} is not a number`);
    if (!Number.isFinite(people)) throw new Error(`count_from_customers: customers ${String(customers)} is not a number`);
    return countFromCustomers(count, String(one), people);
  });
  // {{ n | number }} → "1,234".
  engine.registerFilter('number', (n: unknown) => formatCount(Number(n)));
  return engine;
}

// ---- Per-recipient variables: `{{ customer.first_name | default: "there" }}` ----
// The workflow renders a text once for every ticket of an issue and must never see a customer's
// name (histories, the audit trail and approval messages carry the text). So an output of a
// `customer.*` variable is not rendered there: it is carried through verbatim between two
// private-use markers, and the Zendesk adapter fills it per ticket from the requester's first
// name (fillRecipientValues), rendering only that snippet, with the name as a value (never Liquid).

/** Variables known only per recipient, filled by the Zendesk adapter; allowed in customer texts only. */
export const RECIPIENT_VARIABLES = ['customer.first_name'] as const;
const OPEN = '\uE000';
const CLOSE = '\uE001';
const RECIPIENT_OUTPUT = /\{\{-?\s*customer\.[\s\S]*?-?\}\}/g;
const CARRIED = /\uE000(\{\{[\s\S]*?\}\})\uE001/g;

/** The template with every `{{ customer.… }}` output carried through rendering verbatim (in a raw tag). */
export function deferRecipientOutputs(template: string): string {
  return template.replace(RECIPIENT_OUTPUT, (out) => `{% raw %}${OPEN}${out}${CLOSE}{% endraw %}`);
}

/** Problems with `customer.*` in a customer text: only as an output, and always with a fallback. */
export function recipientProblems(template: string): TTemplateProblem[] {
  const problems: TTemplateProblem[] = [];
  for (const m of template.matchAll(RECIPIENT_OUTPUT)) {
    const before = template.slice(0, m.index);
    const row = before.split('\n').length;
    const col = m.index - before.lastIndexOf('\n');
    const name = /customer\.([A-Za-z_]+)/.exec(m[0])?.[0] ?? 'customer';
    if (!(RECIPIENT_VARIABLES as readonly string[]).includes(name)) problems.push({ message: `unknown placeholder "{{ ${name} }}" (per recipient: ${RECIPIENT_VARIABLES.join(', ')})`, row, col });
    else if (!/\|\s*default\s*:/.test(m[0])) {
      problems.push({ message: `"{{ ${name} }}" needs a fallback for customers whose name is unknown, e.g. {{ ${name} | default: "there" }}`, row, col });
    }
  }
  return problems;
}

/** Hidden markers removed, the carried Liquid shown as written (approval previews, docs). */
export function showRecipientOutputs(text: string): string {
  return text.replace(CARRIED, '$1');
}

/** What a placeholder calls each per-recipient variable. */
const RECIPIENT_LABELS: Record<(typeof RECIPIENT_VARIABLES)[number], string> = { 'customer.first_name': 'first name' };

/**
 * Each carried output as a readable placeholder that names what fills it and its fallback,
 * `[first name, or "there"]`: for texts planned without a recipient (rehearsals, shadow plans, the
 * Slack preview), which people read as the reply. Never the hidden markers, never raw Liquid.
 */
export function placeholderRecipientOutputs(text: string): string {
  return text.replace(CARRIED, (_m, snippet: string) => {
    const name = /customer\.[A-Za-z_]+/.exec(snippet)?.[0] ?? 'customer';
    const label = (RECIPIENT_LABELS as Record<string, string>)[name] ?? name;
    const fallback = fillRecipientValues(`${OPEN}${snippet}${CLOSE}`, { firstName: null });
    return fallback.trim() === '' ? `[${label}]` : `[${label}, or "${fallback}"]`;
  });
}

/**
 * Fills the carried `{{ customer.… }}` outputs of a rendered text for one recipient. An unknown
 * first name is the empty string, so the template's `default` applies.
 */
export function fillRecipientValues(text: string, recipient: { firstName: string | null }): string {
  return text.replace(CARRIED, (_m, snippet: string) => engineFor('plain').parseAndRenderSync(snippet, { customer: { first_name: recipient.firstName ?? '' } }) as string);
}

const engines = new Map<TTextTarget, Liquid>();
function engineFor(target: TTextTarget): Liquid {
  let e = engines.get(target);
  if (!e) engines.set(target, (e = createEngine(target)));
  return e;
}

export interface TTemplateProblem {
  message: string;
  /** 1-based line and column inside the template text. */
  row: number;
  col: number;
}

/** Where a liquidjs error points (its messages end with `, line:R, col:C`). */
function position(e: unknown): { row: number; col: number } {
  const m = /line:(\d+), col:(\d+)/.exec(e instanceof Error ? e.message : '');
  return m ? { row: Number(m[1]), col: Number(m[2]) } : { row: 1, col: 1 };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/, line:\d+, col:\d+.*$/s, '');

/**
 * Checks a template at load time: syntax, filters (only the built-ins and ours), and every variable
 * it reads from outside (`allowed(path)` returns null or the problem). Variables the template
 * assigns itself (assign, capture, for) are its own business.
 */
export function checkTemplate(text: string, allowed: (path: string) => string | null, opts: { recipient?: boolean } = {}): TTemplateProblem[] {
  const engine = engineFor('plain');
  let parsed: Template[];
  try {
    engine.parse(text);
    // Customer texts: `{{ customer.… }}` outputs are the adapter's (checked here); any other use of customer.* stays an error below.
    parsed = engine.parse(opts.recipient ? deferRecipientOutputs(text) : text);
  } catch (e) {
    return [{ message: `template: ${errorText(e)}`, ...position(e) }];
  }
  const problems: TTemplateProblem[] = [];
  const analysis = engine.analyzeSync(parsed, { partials: false });
  for (const variables of Object.values(analysis.globals)) {
    for (const v of variables) {
      const where = { row: v.location.row, col: v.location.col };
      if (v.segments.some((s) => typeof s !== 'string')) {
        problems.push({ message: `"{{ ${v.toString()} }}": computed lookups are not allowed in playbook texts`, ...where });
        continue;
      }
      const problem = allowed(v.segments.join('.'));
      if (problem) problems.push({ message: problem, ...where });
    }
  }
  if (opts.recipient) problems.push(...recipientProblems(text));
  return problems.sort((a, b) => a.row - b.row || a.col - b.col);
}

/** `{ 'issue.category': 'x', 'steps.a.issueKey': 'K' }` → `{ issue: { category: 'x' }, steps: { a: { issueKey: 'K' } } }`. */
export function scopeFromFlat(values: Readonly<Record<string, string | number>>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split('.');
    let node = root;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) node[p] = value;
      else {
        const next = node[p];
        node = (typeof next === 'object' && next !== null ? next : (node[p] = {})) as Record<string, unknown>;
      }
    });
  }
  return root;
}

/**
 * Renders a template. A missing value is an error, never an empty string: a reply that says
 * "ticket  was fixed" is worse than no reply.
 */
export function renderText(template: string, values: Readonly<Record<string, string | number>>, target: TTextTarget = 'plain'): string {
  try {
    // Per-recipient outputs are filled by the Zendesk adapter (the load allows them in customer texts only).
    return engineFor(target).parseAndRenderSync(deferRecipientOutputs(template), scopeFromFlat(values)) as string;
  } catch (e) {
    if (e instanceof Error && e.name === 'UndefinedVariableError') {
      // The whole expression (`issue.category`), not only its first missing segment.
      const name = (e as { token?: { getText?: () => string } }).token?.getText?.() ?? errorText(e).replace(/^undefined variable: /, '');
      throw new LoopwrightError('invalid_input', `template placeholder "${name}" has no value`, { retryable: false, details: { placeholder: name } });
    }
    throw new LoopwrightError('invalid_input', `template cannot be rendered: ${errorText(e)}`, { retryable: false, details: position(e) });
  }
}
