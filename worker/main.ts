// `npm start`: the whole of Loopwright in one process on embedded defaults — the Temporal worker
// (our workflows and activities), the HTTP service, and, with --demo, an import of the bundled
// sample of real customer messages. Configuration comes from the environment (worker/config.ts).
// Production runs the same entry point per container (docker-compose.yml) with TEMPORAL_ADDRESS
// and DATABASE_URL set, and scales by adding workers.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { createActivities } from '../activities/index.js';
import { readFeedbackFile } from '../activities/triage/input-files.js';
import { DEFAULT_BURST, DEFAULT_RELEASE_FOLD, DEFAULT_SURGE } from '../activities/grouping/assign.js';
import { feedbackWorkflowId } from '../workflows/domain/feedback.js';
import { FEEDBACK_WORKFLOW, ISSUE_WORKFLOW, SA } from '../workflows/messages.js';
import type { TFeedbackWorkflowResult } from '../workflows/feedback.js';
import { isLoopwrightError } from '../workflows/domain/errors.js';
import { countDemo, formatDemoSummary } from './demo-summary.js';
import { createHttpApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { buildServices } from './bootstrap.js';
import { describeConfig, parseConfig, PROJECT_ROOT } from './config.js';
import { obtainTemporal, openIssuesUrl } from './temporal.js';
import { createDataConverter, EncryptionCodec, resolvePayloadKeyring } from './data-converter.js';
import { portInUse } from './temporal-process.js';
import { createLogger, installTemporalRuntime } from './logging.js';
import { issueTaskQueueOf, loopwrightWorkerOptions, type TWorkerRole } from './worker-options.js';
import { cachedWorkflowBundle, defaultBundleCache } from './workflow-bundle-cache.js';

// One JSON line per event on stderr (worker/logging.ts); LOG_LEVEL picks the level.
const logger = createLogger('loopwright');
const log = (line: string) => logger.info(line);

/** A local API token so the intake API is never open; kept in data/ (0600), printed only as a path. */
function localApiToken(): { token: string; file: string } {
  const dir = path.join(PROJECT_ROOT, 'data');
  const file = path.join(dir, 'api-token');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { token: readFileSync(file, 'utf8').trim(), file };
}

async function main(argv: string[]): Promise<void> {
  const demo = argv.includes('--demo');
  // all: worker + HTTP (local); worker: workers plus /healthz and /metrics; http: the API only.
  const role = process.env.LOOPWRIGHT_ROLE ?? 'all';
  if (!['all', 'worker', 'http'].includes(role)) throw new Error(`LOOPWRIGHT_ROLE must be all, worker or http, not "${role}"`);
  const exitAfterDemo = argv.includes('--exit');

  const config = parseConfig();
  // The SDK's and the core's logs through the same logger; the runtime's metrics on loopback, merged into /metrics.
  const runtimeMetrics = role !== 'http' ? config.runtimeMetricsAddress : null;
  installTemporalRuntime(logger, runtimeMetrics ? { metricsAddress: runtimeMetrics } : {});
  let tokenFile: string | null = null;
  if (config.http.apiTokens.length === 0) {
    const local = localApiToken();
    config.http.apiTokens = [local.token];
    tokenFile = local.file;
  }
  describeConfig(config).forEach(log);
  if (demo && role !== 'all') throw new Error('--demo needs LOOPWRIGHT_ROLE=all (worker and HTTP in one process)');

  // Everything this process starts is stopped on every way out: an error, SIGINT, SIGTERM, or a
  // child (the Temporal dev server) dying. Cleanups run in reverse order of start.
  const cleanups: Array<() => Promise<unknown>> = [];
  let stopping: Promise<never> | null = null;
  const stop = (code: number, why?: string): Promise<never> => {
    stopping ??= (async () => {
      if (why) log(why);
      log('shutting down');
      for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`shutdown: ${(e as Error).message}`));
      process.exit(code);
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop(130));
  process.once('SIGTERM', () => void stop(143));
  // SIGHUP retrains the classifier from the taxonomy and the labeled data (the review loop).
  let onHangup: (() => Promise<void>) | null = null;
  process.on('SIGHUP', () => void onHangup?.().catch((e: unknown) => log(`reload failed, the previous model keeps serving: ${(e as Error).message}`)));

  try {
    // Validated before any server starts: configuration (above), taxonomy, policy, playbooks,
    // the audit store, and the HTTP port.
    const services = await buildServices(config);
    cleanups.push(() => services.close());
    services.notices.forEach(log);
    onHangup = async () => {
      const r = await services.pipeline.reload();
      await services.audit.append({ workflowId: 'system:model', eventKey: `reloaded:${r.modelVersion}:${new Date().toISOString()}`, actor: { type: 'system', id: 'sighup' }, kind: 'model_reloaded', payload: r });
      log(`triage: retrained ${r.previousModelVersion} → ${r.modelVersion} (${r.labeledExamples} labeled examples)`);
    };
    if (config.http.port !== 0 && (await portInUse(config.http.port, config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host))) {
      throw new Error(`HTTP_PORT ${config.http.port} is already in use by another process; stop it or set HTTP_PORT`);
    }

    // Every payload this process sends to Temporal (workflow inputs, results, signals, Updates,
    // queries, activity arguments) is encrypted; the key itself never reaches a log.
    const payloadKeys = resolvePayloadKeyring(config.payloadKeys);
    log(`payloads: ${payloadKeys.describe}`);
    const dataConverter = createDataConverter(payloadKeys.keyring);
    // The local dev server's Web UI decodes through this process's codec endpoint (authenticated).
    const codecUrl = role !== 'worker' && config.http.port !== 0 ? `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}/codec` : undefined;
    const temporal = await obtainTemporal(config.temporal, log, { dataConverter, ...(codecUrl ? { uiCodecEndpoint: codecUrl } : {}) });
    cleanups.push(() => temporal.close());
    void temporal.serverExited.then((why) => stop(1, why));
    // Two workers on two task queues: the per-message FeedbackWorkflow gets a light bundle (the SDK
    // re-evaluates a bundle per new workflow), the long-lived IssueWorkflows the full one.
    const issueTaskQueue = issueTaskQueueOf(config.temporal.taskQueue);
    const uiUrl = config.temporal.uiUrl ?? temporal.uiUrl;
    const metrics = createMetrics({
      ...(runtimeMetrics ? { runtimeMetricsUrl: `http://${runtimeMetrics}/metrics` } : {}),
      countPendingApprovals: async () => (await temporal.client.workflow.count(`WorkflowType = '${ISSUE_WORKFLOW}' AND ${SA.status.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`)).count,
    });
    const noFold = config.grouping.fold ? {} : { fold: null };
    const adopt = config.grouping.adopt ? {} : { adopt: null };
    const activities = createActivities({
      metrics,
      pipeline: services.pipeline,
      ...(services.outcome ? { outcome: services.outcome } : {}),
      audit: services.audit,
      grouping: {
        store: services.grouping,
        ...(services.encoder ? { encoder: services.encoder } : {}),
        ...(config.grouping.issueThreshold !== undefined ? { issueThreshold: config.grouping.issueThreshold } : {}),
        ...(config.grouping.themeThreshold !== undefined ? { themeThreshold: config.grouping.themeThreshold } : {}),
        linkage: config.grouping.linkage,
        // The shipped rules, each with its merge after the fact unless GROUPING_FOLD=off, and the burst's
        // adoption of needs_review reports unless GROUPING_ADOPT=off; null turns the burst rule off.
        burst: config.grouping.burst ? { ...DEFAULT_BURST, ...noFold, ...adopt } : null,
        ...(config.grouping.surge ? { surge: { ...DEFAULT_SURGE, ...noFold } } : {}),
        ...(config.grouping.releaseFold ? { releaseFold: DEFAULT_RELEASE_FOLD } : {}),
      },
      temporal: { client: temporal.client, taskQueue: config.temporal.taskQueue, issueTaskQueue },
      issueConfig: () => ({ playbooks: services.playbooks, policy: services.policy }),
      integrations: services.integrations,
      contextSources: services.contextSources,
      identity: services.identity,
      links: {
        ...(uiUrl ? { temporalUi: { url: uiUrl, namespace: config.temporal.namespace } } : {}),
        ...(config.zendesk ? { zendeskUrl: config.zendesk.baseUrl } : {}),
        // Into every IssueWorkflow's input: its current details in the Temporal UI link back here.
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      },
    });
    // Task queues, bundle entries and Worker Deployment Versioning (PINNED / AUTO_UPGRADE): worker/worker-options.ts;
    // the bundles are built once per source state and reused (worker/workflow-bundle-cache.ts).
    const bundleCache = defaultBundleCache(log);
    const createWorker = async (workerRole: TWorkerRole) => {
      const { workflowsPath, ...options } = loopwrightWorkerOptions(config.temporal, workerRole);
      const t0 = Date.now();
      const bundle = await cachedWorkflowBundle(workflowsPath!, bundleCache);
      log(`workflow bundle ${workerRole}: ${bundle.cached ? 'reused' : `built in ${((Date.now() - t0) / 1000).toFixed(1)} s`} (${path.relative(PROJECT_ROOT, bundle.file)})`);
      return Worker.create({ connection: temporal.nativeConnection, namespace: config.temporal.namespace, activities, dataConverter, ...options, workflowBundle: { code: bundle.code } });
    };
    const workers = role === 'http' ? [] : await Promise.all([createWorker('feedback'), createWorker('issue')]);
    const running = Promise.all(workers.map((w) => w.run()));
    cleanups.push(async () => {
      workers.forEach((w) => w.shutdown());
      await running.catch(() => undefined);
    });
    void running.catch((e: unknown) => stop(1, `worker failed: ${(e as Error).message}`));
    const http = await createHttpApp({
      temporal: { client: temporal.client, taskQueue: config.temporal.taskQueue },
      pipeline: services.pipeline,
      ...(services.outcome ? { outcome: services.outcome } : {}),
      audit: services.audit,
      policy: services.policy,
      playbooks: services.playbooks,
      metrics,
      ...(services.integrations.slack ? { slack: services.integrations.slack } : {}),
      ...(uiUrl ? { links: { temporalUi: { url: uiUrl, namespace: config.temporal.namespace } } } : {}),
      config: {
        apiTokens: config.http.apiTokens,
        ...(config.http.metricsToken ? { metricsToken: config.http.metricsToken } : {}),
        // A worker serves health and metrics only; intake and webhooks belong to the http role.
        surface: role === 'worker' ? 'ops' : 'all',
        ...(config.slackSigningSecret ? { slackSigningSecret: config.slackSigningSecret } : {}),
        ...(config.approvalTokenSecret ? { approvalTokenSecret: config.approvalTokenSecret } : {}),
        ...(config.zendeskWebhookSecret ? { zendeskWebhookSecret: config.zendeskWebhookSecret } : {}),
      },
      brain: {
        grouping: services.grouping,
        taxonomy: services.currentTaxonomy,
        taxonomySource: config.triage.taxonomy,
        labeledFile: services.labeledFile,
        ...(services.encoder ? { encoder: services.encoder } : {}),
        reload: () => services.pipeline.reload(),
      },
      // The codec endpoint (POST /codec/decode, /codec/encode) for the Temporal UI and CLI: API
      // tokens authenticate; only the configured UI origins (and the local UI) get CORS.
      codec: {
        codec: new EncryptionCodec(payloadKeys.keyring),
        allowedOrigins: [...new Set([...config.codecOrigins, ...(temporal.uiUrl ? [new URL(temporal.uiUrl).origin] : [])])],
        namespaces: [config.temporal.namespace],
      },
      // Per-request lines only at debug: at info a burst of intake would be one log line per message.
      logger: logger.child({ component: 'http' }, { level: logger.level === 'info' ? 'warn' : logger.level }),
    });
    cleanups.push(() => http.close());
    const address = await http.listen({ host: config.http.host, port: config.http.port });
    log(`http: listening on ${address}${tokenFile ? ` (bearer token in ${tokenFile})` : ''}`);
    if (temporal.uiUrl && codecUrl) {
      log(`temporal UI: payloads are encrypted; to read them there, sign in at ${codecUrl}/session with an API token, then in the UI's codec server settings turn on "Include cross-origin credentials" (overriding the remote codec configuration)`);
    }

    if (demo) {
      await runDemo(temporal.client, config.temporal.taskQueue, services, temporal.uiUrl ? openIssuesUrl(temporal.uiUrl, config.temporal.namespace) : null, address);
      if (exitAfterDemo) await stop(0);
    }
    await running;
  } catch (e) {
    log(isLoopwrightError(e) ? `${e.code}: ${e.message}` : `fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await stop(1);
  }
}

async function runDemo(
  client: Client,
  taskQueue: string,
  services: Awaited<ReturnType<typeof buildServices>>,
  /** A Temporal UI link to the running IssueWorkflows, when this process started the UI. */
  uiUrl: string | null,
  httpAddress: string,
): Promise<void> {
  const file = path.join(PROJECT_ROOT, 'samples', 'feedback-sample.jsonl');
  const rows = await readFeedbackFile(file, { defaultSource: 'demo', defaultReceivedAt: new Date().toISOString() });
  const started = performance.now();
  const handles = [];
  let duplicates = 0;
  for (const row of rows) {
    const item = row.item;
    if (!item) continue;
    try {
      handles.push(await client.workflow.start(FEEDBACK_WORKFLOW, { workflowId: feedbackWorkflowId(item), taskQueue, args: [item], workflowIdReusePolicy: 'REJECT_DUPLICATE' }));
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) duplicates++;
      else throw e;
    }
  }
  const results = (await Promise.all(handles.map((h) => h.result()))) as TFeedbackWorkflowResult[];
  const seconds = (performance.now() - started) / 1000;
  const counts = countDemo(results);
  // Give issue workflows a moment to act on what their triggers saw.
  await new Promise((r) => setTimeout(r, 3_000));
  const verdicts = await services.audit.search({ kind: 'policy_verdict', limit: 10_000 });
  const verify = await services.audit.verify();
  const themes = (await services.grouping.groups('theme')).length;
  const out = [
    '',
    ...formatDemoSummary(counts, { seconds, duplicates, themes, verdicts: verdicts.length, auditOk: verify.ok }),
    '',
    'Where to look:',
    uiUrl ? `  open issues (UI)      ${uiUrl}` : '  Temporal UI           (your cluster\'s UI; this process did not start one)',
    `  HTTP API              ${httpAddress}  (POST /v1/feedback, /v1/classify; GET /metrics)`,
    '  open issues           npm run cli -- status',
    '  one audit trail       npm run cli -- audit show <workflowId>',
    '  weekly report         npm run cli -- report --out report.html',
    '',
  ];
  process.stdout.write(out.join('\n'));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (isLoopwrightError(e)) logger.fatal({ code: e.code }, e.message);
  else logger.fatal({ error: e instanceof Error ? { type: e.name, message: e.message, stack: e.stack } : String(e) }, 'fatal');
  process.exit(1);
});
