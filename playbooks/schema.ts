// The playbook contract: which issues a playbook handles, what fires it, the steps it runs (typed
// actions), the reply customers get and how the fix is verified. Plus the pure, deterministic
// choice of a playbook for an issue. Pure zod: playbooks reach the workflow as input (with their
// version and content hash) and are re-validated there; loading from disk lives in loader.ts.
import { z } from 'zod';
import { ZIssueTrigger } from '../workflows/domain/issue-stats.js';
import { NEEDS_REVIEW, SEVERITY_ORDER, ZCategoryId, ZSeverityLevel, type TSeverityLevel } from '../workflows/domain/triage.js';
import { ACTION_OUTPUTS, CUSTOMER_PLACEHOLDERS, isCustomerFacing, ISSUE_PLACEHOLDERS, ZPlaybookAction, ZTemplate, type TActionType } from './actions.js';
import { checkTemplate } from './templates.js';

const ZSemver = z.string().regex(/^\d+\.\d+\.\d+$/, 'version must be semantic (e.g. 1.2.0)');
const ZSlug = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'ids are lowercase slugs');

export const ZPlaybookStep = z.strictObject({
  /** Unique in the playbook; with the workflow id it forms the action's idempotency key. */
  id: ZSlug,
  description: z.string().optional(),
  action: ZPlaybookAction,
});
export type TPlaybookStep = z.infer<typeof ZPlaybookStep>;

export const ZPlaybook = z
  .strictObject({
    id: ZSlug,
    version: ZSemver,
    description: z.string().min(10, 'description must say what the playbook is for'),
    match: z.strictObject({
      /** '*' matches every category except needs_review, which must be listed to be matched. */
      categories: z.union([z.literal('*'), z.array(ZCategoryId).min(1)]),
      minSeverity: ZSeverityLevel.default('low'),
      /** Breaks ties between equally specific playbooks; higher wins. */
      priority: z.number().int().min(0).max(1000).default(0),
    }),
    trigger: ZIssueTrigger,
    steps: z.array(ZPlaybookStep).min(1).max(50),
    customerReply: z
      .strictObject({
        template: ZTemplate,
        when: z.enum(['on_trigger', 'on_resolved', 'never']),
      })
      .optional(),
    /**
     * When the issue recurs after a verified resolution, what its jira.create_issue step does:
     * `new_issue` files a new issue linked ("Relates") to the old one; `reopen` moves the old issue
     * back with `reopenTransition` (a jira.transition, through the policy like any other) and later
     * steps quote the old key. Absent: new_issue.
     */
    recurrence: z
      .strictObject({
        jira: z.enum(['new_issue', 'reopen']).default('new_issue'),
        reopenTransition: z.string().min(1).default('To Do'),
      })
      .optional(),
    verification: z.strictObject({
      windowMinutes: z.number().int().min(5).max(30 * 24 * 60),
      requiredDropRatio: z.number().min(0).max(1),
      minBefore: z.number().int().min(1).default(3),
    }),
  })
  .superRefine((p, ctx) => {
    const outputsOf = new Map<string, TActionType>();
    p.steps.forEach((step, i) => {
      if (outputsOf.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${step.id}"` });
      }
      const customer = isCustomerFacing(step.action.type);
      for (const [field, value] of Object.entries(step.action)) {
        if (field === 'type') continue;
        const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
        for (const t of texts) checkText(ctx, ['steps', i, 'action', field], t, (name) => placeholderProblem(name, outputsOf, customer), customer);
      }
      // Registered after its own fields are checked: a step cannot read its own output.
      outputsOf.set(step.id, step.action.type);
    });
    if (p.customerReply) checkText(ctx, ['customerReply', 'template'], p.customerReply.template, (name) => placeholderProblem(name, outputsOf, true), true);
  });
export type TPlaybook = z.infer<typeof ZPlaybook>;
export type TPlaybookInput = z.input<typeof ZPlaybook>;

/**
 * Adds one issue per template problem; `params.template` carries the line and column inside the
 * text, which parseYamlFile turns into the file's line (yaml-file.ts).
 */
function checkText(ctx: z.RefinementCtx, path: Array<string | number>, text: string, allowed: (name: string) => string | null, recipient = false): void {
  for (const p of checkTemplate(text, allowed, { recipient })) {
    ctx.addIssue({ code: 'custom', path, message: p.message, params: { template: { row: p.row, col: p.col } } });
  }
}

