import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveCompensation, renderTemplate, TOUCHES_TICKETS, type TPlaybookAction } from '../playbooks/actions.js';
import { loadPlaybookDir, parsePlaybook } from '../playbooks/loader.js';
import { selectPlaybook, ZLoadedPlaybook, type TLoadedPlaybook } from '../playbooks/schema.js';
import { evaluatePolicy } from '../policies/evaluate.js';
import { loadPolicyFile } from '../policies/loader.js';
import { loadError, minimalPlaybookYaml } from './helpers/playbook-yaml.js';

const PLAYBOOK_DIR = join(import.meta.dirname, '..', 'playbooks');

const minimal = (patch = '') => minimalPlaybookYaml(patch);

describe('playbook loader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loopwright-playbooks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the shipped playbooks with versions and sha256 of the file bytes', async () => {
    const all = await loadPlaybookDir(PLAYBOOK_DIR);
    expect(all.map((p) => p.version)).toEqual(['app-crash-regression@1.1.1', 'billing-refund-issue@1.1.1', 'critical-any@1.1.1']);
    const bytes = await readFile(join(PLAYBOOK_DIR, 'app-crash-regression.v1.yaml'));
    const { createHash } = await import('node:crypto');
    expect(all[0]?.contentHash).toBe(createHash('sha256').update(bytes).digest('hex'));
    // What the workflow receives must survive serialization and re-validation.
    for (const p of all) expect(ZLoadedPlaybook.parse(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });

  it('fills defaults', () => {
    const { playbook } = parsePlaybook(minimal(), 'demo.yaml');
    expect(playbook.match).toEqual({ categories: ['app_crash'], minSeverity: 'low', priority: 0 });
    expect(playbook.steps[0]?.action).toMatchObject({ issueType: 'Bug', labels: [], compensationTransition: "Won't Do" });
    expect(playbook.verification.minBefore).toBe(3);
  });

  it.each([
    ['an unknown action type', minimal().replace('type: jira.create_issue', 'type: jira.delete_project'), 13, 'steps.0.action.type'],
    ['a bad param', minimal().replace('project: APP', 'project: app'), 14, 'steps.0.action.project'],
    ['an unknown field', minimal().replace('  minSeverity', '').replace('categories: [app_crash]', 'categories: [app_crash]\n  severity: high'), 5, 'match'],
    ['a missing field', minimal().replace('  requiredDropRatio: 0.5\n', ''), 18, 'verification.requiredDropRatio'],
    ['an unknown placeholder', minimal().replace('{{ issue.category }}', '{{ issue.customerEmail }}'), 15, 'steps.0.action.summary'],
    ['a bad trigger', minimal().replace('kind: count', 'kind: vibes'), 7, 'trigger.kind'],
  ])('names file, line and field for %s', (_name, text, line, field) => {
    const e = loadError(() => parsePlaybook(text, 'demo.v1.yaml'));
    expect(e.code).toBe('invalid_config');
    expect(e.details).toMatchObject({ file: 'demo.v1.yaml', line, field });
    expect(e.message).toMatch(new RegExp(`^demo\\.v1\\.yaml:${line}:\\d+: ${field.replace(/\./g, '\\.')}`));
  });

  it.each([
    ['an unknown placeholder in a block text', '      description: |\n        First line.\n        Second {{ issue.nope }} line.\n', 18, 19, 'unknown placeholder "{{ issue.nope }}"'],
    ['an unknown filter', '      description: |\n        {{ issue.reports | pluralise: "report" }}\n', 17, 9, 'undefined filter: pluralise'],
    ['unclosed Liquid', '      description: |\n        ok\n\n        {% if issue.reports > 1 %}many\n', 19, 9, 'tag {% if issue.reports > 1 %} not closed'],
    ['an unknown placeholder in a one-line text', '      description: "seen {{ issue.nope }}"\n', 16, 29, 'unknown placeholder'],
  ])('fails the load at the template line for %s (Liquid, strict)', (_name, description, line, column, message) => {
    const text = minimal().replace('      description: "seen {{ issue.occurrences }} times"\n', description);
    const e = loadError(() => parsePlaybook(text, 'demo.v1.yaml'));
    expect(e.details).toMatchObject({ file: 'demo.v1.yaml', line, column, field: 'steps.0.action.description' });
    expect(e.message).toContain(message);
  });

  it('renders Liquid: plurals with distinct customers, conditions, and the compensation placeholders', () => {
    const values = { 'issue.reports': 48, 'issue.customers': 45, 'issue.topic': 'Duplicate charge' };
    const t = '{{ issue.reports | plural: "report" }} from {{ issue.customers | plural: "customer" }}{% if issue.customers == 1 %} (one customer){% endif %}';
    expect(renderTemplate(t, values)).toBe('48 reports from 45 customers');
    expect(renderTemplate(t, { ...values, 'issue.reports': 1, 'issue.customers': 1 })).toBe('1 report from 1 customer (one customer)');
    expect(renderTemplate('{{ n | plural: "reply", "replies" }}, {{ big | number }}', { n: 2, big: 1234567 })).toBe('2 replies, 1,234,567');
    // Reports whose senders are unknown (an anonymous form, an import without ids) never read "from 0 customers".
    const from = '{{ issue.reports | count_from_customers: "report", issue.customers }}';
    expect(renderTemplate(from, values)).toBe('48 reports from 45 customers');
    expect(renderTemplate(from, { ...values, 'issue.reports': 1, 'issue.customers': 0 })).toBe('1 report, customer unknown');
    expect(renderTemplate(from, { ...values, 'issue.customers': 0 })).toBe('48 reports, customers unknown');
    expect(() => renderTemplate('{{ issue.reports | count_from_customers: "report", issue.topic }}', values)).toThrow(/customers Duplicate charge is not a number/);
    const comp = deriveCompensation({ type: 'jira.create_issue', project: 'APP', issueType: 'Bug', summary: 's', description: 'd', labels: [], compensationTransition: "Won't Do" })!;
    expect(renderTemplate((comp as { issueKey: string }).issueKey, { 'result.issueKey': 'APP-7' })).toBe('APP-7');
    const slack = deriveCompensation({ type: 'slack.post_message', channel: '#c', text: 't' }) as { channel: string; ts: string };
    expect(renderTemplate(`${slack.channel}/${slack.ts}`, { 'result.channel': 'C1', 'result.ts': '1.2' })).toBe('C1/1.2');
    // Slack texts escape inserted values: a value cannot ping a channel or forge a link.
    expect(renderTemplate('Likely: {{ issue.hypothesis }}', { 'issue.hypothesis': '<!channel> & <https://x|y>' }, 'slack')).toBe('Likely: &lt;!channel&gt; &amp; &lt;https://x|y&gt;');
    // Values are data: braces in a value are never parsed.
    expect(renderTemplate('A {{ x }} B', { x: '{{ y }}' })).toBe('A {{ y }} B');
  });

  it('refuses internal identifiers in texts customers read (public replies and customerReply)', () => {
    const reply = minimal('customerReply:\n  when: on_trigger\n  template: |\n    Thanks. We track this as {{ steps.ticket.issueKey }}.\n');
    const e = loadError(() => parsePlaybook(reply, 'demo.v1.yaml'));
    expect(e.details).toMatchObject({ line: 23, column: 33, field: 'customerReply.template' });
    expect(e.message).toContain('"{{ steps.ticket.issueKey }}" cannot appear in a text customers read');
    const step = minimal().replace('verification:', '  - id: tell\n    action:\n      type: zendesk.public_reply\n      body: "About {{ issue.topic }} ({{ issue.workflowId }})"\nverification:');
    expect(loadError(() => parsePlaybook(step, 'demo.v1.yaml')).message).toContain('"{{ issue.workflowId }}" cannot appear in a text customers read');
    const fine = minimal('customerReply:\n  when: on_trigger\n  template: "Thanks for reporting {{ issue.topic | downcase }}."\n');
    expect(parsePlaybook(fine, 'demo.v1.yaml').playbook.customerReply?.template).toContain('issue.topic');
  });

  it('the shipped customer texts keep one paragraph per line (no line break mid-sentence)', async () => {
    for (const { playbook } of await loadPlaybookDir(PLAYBOOK_DIR)) {
      const texts = [playbook.customerReply?.template, ...playbook.steps.map((st) => (st.action.type === 'zendesk.public_reply' ? st.action.body : undefined))];
      for (const t of texts.filter((x): x is string => x !== undefined)) {
        for (const line of t.trim().split('\n').filter((l) => l.trim() !== '')) expect(line.trim(), `${playbook.id}: "${line}"`).toMatch(/[.!?:)]$/);
      }
    }
  });

  it('names the line of a YAML syntax error', () => {
    const e = loadError(() => parsePlaybook('id: demo\nversion: [1.0.0\n', 'bad.yaml'));
    expect(e.message).toMatch(/^bad\.yaml:\d+:\d+: \(syntax\)/);
  });

  it('rejects a step output used before the step runs, and duplicate step ids', () => {
    const early = minimal().replace('seen {{ issue.occurrences }} times', 'see {{ steps.later.ts }}');
    expect(loadError(() => parsePlaybook(early, 'x.yaml')).message).toContain('refers to step "later", which does not run before this one');
    const wrongField = minimal().replace('verification:', '  - id: tell\n    action: { type: slack.post_message, channel: "#c", text: "see {{ steps.ticket.ts }}" }\nverification:');
    expect(loadError(() => parsePlaybook(wrongField, 'x.yaml')).message).toContain('jira.create_issue outputs issueKey, issueUrl, not ts');
    const dup = minimal().replace('verification:', '  - id: ticket\n    action: { type: zendesk.add_tags, tags: [x] }\nverification:');
    expect(loadError(() => parsePlaybook(dup, 'x.yaml')).message).toContain('steps.1.id: duplicate step id "ticket"');
  });

  it('never half-loads a directory: one bad file fails the whole load, naming it', async () => {
    await writeFile(join(dir, 'a-good.v1.yaml'), minimal());
    await writeFile(join(dir, 'b-bad.v1.yaml'), minimal().replace('id: demo', 'id: other').replace('threshold: 3', 'threshold: 0'));
    await expect(loadPlaybookDir(dir)).rejects.toThrow(/^b-bad\.v1\.yaml:8:\d+: trigger\.threshold/);
  });

  it('rejects the same id@version in two files', async () => {
    await writeFile(join(dir, 'a.yaml'), minimal());
    await writeFile(join(dir, 'b.yaml'), minimal());
    await expect(loadPlaybookDir(dir)).rejects.toThrow('b.yaml: playbook demo@1.0.0 is already defined in a.yaml');
  });

  it('fails clearly on an empty or missing directory', async () => {
    await expect(loadPlaybookDir(dir)).rejects.toThrow('holds no .yaml files');
    await expect(loadPlaybookDir(join(dir, 'missing'))).rejects.toThrow('cannot read playbook directory: ENOENT');
  });
});

