// The canaries through the whole loop: every canary message is triaged on Temporal by the real
// activities with the OpenAI classifier (every message asks the fake OpenAI), routed to IssueWorkflows
// whose playbook creates a Jira issue, posts to Slack, notes the Zendesk tickets and asks for an
// approval (a Slack message carrying the excerpt, evidence and hypotheses). Afterwards no request
// any fake received, and no event in the audit store, may hold a canary in clear.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiClassifier } from '../activities/adapters/llm/openai-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { feedbackWorkflowId, type TFeedbackItem } from '../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW } from '../workflows/messages.js';
import { startFakeOpenAi, type FakeOpenAi } from './fakes/openai.js';
import { createLoopHarness, testPlaybook, type LoopHarness } from './helpers/loop-harness.js';
import { canaries, leakedIn } from './helpers/pii-corpus.js';

const playbook = testPlaybook(`
id: canary-outbound
version: 1.0.0
description: Every kind of step that sends text out of the loop.
match: { categories: "*", minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Report {{ issue.category }}", description: "Issue {{ issue.workflowId }}; likely cause {{ issue.hypothesis }}", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "{{ issue.category }} ({{ issue.severity }}): {{ issue.hypothesis }}" }
  - id: note
    action: { type: zendesk.internal_note, body: "Tracked in {{ steps.jira-bug.issueKey }}: {{ issue.hypothesis }}" }
  - id: start-work
    action: { type: jira.transition, issueKey: "{{ steps.jira-bug.issueKey }}", transition: In Progress }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);

let openai: FakeOpenAi;
let h: LoopHarness;

beforeAll(async () => {
  openai = await startFakeOpenAi({ apiKey: 'sk-test-key', models: ['gpt-4o-mini'] });
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const offline = trainOfflineClassifier(taxonomy);
  const llm = createOpenAiClassifier({ baseUrl: openai.baseURL, apiKey: 'sk-test-key', model: 'gpt-4o-mini' }, taxonomy);
  // The LLM classifies every whole message (clauses stay offline, as in production), so every
  // message's masked text is sent to the fake OpenAI.
  h = await createLoopHarness({ playbooks: [playbook], pipeline: createTriagePipeline({ taxonomy, classifier: llm, clauseClassifier: offline }) });
});

afterAll(async () => {
  await h?.close();
  await openai?.close();
});

async function quiet(counts: () => number, ms = 2_500, max = 90_000): Promise<void> {
  const start = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - start < max) {
    const n = counts();
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= ms) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('PII canaries through the loop', () => {
  it('reach no LLM request, no audit event and no Jira, Slack or Zendesk request in clear', async () => {
    // The fake model answers with a spread of categories, so the canaries land in several issues
    // and their playbooks run (a needs_review answer would not be routed at all).
    const categories = ['billing', 'refund', 'delivery', 'login_access', 'account_security', 'app_crash', 'payment_failure', 'privacy_data'];
    openai.enqueue(...canaries.map((_, i) => ({ content: JSON.stringify({ category: categories[i % categories.length], confidence: 0.93, alternatives: [] }) })));
    const items: TFeedbackItem[] = canaries.map((c, i) => {
      h.zendesk.addTicket({ id: 5000 + i });
      return {
        source: 'zendesk',
        externalId: String(5000 + i),
        text: c.text,
        receivedAt: new Date().toISOString(),
        channel: 'email',
        customer: { id: `cust-${i}`, tier: 'premium' },
      } as TFeedbackItem;
    });
    await h.run(async () => {
      // Started together, awaited by history: 47 concurrent result() calls each unlock and re-lock the Java
      // server's time skipping, and that race tripped its "Unbalanced lock and unlock calls" error once in CI.
      const handles = await Promise.all(
        items.map((item) =>
          h.env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item), taskQueue: h.taskQueue, args: [item], retry: { maximumAttempts: 1 } }),
        ),
      );
      for (const handle of handles) await h.resultOf(handle);
      // IssueWorkflows run their playbooks after the feedback workflows finish: wait until the fakes go quiet.
      await quiet(() => h.jira.requests.length + h.slack.requests.length + h.zendesk.requests.length);
    });

    // Every message went to the LLM, and something went out to every system.
    expect(openai.requests.filter((r) => r.path.endsWith('/chat/completions')).length).toBeGreaterThanOrEqual(canaries.length);
    expect(h.jira.requests.filter((r) => r.method === 'POST').length).toBeGreaterThan(0);
    expect(h.slack.requests.filter((r) => r.path.includes('chat.postMessage')).length).toBeGreaterThan(0);
    expect(h.zendesk.requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length).toBeGreaterThan(0);

    const llmBodies = JSON.stringify(openai.requests.map((r) => r.body));
    expect(leakedIn(llmBodies)).toEqual([]);
    expect(llmBodies).toContain('[CARD_1]');
    expect(openai.state.script).toHaveLength(0);
    for (const [name, fake] of [
      ['jira', h.jira],
      ['slack', h.slack],
      ['zendesk', h.zendesk],
    ] as const) {
      expect({ name, leaked: leakedIn(JSON.stringify(fake.requests.map((r) => ({ path: r.path, query: r.query, body: r.body })))) }).toEqual({ name, leaked: [] });
    }
    // The approval request carried customer text (the excerpt), masked.
    expect(JSON.stringify(h.slack.requests.map((r) => r.body))).toMatch(/\[(?:CARD|EMAIL|PHONE|IBAN|SECRET|NATIONAL_ID|ADDRESS|IP)_1\]/);

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const n = await h.audit.exportJsonl(sink);
    expect(n).toBeGreaterThan(canaries.length * 3);
    const audit = lines.join('');
    expect(audit).toContain('maskedText');
    expect(leakedIn(audit)).toEqual([]);
    // 47 messages through triage, the LLM and several playbooks on the Java server: about 40 s on a
    // quiet two-core machine, so the default 60 s left no room on a busy CI runner.
  }, 240_000);
});
