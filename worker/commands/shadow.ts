// `loopwright shadow`: replays past feedback (the audit store's masked messages, or an import file)
// through a changed taxonomy, policy or playbooks next to the configuration in force, with every side
// effect disabled, and reports what would be decided differently: as a table, --json, or an HTML page
// (--html; `loopwright report --shadow FILE.json` adds the same sections to the weekly report).
// With --fail-on it is a deployment gate: exit 3 when a condition is met.
// Must not: write to the audit store, reach Temporal, Jira, Slack, Zendesk or an LLM (it builds no
// client for any of them), or print unmasked text (file input is masked by the pipeline first).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openAuditStore, parseAuditUrl, type AuditStore } from '../../activities/audit/index.js';
import { parseGate, readAuditMessages, readFileMessages, readOnlyAudit, runShadow, type TGateCondition, type TReplayInput, type TShadowInputInfo } from '../../activities/shadow/index.js';
import { isLoopwrightError } from '../../workflows/domain/errors.js';
import { ZSourceId } from '../../workflows/domain/feedback.js';
import { formatShadowText, renderShadowPage } from '../report/shadow-section.js';
import { createPipelineCache, liveConfigFiles, loadShadowConfiguration, type TConfigFiles } from '../shadow-config.js';
import { DEFAULT_SOURCE, parseTimeArg, UsageError } from './args.js';
import { resolveAuditDbUrl } from './audit.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright shadow [--taxonomy T] [--policy FILE] [--playbooks DIR] [options]

Replay past feedback through a changed configuration (the candidate) next to the one in force (the
baseline) with every side effect disabled, and report the differences: messages reclassified
(from → to, with confidence), issues that would merge or split, triggers that would or would not
fire, policy verdicts that change and the actions that would or would not run.