describe('playbook selection', () => {
  const entry = (id: string, version: string, match: string): TLoadedPlaybook =>
    parsePlaybook(minimal().replace('id: demo', `id: ${id}`).replace('version: 1.0.0', `version: ${version}`).replace('  categories: [app_crash]', match), `${id}.yaml`);

  it('selects the shipped playbooks by category and severity', async () => {
    const all = await loadPlaybookDir(PLAYBOOK_DIR);
    expect(selectPlaybook(all, { category: 'app_crash', severity: 'high' })?.selected.version).toBe('app-crash-regression@1.1.1');
    expect(selectPlaybook(all, { category: 'app_crash', severity: 'low' })).toBeNull();
    expect(selectPlaybook(all, { category: 'refund', severity: 'low' })?.selected.version).toBe('billing-refund-issue@1.1.1');
    expect(selectPlaybook(all, { category: 'privacy_data', severity: 'critical' })?.selected.version).toBe('critical-any@1.1.1');
    expect(selectPlaybook(all, { category: 'privacy_data', severity: 'high' })).toBeNull();
    expect(selectPlaybook(all, { category: 'needs_review', severity: 'critical' })).toBeNull();
  });

  it('prefers explicit categories, then priority, then the stricter severity, then id; order-independent', () => {
    const star = entry('a-star', '1.0.0', '  categories: "*"\n  priority: 9');
    const plain = entry('z-plain', '1.0.0', '  categories: [app_crash]');
    const strict = entry('m-strict', '1.0.0', '  categories: [app_crash]\n  minSeverity: high');
    const urgent = entry('q-urgent', '1.0.0', '  categories: [app_crash]\n  priority: 5');
    const twin = entry('b-plain', '1.0.0', '  categories: [app_crash]');
    const pick = (list: TLoadedPlaybook[], severity: 'low' | 'high' = 'high') => selectPlaybook(list, { category: 'app_crash', severity })?.selected.playbook.id;
    expect(pick([star, plain])).toBe('z-plain');
    expect(pick([plain, strict, urgent])).toBe('q-urgent');
    expect(pick([plain, strict])).toBe('m-strict');
    expect(pick([plain, strict], 'low')).toBe('z-plain');
    expect(pick([plain, twin])).toBe('b-plain');
    expect(pick([twin, plain])).toBe('b-plain');
  });

  it('only the newest version of a playbook competes', () => {
    const v1 = entry('crash', '1.2.0', '  categories: [app_crash]');
    const v2 = entry('crash', '1.10.0', '  categories: [performance]');
    expect(selectPlaybook([v2, v1], { category: 'app_crash', severity: 'high' })).toBeNull();
    expect(selectPlaybook([v1, v2], { category: 'performance', severity: 'high' })?.selected.version).toBe('crash@1.10.0');
  });
});

