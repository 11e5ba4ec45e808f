/**
 * The whole loop in one test process: an official Temporal server (the Java time-skipping test
 * server by default, `temporal server start-dev` on request, or TEMPORAL_ADDRESS), a real
 * SDK worker running Loopwright's real workflows and activities, a SQLite audit file, the offline
 * classifier, and real Jira/Slack/Zendesk adapters pointed at the local fakes.
 *
 *   const h = await createLoopHarness({ playbooks: [...], policy });
 *   await h.run(async () => { ... signal, query, env.sleep ... });
 *   await h.close();
 *
 * The workflow bundle is built once per test file. Every history a harness produced is replayed
 * by `replayAll()` so nondeterminism fails the test that caused it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { createActivities, issueWorkflowInput } from '../../activities/index.js';
import type { LoopwrightMetrics } from '../../worker/http/metrics.js';
import { createSqliteAuditStore, type AuditStore } from '../../activities/audit/index.js';
import { openGroupingStore, type GroupingStore } from '../../activities/grouping/index.js';
import { createJiraAdapter } from '../../activities/adapters/jira/jira-adapter.js';
import { createSlackAdapter } from '../../activities/adapters/slack/slack-adapter.js';
import { createZendeskAdapter } from '../../activities/adapters/zendesk/zendesk-adapter.js';
import { createFileContextSource } from '../../activities/context/file-source.js';
import { createTriagePipeline, type TriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { trainOfflineClassifier } from '../../activities/triage/offline-classifier.js';
import { parsePlaybook } from '../../playbooks/loader.js';
import type { TLoadedPlaybook } from '../../playbooks/schema.js';
import { loadPolicyFile, type TLoadedPolicy } from '../../policies/loader.js';
import { SA, FEEDBACK_WORKFLOW, ISSUE_WORKFLOW, issueWorkflowId, occurrenceSignal, type TApprover, type TOccurrence, type TIssueState } from '../../workflows/messages.js';
import { feedbackWorkflowId, type TFeedbackItemInput } from '../../workflows/domain/feedback.js';
import type { TFeedbackWorkflowResult } from '../../workflows/feedback.js';
import { createDecisionSubmitter, type TDecisionOutcome } from '../../worker/http/approvals.js';
import type { TIssueSettings, TIssueWorkflowInput } from '../../workflows/issue/state.js';
import type { TFingerprint } from '../../workflows/domain/triage.js';
import { startFakeJira, type FakeJira } from '../fakes/jira.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.js';
import { startFakeZendesk, type FakeZendesk } from '../fakes/zendesk.js';
import { createTestEnv, decodePayload, testDataConverter, uniqueTaskQueue } from './temporal-env.js';

const root = path.resolve(import.meta.dirname, '../..');
export const APPROVAL_SECRET = 'test-approval-secret-0123456789abcdef';
export const SLACK_CHANNELS = ['#app-incidents', '#billing-incidents', '#support-approvals', '#eng-oncall', '#billing-approvals', '#support-managers'];

// Worker lifecycle chatter drowns test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by another helper in this process.
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows/index.ts'), logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never });
  return bundle;
}

export interface HarnessOptions {
  playbooks?: TLoadedPlaybook[];
  /** undefined: the repository's default policy; null: no policy (fail closed). */
  policy?: TLoadedPolicy | null;
  settings?: Partial<TIssueSettings>;
  /** LOOPWRIGHT_PUBLIC_URL as the worker passes it: into every IssueWorkflow's input (the details' link back). */
  publicUrl?: string;
  contextFile?: string;
  /** Omit an integration to run its steps as dry runs. */
  without?: Array<'jira' | 'slack' | 'zendesk'>;
  /** Prometheus instruments the activities record into (as worker/main.ts wires them). */
  metrics?: LoopwrightMetrics;
  /** Triage pipeline (e.g. with the LLM cascade against the fake OpenAI); default: offline classifier. */
  pipeline?: TriagePipeline;
  /**
   * Grouping by meaning and emerging themes in routing (activities/grouping). Without a `store`, the
   * harness opens one on a SQLite file of its own (`groupingStore`), closed and removed with it.
   */
  grouping?: Omit<NonNullable<HarnessActivityConfig['grouping']>, 'store'> & { store?: GroupingStore };
  /**
   * Which official server: the Java time-skipping test server (default; `env.sleep` skips hours) or
   * `temporal server start-dev` (visibility queries, real limits; time passes for real).
   */
  server?: 'time-skipping' | 'dev-server';
  /** Dev server only: dynamic config values, e.g. lowered limits (`history.maximumSignalsPerExecution`). */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface LoopHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  auditPath: string;
  jira: FakeJira;
  slack: FakeSlack;
  zendesk: FakeZendesk;
  audit: AuditStore;
  /** The grouping store routing uses, when the harness groups by meaning. */
  groupingStore?: GroupingStore;
  issueInput(fp: TFingerprint): TIssueWorkflowInput;
  run<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs one message's FeedbackWorkflow to its end and returns its result; the same message again is
   * a re-delivery (its workflow id runs again, as a retried routing does).
   */
  deliver(item: TFeedbackItemInput): Promise<TFeedbackWorkflowResult>;
  /** Signal-with-start an occurrence at the environment's current (virtual) time. */
  report(fp: TFingerprint, occ: Partial<TOccurrence> & { feedbackId: string }): Promise<WorkflowHandle>;
  state(workflowId: string): Promise<TIssueState>;
  /** A human decision as the HTTP API and Slack submit it (shared eligibility check, Update, refusals audited). */
  decide(workflowId: string, stepId: string, decision: 'approve' | 'reject', approver: TApprover, reason?: string): Promise<TDecisionOutcome>;
  /**
   * The result of a workflow that is expected to finish by itself, read from its history. Unlike
   * `handle.result()` this never unlocks time skipping, so long-lived IssueWorkflows waiting on
   * timers are not fast-forwarded (which would, for example, close them as idle).
   */
  resultOf<T>(handle: WorkflowHandle): Promise<T>;
  /** Polls the state query until `pred` holds (time does not skip while polling). */
  waitFor(workflowId: string, pred: (s: TIssueState) => boolean, what: string): Promise<TIssueState>;
  /**
   * Waits until the workflow's audit trail holds an event of `kind`. Use it before `env.sleep`: the
   * event is written by the workflow's audit activity, so once it is there nothing is in flight.
   */
  waitForAudit(workflowId: string, kind: string, count?: number): Promise<void>;
  replayAll(): Promise<void>;
  /** Replays every history on this harness's task queue, then stops the fakes and the service. */
  close(): Promise<void>;
}

