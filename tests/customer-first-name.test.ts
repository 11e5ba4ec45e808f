// `{{ customer.first_name }}` in texts customers read: allowed only there, only as an output with a
// fallback (strict load, with file and line); the workflow renders the text without any name (the
// output is carried through verbatim); the Zendesk adapter fills it per ticket from the requester's
// first name over HTTP against the Zendesk fake, and an unknown name reads naturally ("Hi there,").
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPreviewBlocks } from '../activities/adapters/slack/preview-blocks.js';
import { createSqliteAuditStore } from '../activities/audit/index.js';
import { formatRehearsal, rehearsePlaybook } from '../activities/shadow/index.js';
import { createZendeskAdapter } from '../activities/adapters/zendesk/zendesk-adapter.js';
import { composeReply } from '../activities/adapters/zendesk/reply-text.js';
import { customerFacingText } from '../activities/approval-wording.js';
import { renderTemplate } from '../playbooks/actions.js';
import { parsePlaybook } from '../playbooks/loader.js';
import { showRecipientOutputs } from '../playbooks/templates.js';
import { loadPolicyFile } from '../policies/loader.js';
import { absorbOccurrences, initialIssueState } from '../workflows/issue/state.js';
import type { TOccurrence } from '../workflows/messages.js';
import { startFakeZendesk, type FakeZendesk } from './fakes/zendesk.js';
import { loadError, minimalPlaybookYaml } from './helpers/playbook-yaml.js';

const playbook = (patch: string) => minimalPlaybookYaml(patch, { category: 'billing', summary: 'Billing {{ issue.category }}' });

const REPLY = 'Hi {{ customer.first_name | default: "there" }},\n\nThe {{ issue.topic | downcase }} problem you reported is fixed.';
const withReply = (template: string) => playbook(`customerReply:\n  when: on_resolved\n  template: ${JSON.stringify(template)}\n`);

describe('customer.first_name in playbook texts', () => {
  it('loads in customer texts with a fallback; refused without one, in tags, as another customer.* field, or in internal texts', () => {
    expect(parsePlaybook(withReply(REPLY), 'demo.v1.yaml').playbook.customerReply?.template).toBe(REPLY);
    const step = playbook('').replace('verification:', `  - id: tell\n    action:\n      type: zendesk.public_reply\n      body: ${JSON.stringify(REPLY)}\nverification:`);
    expect(parsePlaybook(step, 'demo.v1.yaml').playbook.steps[1]?.action).toMatchObject({ body: REPLY });

    const bare = loadError(() => parsePlaybook(withReply('Hi {{ customer.first_name }}, fixed.'), 'demo.v1.yaml'));
    expect(bare.message).toContain('needs a fallback for customers whose name is unknown, e.g. {{ customer.first_name | default: "there" }}');
    expect(bare.details).toMatchObject({ field: 'customerReply.template', line: 22 });
    expect(loadError(() => parsePlaybook(withReply('{% if customer.first_name %}Hi{% endif %} fixed.'), 'demo.v1.yaml')).message).toContain('can only be output, with a fallback');
    expect(loadError(() => parsePlaybook(withReply('Hi {{ customer.email | default: "x" }}'), 'demo.v1.yaml')).message).toContain('unknown placeholder "{{ customer.email }}"');
    const jira = playbook('').replace('description: "seen {{ issue.occurrences }} times"', 'description: "for {{ customer.first_name | default: \\"x\\" }}"');
    expect(loadError(() => parsePlaybook(jira, 'demo.v1.yaml')).message).toContain('is per recipient: only texts customers read');
  });

  it('the workflow renders the text without a name; the reply fills it per recipient and reads naturally without one', () => {
    const rendered = renderTemplate(REPLY, { 'issue.topic': 'Duplicate charge' });
    expect(showRecipientOutputs(rendered)).toBe('Hi {{ customer.first_name | default: "there" }},\n\nThe duplicate charge problem you reported is fixed.');
    // The approval request shows the expression as written (no hidden markers, no name).
    expect(customerFacingText({ type: 'zendesk.public_reply', body: rendered })?.text).toBe(showRecipientOutputs(rendered));
    expect(composeReply(rendered, 'Ana María López')).toBe('Hi Ana,\n\nThe duplicate charge problem you reported is fixed.');
    // Zendesk shows the email when there is no name: never greeted with it.
    expect(composeReply(rendered, 'kim@example.test')).toBe('Hi there,\n\nThe duplicate charge problem you reported is fixed.');
    expect(composeReply(rendered, null)).toBe('Hi there,\n\nThe duplicate charge problem you reported is fixed.');
    // A name is a value: Liquid in it is never run.
    expect(composeReply(rendered, 'Zoë{{issue.topic}} Smith')).toBe('Hi Zoë{{issue.topic}},\n\nThe duplicate charge problem you reported is fixed.');
    // Values rendered by the workflow are data: a value that looks like the output is not filled.
    expect(composeReply(renderTemplate('About {{ issue.topic }}.', { 'issue.topic': '{{ customer.first_name | default: "x" }}' }), 'Ana')).toBe(
      'Hi Ana,\n\nAbout {{ customer.first_name | default: "x" }}.',
    );
  });
});