describe('actions', () => {
  it('derives compensations where one exists', () => {
    const create: TPlaybookAction = {
      type: 'jira.create_issue', project: 'APP', issueType: 'Bug', summary: 's', description: 'd', labels: [], compensationTransition: "Won't Do",
    };
    expect(deriveCompensation(create)).toEqual({ type: 'jira.transition', issueKey: '{{ result.issueKey }}', transition: "Won't Do" });
    expect(deriveCompensation({ type: 'zendesk.add_tags', tags: ['x'] })).toEqual({ type: 'zendesk.remove_tags', tags: ['x'] });
    expect(deriveCompensation({ type: 'slack.post_message', channel: '#c', text: 't' })?.type).toBe('slack.delete_message');
    expect(deriveCompensation({ type: 'zendesk.public_reply', body: 'b' })).toBeNull();
    expect(TOUCHES_TICKETS['zendesk.public_reply']).toBe(true);
  });

  it('renders templates and refuses to render with a missing value', () => {
    expect(renderTemplate('Jira {{ steps.a.issueKey }} for {{issue.occurrences}}', { 'steps.a.issueKey': 'APP-1', 'issue.occurrences': 12 })).toBe('Jira APP-1 for 12');
    expect(() => renderTemplate('Hi {{ issue.category }}', {})).toThrow('template placeholder "issue.category" has no value');
    expect(() => renderTemplate('Hi {{ issue.category }}', { 'issue.topic': 'x' })).toThrow('template placeholder "issue.category" has no value');
  });


  it('the shipped playbooks and policy together produce every verdict kind', async () => {
    const [playbooks, { policy }] = await Promise.all([loadPlaybookDir(PLAYBOOK_DIR), loadPolicyFile(join(import.meta.dirname, '..', 'policies', 'default.v1.yaml'))]);
    const billing = playbooks.find((p) => p.playbook.id === 'billing-refund-issue')!.playbook;
    const kinds = Object.fromEntries(
      billing.steps.map((s) => [
        s.id,
        evaluatePolicy(policy, {
          actionType: s.action.type,
          category: 'refund',
          confidence: 0.92,
          severity: 'medium',
          customerTiers: ['free', 'standard'],
          blastRadius: { tickets: 14, customers: 14 },
          recentActionCount: 0,
          needsReview: false,
        }).kind,
      ]),
    );
    expect(kinds).toEqual({ 'jira-billing': 'allow', prioritise: 'deny', 'alert-billing': 'allow', 'notify-customers': 'needs_approval' });
  });
});