export function testPlaybook(yaml: string, name = 'test.v1.yaml'): TLoadedPlaybook {
  return parsePlaybook(yaml, name);
}

/** A severity page on any critical report, whatever the category: the shared fixture for composition and paging tests. */
export function severityPageTestPlaybook(): TLoadedPlaybook {
  return testPlaybook(`
id: sev-page
version: 1.0.0
description: Pages on any critical report, whatever the category.
match: { categories: "*", minSeverity: high }
trigger: { kind: severity, minSeverity: critical }
steps:
  - id: page
    action: { type: slack.post_message, channel: "#app-incidents", text: "PAGE {{ issue.fingerprint }} ({{ issue.severity }})" }
verification: { windowMinutes: 5, requiredDropRatio: 0.5, minBefore: 1 }
`);
}

/** A Jira bug once `threshold` crashes arrive within an hour: the volume playbook that composes with the severity page. */
export function crashVolumeTestPlaybook(threshold: number): TLoadedPlaybook {
  return testPlaybook(`
id: crash-volume
version: 1.0.0
description: A Jira bug once crashes pile up.
match: { categories: [app_crash], minSeverity: low, priority: 10 }
trigger: { kind: count, threshold: ${threshold}, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Crash {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);
}

/** A crash playbook of three steps (Jira bug, a Slack post quoting its key, Zendesk tags): compensation tests and recorded histories. */
export function crashThreeStepTestPlaybook(o: { id: string; description: string; threshold: number }): TLoadedPlaybook {
  return testPlaybook(`
id: ${o.id}
version: 1.0.0
description: ${o.description}
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: ${o.threshold}, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Crash {{ issue.fingerprint }}", description: "d", labels: [loopwright] }
  - id: notify
    action: { type: slack.post_message, channel: "#app-incidents", text: "Crash, see {{ steps.jira-bug.issueKey }}" }
  - id: tag
    action: { type: zendesk.add_tags, tags: [crash] }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 2 }
`);
}

/**
 * A crash playbook whose second step (jira.transition) the default policy never runs automatically:
 * the shared fixture for every approval test (workflow, Slack over HTTP, CLI).
 */
export function approvalTestPlaybook(): TLoadedPlaybook {
  return testPlaybook(`
id: approval-test
version: 1.0.0
description: A step that the default policy never runs automatically (jira.transition).
match: { categories: [app_crash], minSeverity: low }
trigger: { kind: count, threshold: 1, windowMinutes: 60 }
steps:
  - id: jira-bug
    action: { type: jira.create_issue, project: APP, summary: "Crash", description: "d", labels: [loopwright] }
  - id: start-work
    action: { type: jira.transition, issueKey: "{{ steps.jira-bug.issueKey }}", transition: In Progress }
verification: { windowMinutes: 60, requiredDropRatio: 0.5, minBefore: 1 }
`);
}

/** A chat message from one region and platform (eu-west, iPhone), written at `at`: what a burst in a segment is made of. */
export function segmentedItem(id: string, text: string, at: number): TFeedbackItemInput {
  return { source: 'api', externalId: id, text, receivedAt: new Date(at).toISOString(), channel: 'chat', customer: { id: `c-${id}`, tier: 'standard' }, metadata: { region: 'eu-west', platform: 'iPhone' } };
}

export function fingerprint(category: string, hex = 'abcdef012345'): TFingerprint {
  return { key: `${category}.${hex}`, category, features: [`category:${category}`], version: 'test' };
}

export interface HarnessActivityConfig {
  client: Client;
  taskQueue: string;
  audit: AuditStore;
  playbooks: TLoadedPlaybook[];
  policy: TLoadedPolicy | null;
  settings?: Partial<TIssueSettings> | undefined;
  urls: { jira: string; slackApi: string; zendesk: string };
  without?: Array<'jira' | 'slack' | 'zendesk'> | undefined;
  contextFile?: string | undefined;
  metrics?: LoopwrightMetrics | undefined;
  pipeline?: TriagePipeline | undefined;
  /** Grouping by meaning and themes (activities/grouping); absent: fingerprints only. */
  grouping?: Parameters<typeof createActivities>[0]['grouping'] | undefined;
  publicUrl?: string | undefined;
}

function defaultPipeline(): TriagePipeline {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  return createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });
}

/** The real activities with real adapters pointed at the fakes; also used by worker-process.ts. */
export function harnessActivities(c: HarnessActivityConfig) {
  const pipeline = c.pipeline ?? defaultPipeline();
  const without = new Set(c.without ?? []);
  return createActivities({
    pipeline,
    audit: c.audit,
    temporal: { client: c.client, taskQueue: c.taskQueue },
    issueConfig: () => ({ playbooks: c.playbooks, policy: c.policy, ...(c.settings ? { settings: c.settings } : {}) }),
    integrations: {
      ...(without.has('jira') ? {} : { jira: createJiraAdapter({ baseUrl: c.urls.jira, username: 'bot@example.test', apiToken: 'jira-api-token' }) }),
      ...(without.has('slack') ? {} : { slack: createSlackAdapter({ botToken: 'xoxb-test-token', apiUrl: c.urls.slackApi, approvalTokenSecret: APPROVAL_SECRET }) }),
      ...(without.has('zendesk') ? {} : { zendesk: createZendeskAdapter({ baseUrl: c.urls.zendesk, auth: { kind: 'api_token', email: 'agent@example.test', apiToken: 'zd-test-token' } }) }),
    },
    contextSources: c.contextFile ? [createFileContextSource(c.contextFile)] : [],
    identity: `test-worker-${process.pid}`,
    ...(c.metrics ? { metrics: c.metrics } : {}),
    ...(c.grouping ? { grouping: c.grouping } : {}),
    ...(c.publicUrl ? { links: { publicUrl: c.publicUrl } } : {}),
  });
}

export async function createLoopHarness(opts: HarnessOptions = {}): Promise<LoopHarness> {
  const env = await createTestEnv({ searchAttributes: Object.values(SA), server: opts.server ?? 'time-skipping', ...(opts.dynamicConfig ? { dynamicConfig: opts.dynamicConfig } : {}) });
  const taskQueue = uniqueTaskQueue('loop');
  const dir = mkdtempSync(path.join(tmpdir(), 'loopwright-harness-'));
  const audit = await createSqliteAuditStore(path.join(dir, 'audit.sqlite'));
  const [jira, slack, zendesk] = await Promise.all([startFakeJira(), startFakeSlack({ channels: SLACK_CHANNELS }), startFakeZendesk()]);
  const policy = opts.policy === undefined ? await loadPolicyFile(path.join(root, 'policies/default.v1.yaml')) : opts.policy;
  const playbooks = opts.playbooks ?? [];
  const ownStore = !!opts.grouping && !opts.grouping.store;
  const groupingStore = opts.grouping ? (opts.grouping.store ?? (await openGroupingStore(`sqlite:${path.join(dir, 'grouping.sqlite')}`))) : undefined;

  const activities = harnessActivities({
    client: env.client,
    taskQueue,
    audit,
    playbooks,
    policy,
    settings: opts.settings,
    urls: { jira: jira.url, slackApi: slack.apiUrl, zendesk: zendesk.url },
    without: opts.without,
    contextFile: opts.contextFile,
    metrics: opts.metrics,
    pipeline: opts.pipeline,
    grouping: opts.grouping && groupingStore ? { ...opts.grouping, store: groupingStore } : undefined,
    publicUrl: opts.publicUrl,
  });
  const workflowCode = await workflowBundle();
  // A worker runs once; each `run` gets a fresh one on the same task queue (like a restarted process).
  const newWorker = () => Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: workflowCode, activities, dataConverter: testDataConverter() });
  const handles = new Map<string, WorkflowHandle>();

  const h: LoopHarness = {
    env,
    taskQueue,
    auditPath: path.join(dir, 'audit.sqlite'),
    jira,
    slack,
    zendesk,
    audit,
    ...(groupingStore ? { groupingStore } : {}),
    issueInput: (fp) => issueWorkflowInput(fp, opts.settings, opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
    run: async (fn) => (await newWorker()).runUntil(fn),
    async deliver(item) {
      const handle = await env.client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item as { source: string; externalId: string }), taskQueue, args: [item] });
      return h.resultOf<TFeedbackWorkflowResult>(handle);
    },
    async report(fp, occ) {
      const at = new Date(await env.currentTimeMs()).toISOString();
      const full: TOccurrence = { source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: fp.category, at, evidence: [], excerpt: 'test report', ...occ };
      const handle = await env.client.workflow.signalWithStart(ISSUE_WORKFLOW, {
        workflowId: issueWorkflowId(fp.key),
        taskQueue,
        args: [h.issueInput(fp)],
        signal: occurrenceSignal,
        signalArgs: [full],
      });
      handles.set(handle.workflowId, handle);
      return handle;
    },
    state: (workflowId) => env.client.workflow.getHandle(workflowId).query<TIssueState>('state'),
    decide: (workflowId, stepId, decision, approver, reason) =>
      createDecisionSubmitter({ client: env.client, audit, policy, log: { warn() {} } }).submit({
        workflowId,
        stepId,
        decision,
        approver,
        ...(reason !== undefined ? { reason } : {}),
        via: 'api',
        attemptedAt: Date.now(),
      }),
    async waitFor(workflowId, pred, what) {
      let last: TIssueState | undefined;
      for (let i = 0; i < 600; i++) {
        last = await h.state(workflowId);
        if (pred(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      const timeline = await env.client.workflow.getHandle(workflowId).query('timeline').catch((e: unknown) => String(e));
      throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last)}; timeline: ${JSON.stringify(timeline)}`);
    },
    async resultOf<T>(handle: WorkflowHandle): Promise<T> {
      let events: Array<{ eventType?: unknown }> = [];
      for (let i = 0; i < 1200; i++) {
        const history = await handle.fetchHistory();
        events = history.events ?? [];
        const last = history.events?.at(-1);
        const done = last?.workflowExecutionCompletedEventAttributes;
        if (done) return decodePayload<T>(done.result!.payloads![0]!);
        if (last?.workflowExecutionFailedEventAttributes || last?.workflowExecutionTerminatedEventAttributes) {
          throw new Error(`${handle.workflowId} did not complete: ${JSON.stringify(last)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Say where it stands: the last events' types (a pending activity, a task never picked up, …).
      const tail = events.slice(-8).map((e) => String(e.eventType));
      throw new Error(`timed out waiting for ${handle.workflowId} to complete; last events: ${tail.join(', ')}`);
    },
    async waitForAudit(workflowId, kind, count = 1) {
      for (let i = 0; i < 600; i++) {
        if ((await audit.trail(workflowId)).filter((e) => e.kind === kind).length >= count) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for audit event ${kind} x${count} on ${workflowId}`);
    },
    async replayAll() {
      // Every workflow of this harness audits (triage, issue opened), so the audit store names them
      // all; the time-skipping server has no visibility list to ask instead.
      const ids = new Set<string>(handles.keys());
      for (let afterSeq = 0; ; ) {
        const page = await audit.search({ afterSeq, limit: 10_000 });
        page.forEach((e) => ids.add(e.workflowId));
        if (page.length < 10_000) break;
        afterSeq = page.at(-1)!.seq;
      }
      for (const id of ids) {
        // Refused commands are audited under the id they named, which may be no workflow at all.
        const history = await env.client.workflow
          .getHandle(id)
          .fetchHistory()
          .catch((e: unknown) => {
            if (e instanceof WorkflowNotFoundError || (e as { code?: number }).code === 5 /* gRPC NOT_FOUND */) return null;
            throw e;
          });
        if (!history) continue;
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter() }, history, id);
      }
    },
    async close() {
      // Every history a test produced must replay: nondeterminism fails the suite that caused it.
      try {
        await h.replayAll();
      } finally {
        await Promise.allSettled([jira.close(), slack.close(), zendesk.close()]);
        await audit.close();
        if (ownStore) await groupingStore?.close();
        await env.teardown();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return h;
}
