// Builds, once per process, everything the worker and the HTTP service share: the audit store, the
// triage pipeline (offline classifier, or the LLM cascade when configured), playbooks and policy,
// the integration adapters and the context sources. Pure wiring: no business logic lives here.
import { hostname } from 'node:os';
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
import { buildTriageBrain } from '../activities/triage/brain.js';
import { readLabeledFile } from '../activities/triage/labeled-data.js';
import type { Classifier, SentenceEncoder } from '../activities/triage/ports.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import type { TLoadedPlaybook } from '../playbooks/schema.js';
import { loadPolicyFile, type TLoadedPolicy } from '../policies/loader.js';
import type { TTaxonomy } from '../workflows/domain/taxonomy.js';
import type { TConfig } from './config.js';

export interface Services {
  audit: AuditStore;
  taxonomy: TTaxonomy;
  pipeline: TriagePipeline;
  /** The offline sentence encoder (models/ present), for grouping by meaning and themes. */
  encoder?: SentenceEncoder;
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

export async function buildServices(config: TConfig): Promise<Services> {
  const taxonomy = loadTaxonomy(config.triage.taxonomy);
  const brain = await buildTriageBrain(taxonomy, {
    ...(config.triage.labeledData ? { extraExamples: readLabeledFile(config.triage.labeledData) } : {}),
    ...(config.triage.threshold !== undefined ? { threshold: config.triage.threshold } : {}),
  });
  const offline = brain.classifier;
  let classifier: Classifier = offline;
  if (config.llm) {
    const llm = createOpenAiClassifier({ baseUrl: config.llm.baseUrl, apiKey: config.llm.apiKey, model: config.llm.model }, taxonomy);
    classifier = createCascadeClassifier({ offline, llm, threshold: config.llm.cascadeThreshold, tokenBudgetPerHour: config.llm.tokenBudgetPerHour });
  }
  // Clauses of multi-issue messages stay on the offline model: one LLM call per sentence is waste.
  const pipeline = createTriagePipeline({ taxonomy, classifier, clauseClassifier: offline });

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
  return {
    audit,
    taxonomy,
    pipeline,
    ...(brain.encoder ? { encoder: brain.encoder } : {}),
    notices: [brain.notice],
    playbooks,
    policy,
    integrations,
    contextSources,
    identity: WORKER_ACTOR_ID,
    origin,
    close: () => audit.close(),
  };
}