describe('customer.first_name through the Zendesk adapter', () => {
  let fake: FakeZendesk;
  beforeEach(async () => {
    fake = await startFakeZendesk();
    fake.state.users.set(501, { id: 501, name: 'Ana María López', email: 'ana@example.test', role: 'end-user' });
    fake.state.users.set(502, { id: 502, name: 'kim@example.test', email: 'kim@example.test', role: 'end-user' });
    fake.addTicket({ id: 44, requester_id: 501 });
    fake.addTicket({ id: 45, requester_id: 502 });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('each ticket gets the first name of its requester, or the fallback', async () => {
    const zd = createZendeskAdapter({ baseUrl: fake.url, auth: { kind: 'api_token', email: 'agent@example.test', apiToken: 'zd-test-token' } });
    const body = renderTemplate(REPLY, { 'issue.topic': 'Duplicate charge' });
    await zd.publicReply({ idempotencyKey: 'r-44', ticketId: 44, body });
    await zd.publicReply({ idempotencyKey: 'r-45', ticketId: 45, body });
    const last = (id: number) => fake.state.tickets.get(id)!.comments.at(-1)!;
    expect(last(44)).toMatchObject({ public: true, body: 'Hi Ana,\n\nThe duplicate charge problem you reported is fixed.' });
    expect(last(45)).toMatchObject({ public: true, body: 'Hi there,\n\nThe duplicate charge problem you reported is fixed.' });
    for (const id of [44, 45]) expect(last(id).body).not.toMatch(/[\uE000\uE001]|\{\{/);
  });
});

describe('customer.first_name in rehearsals (CLI, JSON, Slack preview)', () => {
  it('shows a readable placeholder with its fallback, never the hidden markers', async () => {
    const key = 'billing.00000000fa01';
    const state = initialIssueState({ key, category: 'billing', features: [], version: 'fp-1' });
    const at = Date.parse('2026-11-29T10:00:00Z');
    const occ = (i: number): TOccurrence => ({ feedbackId: `zendesk:${900 + i}`, ticketId: String(900 + i), source: 'zendesk', customerId: `cust-${i}`, tier: 'standard', severity: 'medium', confidence: 0.9, category: 'billing', at: new Date(at + i * 60_000).toISOString(), evidence: [], excerpt: `charged twice ${i}` });
    absorbOccurrences(state, [occ(1), occ(2), occ(3)]);
    const reply = playbook(`customerReply:\n  when: on_trigger\n  template: ${JSON.stringify(REPLY)}\n`);
    const audit = await createSqliteAuditStore(':memory:');
    try {
      const policy = await loadPolicyFile(path.resolve(import.meta.dirname, '../policies/default.v1.yaml'));
      const r = await rehearsePlaybook(audit, { issueWorkflowId: `issue:${key}`, fingerprint: key, state }, parsePlaybook(reply, 'demo.v1.yaml'), policy, at + 3_600_000);
      const step = r.round.steps.find((s) => s.stepId === 'customer-reply');
      expect(step?.rendered.body).toBe('Hi [first name, or "there"],\n\nThe billing problem you reported is fixed.');
      const greeting = 'Hi [first name, or "there"],';
      const inJson = JSON.stringify(greeting).slice(1, -1);
      const shown = [formatRehearsal(r), JSON.stringify(r), JSON.stringify(buildPreviewBlocks(r, 'customer-reply'))];
      expect(shown.map((text, i) => text.includes(i === 0 ? greeting : inJson))).toEqual([true, true, true]);
      for (const text of shown) expect(text).not.toMatch(/[\uE000\uE001]/);
    } finally {
      await audit.close();
    }
  });
});
