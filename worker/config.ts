// Process configuration, parsed once at start-up from the environment with zod. Missing or invalid
// settings fail fast naming the variable. Secrets come from VAR or VAR_FILE (a mounted secret),
// never from code, and are never logged: `describeConfig` prints only what is safe.
import { parseApiToken } from './http/auth.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LoopwrightError, formatIssues } from '../workflows/domain/errors.js';
import { temporalTargetFromEnv } from './temporal-connection.js';
import type { PayloadKeySettings } from './data-converter.js';

/** The repository root, from the sources (worker/) and from the compiled tree (dist/worker/) alike. */
export const PROJECT_ROOT = ((up: string) => (path.basename(up) === 'dist' ? path.dirname(up) : up))(path.resolve(import.meta.dirname, '..'));

const ZUrl = z.url();
const optional = <T extends z.ZodType>(t: T) => t.optional();

const ZEnv = z.object({
  TEMPORAL_ADDRESS: optional(z.string().regex(/^[\w.-]+:\d+$/, 'host:port')),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('loopwright'),
  /** Worker Deployment Versioning: both set turns it on (deployment name + this build's id). */
  LOOPWRIGHT_DEPLOYMENT_NAME: optional(z.string().min(1).max(255)),
  LOOPWRIGHT_BUILD_ID: optional(z.string().min(1).max(255)),
  /** The local Temporal dev server started when no cluster is configured: its port, UI port (0: no UI) and state file. */
  TEMPORAL_LOCAL_PORT: z.coerce.number().int().min(1).max(65_535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65_535).default(8233),
  /** The Temporal Web UI people open (approval messages and the issues API link to it); the local dev server's UI when unset. */
  TEMPORAL_UI_URL: optional(ZUrl),
  TEMPORAL_DB_FILE: z.string().min(1).default(path.join(PROJECT_ROOT, 'data', 'temporal.sqlite')),

  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')),
  AUDIT_DB_URL: z.string().min(1).default(`sqlite:${path.join(PROJECT_ROOT, 'data', 'audit.sqlite')}`),
  /** Audit HMAC keyring `id:secret[,id:secret…]` (first signs); or AUDIT_HMAC_KEY_FILE. See activities/audit/keyring.ts. */
  AUDIT_HMAC_KEY: optional(z.string().min(1)),
  /** Append-only file of signed chain-head checkpoints; default `<sqlite file>.checkpoints.jsonl` (else data/audit-checkpoints.jsonl). */
  AUDIT_CHECKPOINT_FILE: optional(z.string().min(1)),
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
  /**
   * Temporal payload encryption keys `id:base64[,id:base64…]`, oldest first, the last encrypts (or
   * LOOPWRIGHT_PAYLOAD_KEYS_FILE). Required with a cluster; a local dev server gets a key file beside
   * its state. See worker/data-converter.ts.
   */
  LOOPWRIGHT_PAYLOAD_KEYS: optional(z.string().min(1)),
  /**
   * Browser origins of Temporal UIs allowed to call the codec endpoint (/codec/decode), comma-separated,
   * e.g. https://temporal.example.com. The local dev server's UI is added when this process starts it.
   */
  LOOPWRIGHT_CODEC_ORIGINS: z.string().default(''),
  /**
   * The address people reach this HTTP service at (e.g. https://loopwright.example.com): issues'
   * current details in the Temporal UI link back to GET /v1/issues/:id under it. Unset: no link.
   */
  LOOPWRIGHT_PUBLIC_URL: optional(ZUrl.regex(/^https?:\/\/[^\s?#()<>]+$/, 'an http(s) base URL without query or fragment')),

  TAXONOMY: z.string().min(1).default('general'),
  LABELED_DATA: optional(z.string().min(1)),
  CLASSIFIER_THRESHOLD: optional(z.coerce.number().min(0).max(1)),
  /** Cosine similarity a fragment needs to join an open issue / a theme (activities/grouping/assign.ts defaults). */
  GROUPING_ISSUE_THRESHOLD: optional(z.coerce.number().min(-1).max(1)),
  GROUPING_THEME_THRESHOLD: optional(z.coerce.number().min(-1).max(1)),
  /** How an issue is compared with a fragment outside a burst: its centroid (default) or its nearest members. */
  GROUPING_LINKAGE: z.enum(['centroid', 'nearest']).default('centroid'),
  /** The segment burst rule (activities/grouping/assign.ts rule 2); `off` groups by fingerprint, evidence and meaning only. */
  GROUPING_BURST: z.enum(['on', 'off']).default('on'),
  /** Rule 4, a surge of reports that match no issue gathered in one issue (assign.ts DEFAULT_SURGE); on by default since session 9 (docs/benchmarks.md). */
  GROUPING_SURGE: z.enum(['on', 'off']).default('on'),
  /** The merge after the fact (assign.ts TBurstRule.fold, TSurgeRule.fold; shipped in DEFAULT_BURST/DEFAULT_SURGE since grp-5): routing merges the folded IssueWorkflows. `off` drops both folds. */
  GROUPING_FOLD: z.enum(['on', 'off']).default('on'),
  /** Adoption (assign.ts TBurstRule.adopt, DEFAULT_ADOPT): a burst takes the needs_review reports its run-up left in themes, and routing delivers them to its issue. `off` drops it. */
  GROUPING_ADOPT: z.enum(['on', 'off']).default('on'),
  /** A release's merge after the fact (assign.ts GroupingOptions.releaseFold, DEFAULT_RELEASE_FOLD): off by default, it failed the detection bench's release gate (docs/benchmarks.md, session 11). */
  GROUPING_RELEASE_FOLD: z.enum(['on', 'off']).default('off'),
  /** Resolution-outcome model file (loopwright train-outcome); default models/outcome/model.json when present. */
  OUTCOME_MODEL: optional(z.string().min(1)),
  PLAYBOOKS_DIR: z.string().min(1).default(path.join(PROJECT_ROOT, 'playbooks')),
  POLICY_FILE: z.string().min(1).default(path.join(PROJECT_ROOT, 'policies', 'default.v1.yaml')),
  /** Comma-separated files or http(s) URLs listing deploys, incidents, flags and known issues. */
  CONTEXT_SOURCES: z.string().default(''),
  CONTEXT_TOKEN: optional(z.string().min(1)),

  LLM_PROVIDER: z.enum(['none', 'openai']).default('none'),
  OPENAI_BASE_URL: ZUrl.default('https://api.openai.com/v1'),
  OPENAI_API_KEY: optional(z.string().min(1)),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_CASCADE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.6),
  LLM_TOKEN_BUDGET_PER_HOUR: z.coerce.number().int().positive().default(200_000),

  JIRA_BASE_URL: optional(ZUrl),
  JIRA_USERNAME: optional(z.string().min(1)),
  JIRA_API_TOKEN: optional(z.string().min(1)),
  JIRA_API_VERSION: z.enum(['2', '3']).default('2'),

  SLACK_BOT_TOKEN: optional(z.string().min(1)),
  SLACK_API_URL: optional(ZUrl),
  SLACK_SIGNING_SECRET: optional(z.string().min(1)),
  APPROVAL_TOKEN_SECRET: optional(z.string().min(32, 'at least 32 characters')),

  ZENDESK_BASE_URL: optional(ZUrl),
  ZENDESK_EMAIL: optional(z.string().min(3)),
  ZENDESK_API_TOKEN: optional(z.string().min(1)),
  ZENDESK_WEBHOOK_SECRET: optional(z.string().min(1)),

  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Comma-separated bearer tokens accepted by the API; `U…:Name:TOKEN` binds a token to an approver. */
  API_TOKENS: z.string().default(''),
  /** When set, GET /metrics requires this bearer token (or METRICS_TOKEN_FILE). */
  METRICS_TOKEN: optional(z.string().min(16, 'at least 16 characters')),
  /** host:port where the Temporal runtime serves its own Prometheus metrics (merged into /metrics); empty: off. */
  TEMPORAL_RUNTIME_METRICS: z.union([z.literal(''), z.string().regex(/^[\w.-]+:\d+$/, 'host:port')]).default('127.0.0.1:9464'),
  /** trace, debug, info, warn, error, fatal or silent: pino JSON logs on stderr. */
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type TConfig = ReturnType<typeof parseConfig>;

const SECRET_VARS = [
  'OPENAI_API_KEY',
  'JIRA_API_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'APPROVAL_TOKEN_SECRET',
  'ZENDESK_API_TOKEN',
  'ZENDESK_WEBHOOK_SECRET',
  'API_TOKENS',
  'CONTEXT_TOKEN',
  'DATABASE_URL',
  'AUDIT_HMAC_KEY',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'METRICS_TOKEN',
  'LOOPWRIGHT_PAYLOAD_KEYS',
] as const;

/** Resolves `X_FILE` into `X` for every secret, so containers can mount secrets as files. */
function withSecretFiles(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARS) {
    const file = env[`${name}_FILE`];
    if (file && !env[name]) {
      try {
        out[name] = readFileSync(file, 'utf8').trim();
      } catch (e) {
        throw new LoopwrightError('invalid_config', `${name}_FILE: cannot read ${file}: ${(e as Error).message}`);
      }
    }
  }
  for (const [k, v] of Object.entries(out)) if (v === '') out[k] = undefined;
  return out;
}

export function parseConfig(env: NodeJS.ProcessEnv = process.env) {
  const resolved = withSecretFiles(env);
  const parsed = ZEnv.safeParse(resolved);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `invalid environment: ${formatIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const need = (group: string, vars: Array<keyof typeof e>) => {
    const set = vars.filter((v) => e[v] !== undefined);
    if (set.length > 0 && set.length < vars.length) {
      const missing = vars.filter((v) => e[v] === undefined);
      throw new LoopwrightError('invalid_config', `${group} is partly configured: set ${missing.join(', ')} too (or unset ${set.join(', ')})`);
    }
    return set.length === vars.length;
  };
  const jira = need('Jira', ['JIRA_BASE_URL', 'JIRA_USERNAME', 'JIRA_API_TOKEN']);
  const slack = need('Slack', ['SLACK_BOT_TOKEN', 'APPROVAL_TOKEN_SECRET']);
  const zendesk = need('Zendesk', ['ZENDESK_BASE_URL', 'ZENDESK_EMAIL', 'ZENDESK_API_TOKEN']);
  if (e.LLM_PROVIDER === 'openai' && !e.OPENAI_API_KEY) {
    throw new LoopwrightError('invalid_config', 'LLM_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_API_KEY_FILE); local servers accept any value');
  }
  const auditUrl = e.DATABASE_URL ?? e.AUDIT_DB_URL;
  if (/^postgres(ql)?:\/\//i.test(auditUrl) && !e.AUDIT_HMAC_KEY) {
    throw new LoopwrightError('invalid_config', 'a PostgreSQL audit store needs AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE): every worker must sign audit events with the same managed key');
  }
  const target = temporalTargetFromEnv(resolved);
  const dbFile = path.resolve(e.TEMPORAL_DB_FILE);
  return {
    payloadKeys: { spec: e.LOOPWRIGHT_PAYLOAD_KEYS, localDir: target ? null : path.dirname(dbFile) } satisfies PayloadKeySettings,
    publicUrl: e.LOOPWRIGHT_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    codecOrigins: e.LOOPWRIGHT_CODEC_ORIGINS.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean),
    auditTrust: auditTrustSettings(auditUrl, e.AUDIT_HMAC_KEY, e.AUDIT_CHECKPOINT_FILE, e.AUDIT_CHECKPOINT_INTERVAL_MS),
    temporal: {
      // A cluster (address, TLS/mTLS, API key) through the SDK's envconfig; null: a local dev server.
      target,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      local: { ip: '127.0.0.1', port: e.TEMPORAL_LOCAL_PORT, uiPort: e.TEMPORAL_UI_PORT || null, dbFile },
      uiUrl: e.TEMPORAL_UI_URL ?? null,
      deployment: e.LOOPWRIGHT_DEPLOYMENT_NAME && e.LOOPWRIGHT_BUILD_ID ? { deploymentName: e.LOOPWRIGHT_DEPLOYMENT_NAME, buildId: e.LOOPWRIGHT_BUILD_ID } : null,
    },
    auditUrl,
    grouping: {
      issueThreshold: e.GROUPING_ISSUE_THRESHOLD,
      themeThreshold: e.GROUPING_THEME_THRESHOLD,
      linkage: e.GROUPING_LINKAGE,
      burst: e.GROUPING_BURST === 'on',
      surge: e.GROUPING_SURGE === 'on',
      fold: e.GROUPING_FOLD === 'on',
      adopt: e.GROUPING_ADOPT === 'on',
      releaseFold: e.GROUPING_RELEASE_FOLD === 'on',
    },
    triage: { taxonomy: e.TAXONOMY, labeledData: e.LABELED_DATA, threshold: e.CLASSIFIER_THRESHOLD, outcomeModel: e.OUTCOME_MODEL },
    playbooksDir: e.PLAYBOOKS_DIR,
    policyFile: e.POLICY_FILE,
    contextSources: e.CONTEXT_SOURCES.split(',').map((s) => s.trim()).filter(Boolean),
    contextToken: e.CONTEXT_TOKEN,
    llm:
      e.LLM_PROVIDER === 'openai'
        ? { baseUrl: e.OPENAI_BASE_URL, apiKey: e.OPENAI_API_KEY as string, model: e.OPENAI_MODEL, cascadeThreshold: e.LLM_CASCADE_THRESHOLD, tokenBudgetPerHour: e.LLM_TOKEN_BUDGET_PER_HOUR }
        : null,
    jira: jira ? { baseUrl: e.JIRA_BASE_URL as string, username: e.JIRA_USERNAME as string, apiToken: e.JIRA_API_TOKEN as string, apiVersion: e.JIRA_API_VERSION } : null,
    slack: slack ? { botToken: e.SLACK_BOT_TOKEN as string, apiUrl: e.SLACK_API_URL, approvalTokenSecret: e.APPROVAL_TOKEN_SECRET as string } : null,
    slackSigningSecret: e.SLACK_SIGNING_SECRET,
    approvalTokenSecret: e.APPROVAL_TOKEN_SECRET,
    zendesk: zendesk ? { baseUrl: e.ZENDESK_BASE_URL as string, email: e.ZENDESK_EMAIL as string, apiToken: e.ZENDESK_API_TOKEN as string } : null,
    zendeskWebhookSecret: e.ZENDESK_WEBHOOK_SECRET,
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT, apiTokens: e.API_TOKENS.split(',').map((s) => s.trim()).filter(Boolean).map(parseApiToken), metricsToken: e.METRICS_TOKEN },
    logLevel: e.LOG_LEVEL,
    runtimeMetricsAddress: e.TEMPORAL_RUNTIME_METRICS || null,
  };
}

export interface TAuditTrustSettings {
  /** The keyring spec from AUDIT_HMAC_KEY / AUDIT_HMAC_KEY_FILE, if given. */
  hmacKey: string | undefined;
  /** Where a local key is kept (and created on first start) when no key is given; null: a key is required. */
  localKeyFile: string | null;
  checkpointFile: string;
  checkpointIntervalMs: number;
}

/**
 * Where the audit key and checkpoints live. A SQLite store gets a local key file and checkpoint
 * file beside its database (created on first start, 0600) so an out-of-the-box install is keyed;
 * a PostgreSQL store is shared by many workers, which must all sign with one managed key, so
 * there AUDIT_HMAC_KEY (or _FILE) is required. Also used by the CLI to verify.
 */
export function auditTrustSettings(auditUrl: string, hmacKey: string | undefined, checkpointFile: string | undefined, intervalMs = 5_000): TAuditTrustSettings {
  const sqlite = /^postgres(ql)?:\/\//i.test(auditUrl.trim()) ? null : auditUrl.trim().replace(/^sqlite:(\/\/)?/i, '');
  const dir = sqlite && sqlite !== ':memory:' ? path.dirname(path.resolve(sqlite)) : path.join(PROJECT_ROOT, 'data');
  return {
    hmacKey,
    localKeyFile: sqlite ? path.join(dir, 'audit-hmac.key') : null,
    // One checkpoint file per database: checkpoints name their store, and another store's are an error.
    checkpointFile: checkpointFile ?? (sqlite && sqlite !== ':memory:' ? `${path.resolve(sqlite)}.checkpoints.jsonl` : path.join(dir, 'audit-checkpoints.jsonl')),
    checkpointIntervalMs: intervalMs,
  };
}

/** A one-screen, secret-free summary for the start-up log. */
export function describeConfig(c: TConfig): string[] {
  const on = (x: unknown) => (x ? 'configured' : 'not configured (its steps run as dry runs)');
  return [
    `temporal:  ${c.temporal.target ? c.temporal.target.describe : `local dev server on port ${c.temporal.local.port}, state in ${c.temporal.local.dbFile}`} (task queue ${c.temporal.taskQueue})`,
    `audit:     ${c.auditUrl.startsWith('postgres') ? 'PostgreSQL' : c.auditUrl}; HMAC key ${c.auditTrust.hmacKey ? 'from AUDIT_HMAC_KEY' : `file ${c.auditTrust.localKeyFile}`}; checkpoints ${c.auditTrust.checkpointFile}`,
    `payloads:  ${c.payloadKeys.spec ? 'AES-256-GCM with LOOPWRIGHT_PAYLOAD_KEYS' : c.payloadKeys.localDir ? `AES-256-GCM with the local key file in ${c.payloadKeys.localDir}` : 'LOOPWRIGHT_PAYLOAD_KEYS required (cluster)'}`,
    `taxonomy:  ${c.triage.taxonomy}; classifier: ${c.llm ? `offline → ${c.llm.model} cascade below ${c.llm.cascadeThreshold}` : 'offline'}`,
    `playbooks: ${c.playbooksDir}; policy: ${c.policyFile}`,
    `jira:      ${on(c.jira)}; slack: ${on(c.slack)}; zendesk: ${on(c.zendesk)}`,
    `http:      http://${c.http.host}:${c.http.port} (${c.http.apiTokens.length} API token(s))${c.publicUrl ? `; the Temporal UI links back to ${c.publicUrl}` : ''}`,
  ];
}