candidate (each defaults to the baseline's):
  --taxonomy general|banking|PATH   taxonomy (the offline model is trained from it)
  --policy FILE                     policy YAML
  --playbooks DIR                   playbook directory
baseline (default: the worker's TAXONOMY, POLICY_FILE, PLAYBOOKS_DIR, else the bundled ones):
  --baseline-taxonomy T, --baseline-policy FILE, --baseline-playbooks DIR
input (default: the audit store):
  --db URL              audit store (default: $AUDIT_DB_URL, a postgres $DATABASE_URL, ./data/audit.sqlite)
  --input FILE          replay an import file (CSV/JSONL, as for import) instead of the audit store
  --from DATE, --to DATE  only messages customers wrote in [from, to) (date or timestamp)
  --source S            only messages from this source
output:
  --json                the report as JSON on stdout (for CI, and for report --shadow)
  --html FILE           also write the report as an HTML page
  --fail-on COND        exit 3 when COND holds; comma-separated or repeated. COND is METRIC (same
                        as METRIC>0) or METRIC>N, or reclassified>N% . Metrics: reclassified,
                        merges, splits, trigger-changes, new-triggers, lost-triggers,
                        verdict-changes, new-auto, auto-customer-facing, failed
  --tfidf               TF-IDF classifier only (faster; default: as the worker, with the encoder)
  --labeled FILE, --threshold N   as for classify (default: $LABELED_DATA, $CLASSIFIER_THRESHOLD)
exit status: 0 replayed and no gate condition met, 1 error, 2 usage error, 3 a gate condition met.
`;

export const GATE_EXIT = 3;

interface Options {
  candidate: Partial<TConfigFiles>;
  baseline: Partial<TConfigFiles>;
  db?: string;
  input?: string;
  from?: string;
  to?: string;
  source?: string;
  json: boolean;
  html?: string;
  gate: TGateCondition[];
  tfidf: boolean;
  labeled?: string;
  threshold?: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      strict: true,
      options: {
        taxonomy: { type: 'string' },
        policy: { type: 'string' },
        playbooks: { type: 'string' },
        'baseline-taxonomy': { type: 'string' },
        'baseline-policy': { type: 'string' },
        'baseline-playbooks': { type: 'string' },
        db: { type: 'string' },
        input: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        source: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
        'fail-on': { type: 'string', multiple: true },
        tfidf: { type: 'boolean', default: false },
        labeled: { type: 'string' },
        threshold: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) return 'help';
  if (v.source !== undefined && !ZSourceId.safeParse(v.source).success) throw new UsageError(`--source must be a lowercase slug, got "${v.source}"`);
  if (v.db && v.input) throw new UsageError('--db and --input are exclusive: replay the audit store or a file');
  const rawThreshold = v.threshold ?? (env.CLASSIFIER_THRESHOLD || undefined);
  const threshold = rawThreshold === undefined ? undefined : Number(rawThreshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new UsageError(`--threshold must be between 0 and 1, got "${rawThreshold}"`);
  let gate: TGateCondition[];
  try {
    gate = parseGate(v['fail-on'] ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const pick = <K extends keyof TConfigFiles>(k: K, value: string | undefined) => (value !== undefined ? { [k]: value } : {});
  const labeled = v.labeled ?? (env.LABELED_DATA || undefined);
  return {
    candidate: { ...pick('taxonomy', v.taxonomy), ...pick('policy', v.policy), ...pick('playbooks', v.playbooks) },
    baseline: { ...pick('taxonomy', v['baseline-taxonomy']), ...pick('policy', v['baseline-policy']), ...pick('playbooks', v['baseline-playbooks']) },
    ...(v.db !== undefined ? { db: v.db } : {}),
    ...(v.input !== undefined ? { input: v.input } : {}),
    ...(v.from !== undefined ? { from: parseTimeArg(v.from, '--from') } : {}),
    ...(v.to !== undefined ? { to: parseTimeArg(v.to, '--to', { endOfDay: true }) } : {}),
    ...(v.source !== undefined ? { source: v.source } : {}),
    json: v.json,
    ...(v.html !== undefined ? { html: v.html } : {}),
    gate,
    tfidf: v.tfidf,
    ...(labeled ? { labeled } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
  };
}

/** A URL safe to print: a postgres password is dropped. */
function displayUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export function createShadowCommand(openAudit: (url: string) => Promise<AuditStore> = (url) => openAuditStore(url), now: () => number = Date.now): CliCommand {
  return {
    name: 'shadow',
    summary: 'replay past feedback through a changed taxonomy, policy or playbooks; report and gate the differences',
    async run(argv: string[], io: CliIo) {
      let o: Options | 'help';
      try {
        o = parseOptions(argv, io.env);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        io.stderr.write(`loopwright shadow: ${e.message}\n\n${USAGE}`);
        return 2;
      }
      if (o === 'help') {
        io.stdout.write(USAGE);
        return 0;
      }
      try {
        const live = liveConfigFiles(io.env);
        const baselineFiles = { ...live, ...o.baseline };
        const candidateFiles = { ...baselineFiles, ...o.candidate };
        const window = { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), ...(o.source ? { source: o.source } : {}) };
        let input: TReplayInput;
        let info: TShadowInputInfo;
        if (o.input) {
          input = await readFileMessages(o.input, window, { source: DEFAULT_SOURCE, receivedAt: new Date(now()).toISOString() });
          info = { kind: 'file', ref: o.input, ...window, skipped: input.skipped.length };
        } else {
          const url = resolveAuditDbUrl(o.db, io.env);
          const target = parseAuditUrl(url);
          if (target.backend === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
            io.stderr.write(`loopwright shadow: no audit database at ${target.path} (set --db or AUDIT_DB_URL, or replay a file with --input)\n`);
            return 1;
          }
          const audit = readOnlyAudit(await openAudit(url));
          try {
            input = await readAuditMessages(audit, window);
          } finally {
            await audit.close();
          }
          info = { kind: 'audit', ref: displayUrl(url), ...window, skipped: input.skipped.length };
        }
        if (input.messages.length === 0) {
          io.stderr.write(`loopwright shadow: no messages to replay${info.skipped ? ` (${info.skipped} skipped)` : ''}\n`);
          return 1;
        }
        const pipelines = createPipelineCache({ tfidf: o.tfidf, ...(o.labeled ? { labeled: o.labeled } : {}), ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) });
        const [baseline, candidate] = await Promise.all([loadShadowConfiguration(baselineFiles, pipelines), loadShadowConfiguration(candidateFiles, pipelines)]);
        const report = await runShadow(input.messages, { baseline, candidate, input: info, gate: o.gate, now });
        if (o.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else io.stdout.write(formatShadowText(report));
        if (o.html) {
          await writeFile(o.html, renderShadowPage(report));
          io.stderr.write(`wrote ${o.html}\n`);
        }
        const failed = report.gate.filter((g) => g.failed);
        if (failed.length > 0) {
          io.stderr.write(`loopwright shadow: gate failed: ${failed.map((g) => `${g.condition} (${g.value})`).join('; ')}\n`);
          return GATE_EXIT;
        }
        return 0;
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright shadow: ${e.code}: ${e.message}\n`);
        return 1;
      }
    },
  };
}

export const command: CliCommand = createShadowCommand();
