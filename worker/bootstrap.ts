// Builds, once per process, everything the worker and the HTTP service share: the audit store, the
// triage pipeline (offline classifier, or the LLM cascade when configured), playbooks and policy,
// the integration adapters and the context sources. Pure wiring: no business logic lives here.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createFileCheckpointSink, loadOrCreateKeyFile, openAuditStore, parseKeyring, type AuditStore } from '../activities/audit/index.js';
import { createJiraAdapter } from '../activities/adapters/jira/jira-adapter.js';
import { createSlackAdapter } from '../activities/adapters/slack/slack-adapter.js';
import { createZendeskAdapter } from '../activities/adapters/zendesk/zendesk-adapter.js';
import { createOpenAiClassifier } from '../activities/adapters/llm/openai-classifier.js';
import { createCascadeClassifier } from '../activities/adapters/llm/cascade-classifier.js';
import { validateContextSources } from '../activities/context/activities.js';
import { createFileContextSource } from '../activities/context/file-source.js';
import { createHttpContextSource } from '../activities/context/http-source.js';
import type { ContextSource } from '../activities/context/ports.js';
import type { TIntegrations } from '../activities/actions.js';
import { createTriagePipeline, type TriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { buildTriageBrain, brainDeps } from '../activities/triage/brain.js';
import { loadOutcomePredictor, type OutcomePredictor } from '../activities/outcome/predictor.js';
import { readLabeledFile } from '../activities/triage/labeled-data.js';
import type { Classifier, SentenceEncoder } from '../activities/triage/ports.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import type { TLoadedPlaybook } from '../playbooks/schema.js';
import { loadPolicyFile, type TLoadedPolicy } from '../policies/loader.js';
import type { TTaxonomy } from '../workflows/domain/taxonomy.js';
import { PROJECT_ROOT, type TConfig } from './config.js';
import { createReloadablePipeline, type ReloadablePipeline } from './brain/reloadable-pipeline.js';
import { groupingUrlFor, openGroupingStore, type GroupingStore } from '../activities/grouping/index.js';

export interface Services {
  audit: AuditStore;
  taxonomy: TTaxonomy;
  /** Rebuilt in place by `pipeline.reload()` (review loop: labels → next model version). */
  pipeline: ReloadablePipeline;
  /** The taxonomy the pipeline runs now (a reload re-reads TAXONOMY). */
  currentTaxonomy: () => TTaxonomy;
  /** Where reviewers' labels are appended and read from at start-up and reload. */
  labeledFile: string;
  /** The offline sentence encoder (models/ present), for grouping by meaning and themes. */
  encoder?: SentenceEncoder;
  /** Issue centroids and emerging themes (beside the audit store: activities/grouping/store.ts). */
  grouping: GroupingStore;
  /** The resolution-outcome model (models/outcome/model.json or OUTCOME_MODEL), when there is one. */
  outcome?: OutcomePredictor;
  /** Start-up notices to print (e.g. which classifier runs and why). */
  notices: string[];
  playbooks: TLoadedPlaybook[];
  policy: TLoadedPolicy;
  integrations: TIntegrations;
  contextSources: ContextSource[];
  /** Actor id of the events this process's activities append: stable across processes and restarts. */
  identity: string;
  /** This process (host:pid): audit metadata outside the hashed event and its identity. */
  origin: string;
  close(): Promise<void>;
}

/**
 * The actor of worker-side audit events. It is deliberately NOT the process (host:pid): an event's
 * identity must not change when an activity is retried on another worker or a demo is re-run, or
 * the store would see a conflict instead of a duplicate. The process goes into `origin`.
 */
export const WORKER_ACTOR_ID = 'loopwright-worker';

function loadTaxonomy(name: string): TTaxonomy {
  return loadTaxonomyFile(name === 'general' || name === 'banking' ? bundledTaxonomyPath(name) : name);
}

/** Where reviewers' labels go when LABELED_DATA is not set (read at start-up when it exists). */
export function defaultLabeledFile(): string {
  return path.join(PROJECT_ROOT, 'data', 'labeled.jsonl');
}

/** The labeled-data file of a configuration: LABELED_DATA, else data/labeled.jsonl. */
export function labeledFileOf(config: Pick<TConfig, 'triage'>): string {
  return config.triage.labeledData ?? defaultLabeledFile();
}

export async function buildServices(config: TConfig): Promise<Services> {
  const labeledFile = labeledFileOf(config);
  const build = async (): Promise<{ pipeline: TriagePipeline; labeledExamples: number; encoder?: SentenceEncoder; notice: string; taxonomy: TTaxonomy }> => {
    const taxonomy = loadTaxonomy(config.triage.taxonomy);
    // An explicit LABELED_DATA must exist; the default file only once a reviewer wrote to it.
    const labeled = config.triage.labeledData || existsSync(labeledFile) ? readLabeledFile(labeledFile) : [];
    const brain = await buildTriageBrain(taxonomy, {
      ...(labeled.length > 0 ? { extraExamples: labeled } : {}),
      ...(config.triage.threshold !== undefined ? { threshold: config.triage.threshold } : {}),
    });
    const offline = brain.classifier;
    let classifier: Classifier = offline;
    if (config.llm) {
      const llm = createOpenAiClassifier({ baseUrl: config.llm.baseUrl, apiKey: config.llm.apiKey, model: config.llm.model }, taxonomy);
      classifier = createCascadeClassifier({ offline, llm, threshold: config.llm.cascadeThreshold, tokenBudgetPerHour: config.llm.tokenBudgetPerHour });
    }
    // Clauses of multi-issue messages stay on the offline model: one LLM call per sentence is waste.
    const pipeline = createTriagePipeline({ taxonomy, classifier, clauseClassifier: offline, ...brainDeps(brain) });
    return { pipeline, labeledExamples: labeled.length, ...(brain.encoder ? { encoder: brain.encoder } : {}), notice: brain.notice, taxonomy };
  };
  const first = await build();
  const taxonomy = first.taxonomy;
  let current = taxonomy;
  const pipeline = createReloadablePipeline(first.pipeline, async () => {
    const next = await build();
    current = next.taxonomy;
    return next;
  });
  // Shares the first brain's encoder, whose cache already holds the text triage just embedded.
  const outcome = loadOutcomePredictor(first.encoder, config.triage.outcomeModel);

  // Loading fails loudly with file, line and field; a bad playbook or policy never half-applies.
  const playbooks = await loadPlaybookDir(config.playbooksDir);
  const policy = await loadPolicyFile(config.policyFile);

  const integrations: TIntegrations = {
    ...(config.jira ? { jira: createJiraAdapter(config.jira) } : {}),
    ...(config.slack ? { slack: createSlackAdapter({ botToken: config.slack.botToken, approvalTokenSecret: config.slack.approvalTokenSecret, ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}) }) } : {}),
    ...(config.zendesk ? { zendesk: createZendeskAdapter({ baseUrl: config.zendesk.baseUrl, auth: { kind: 'api_token', email: config.zendesk.email, apiToken: config.zendesk.apiToken } }) } : {}),
  };
  const contextSources = config.contextSources.map((s) =>
    /^https?:\/\//.test(s)
      ? createHttpContextSource({ url: s, fetch, ...(config.contextToken ? { token: config.contextToken } : {}) })
      : createFileContextSource(s),
  );
  // A bad context file fails the start with file, line and field (CONTEXT_SOURCES).
  await validateContextSources(contextSources);
  const trust = config.auditTrust;
  const keyring = trust.hmacKey ? parseKeyring(trust.hmacKey, 'AUDIT_HMAC_KEY') : loadOrCreateKeyFile(trust.localKeyFile ?? '').keyring;
  const origin = `${hostname()}:${process.pid}`;
  const audit = await openAuditStore(config.auditUrl, {
    trust: { keyring, origin, checkpoints: { sink: createFileCheckpointSink(trust.checkpointFile), intervalMs: trust.checkpointIntervalMs } },
  });
  const grouping = await openGroupingStore(groupingUrlFor(config.auditUrl));
  return {
    audit,
    grouping,
    taxonomy,
    pipeline,
    labeledFile,
    currentTaxonomy: () => current,
    ...(first.encoder ? { encoder: first.encoder } : {}),
    ...(outcome.predictor ? { outcome: outcome.predictor } : {}),
    notices: [first.notice, ...(first.labeledExamples ? [`triage: ${first.labeledExamples} labeled example(s) from ${labeledFile}`] : []), outcome.notice],
    playbooks,
    policy,
    integrations,
    contextSources,
    identity: WORKER_ACTOR_ID,
    origin,
    close: async () => {
      await grouping.close();
      await audit.close();
    },
  };
}