function placeholderProblem(name: string, earlier: ReadonlyMap<string, TActionType>, customerFacing = false): string | null {
  if (name.startsWith('customer.')) {
    return customerFacing
      ? `"{{ ${name} }}" can only be output, with a fallback: {{ customer.first_name | default: "there" }} (not in tags such as if/assign)`
      : `"{{ ${name} }}" is per recipient: only texts customers read (zendesk.public_reply, customerReply) can use it`;
  }
  if (customerFacing) {
    if ((CUSTOMER_PLACEHOLDERS as readonly string[]).includes(name)) return null;
    return `"{{ ${name} }}" cannot appear in a text customers read (internal identifiers stay internal; allowed: ${CUSTOMER_PLACEHOLDERS.join(', ')})`;
  }
  if ((ISSUE_PLACEHOLDERS as readonly string[]).includes(name)) return null;
  const m = /^steps\.([a-z][a-z0-9_-]*)\.([A-Za-z]+)$/.exec(name);
  if (!m) return `unknown placeholder "{{ ${name} }}" (allowed: ${ISSUE_PLACEHOLDERS.join(', ')}, steps.<earlier step>.<output>)`;
  const [, stepId, field] = m as unknown as [string, string, string];
  const type = earlier.get(stepId);
  if (type === undefined) return `placeholder "{{ ${name} }}" refers to step "${stepId}", which does not run before this one`;
  if (!ACTION_OUTPUTS[type].includes(field)) {
    return `placeholder "{{ ${name} }}": ${type} outputs ${ACTION_OUTPUTS[type].join(', ')}, not ${field}`;
  }
  return null;
}

/** A playbook as the workflow receives it: parsed, plus what the audit records about its source. */
export const ZLoadedPlaybook = z.strictObject({
  playbook: ZPlaybook,
  /** `id@version`. */
  version: z.string(),
  /** sha256 (hex) of the file bytes. */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  fileName: z.string(),
});
export type TLoadedPlaybook = z.infer<typeof ZLoadedPlaybook>;

export function playbookVersionTag(p: Pick<TPlaybook, 'id' | 'version'>): string {
  return `${p.id}@${p.version}`;
}

export function compareSemver(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface TPlaybookSelection {
  selected: TLoadedPlaybook;
  reason: string;
}

/**
 * The playbook for an issue, or null when none matches. Only the newest version of each playbook
 * id competes (older ones stay loadable for replays and audits). Among matches: an explicit
 * category beats '*', then higher match.priority, then higher minSeverity (more specific), then id.
 */
export function selectPlaybook(
  entries: ReadonlyArray<TLoadedPlaybook>,
  issue: { category: string; severity: TSeverityLevel },
): TPlaybookSelection | null {
  const newest = new Map<string, TLoadedPlaybook>();
  for (const e of entries) {
    const cur = newest.get(e.playbook.id);
    if (!cur || compareSemver(e.playbook.version, cur.playbook.version) > 0) newest.set(e.playbook.id, e);
  }
  const rank = (s: TSeverityLevel) => SEVERITY_ORDER.indexOf(s);
  const matches = [...newest.values()].filter(({ playbook: { match } }) => {
    const categoryOk = match.categories === '*' ? issue.category !== NEEDS_REVIEW : match.categories.includes(issue.category);
    return categoryOk && rank(issue.severity) >= rank(match.minSeverity);
  });
  matches.sort((a, b) => {
    const ma = a.playbook.match;
    const mb = b.playbook.match;
    const explicit = Number(mb.categories !== '*') - Number(ma.categories !== '*');
    if (explicit !== 0) return explicit;
    if (mb.priority !== ma.priority) return mb.priority - ma.priority;
    const sev = rank(mb.minSeverity) - rank(ma.minSeverity);
    if (sev !== 0) return sev;
    return a.playbook.id < b.playbook.id ? -1 : a.playbook.id > b.playbook.id ? 1 : 0;
  });
  const selected = matches[0];
  if (!selected) return null;
  const m = selected.playbook.match;
  return {
    selected,
    reason: `${selected.version}: ${m.categories === '*' ? 'any category' : `category ${issue.category}`}, severity ${issue.severity} >= ${m.minSeverity}, priority ${m.priority}; ${matches.length} candidate(s)`,
  };
}

/** What a playbook's trigger reacts to: a severe report (pages at once) or report volume. */
export type TTriggerClass = 'severity' | 'volume';

export function triggerClass(p: Pick<TPlaybook, 'trigger'>): TTriggerClass {
  return p.trigger.kind === 'severity' ? 'severity' : 'volume';
}

/**
 * Every playbook that applies to an issue, composed: at most one per trigger class, so a category's
 * volume playbook and a severity page (e.g. `critical-any`) both apply to one issue and adding one
 * never removes the other. Precedence, documented in playbooks/README.md:
 * 1. only the newest version of each playbook id competes;
 * 2. within a trigger class the most specific match wins, as in `selectPlaybook` (explicit
 *    category over '*', then higher priority, then higher minSeverity, then id);
 * 3. the result is ordered severity class first: when both fire together, the page goes out before
 *    the volume playbook's round.
 */
export function selectPlaybooks(entries: ReadonlyArray<TLoadedPlaybook>, issue: { category: string; severity: TSeverityLevel }): TPlaybookSelection[] {
  const newest = new Map<string, TLoadedPlaybook>();
  for (const e of entries) {
    const cur = newest.get(e.playbook.id);
    if (!cur || compareSemver(e.playbook.version, cur.playbook.version) > 0) newest.set(e.playbook.id, e);
  }
  const out: TPlaybookSelection[] = [];
  for (const cls of ['severity', 'volume'] as const) {
    const sel = selectPlaybook(
      [...newest.values()].filter((e) => triggerClass(e.playbook) === cls),
      issue,
    );
    if (sel) out.push({ selected: sel.selected, reason: `${cls} class: ${sel.reason}` });
  }
  return out;
}
