// `loopwright audit show|verify|export`: read the audit trail and prove it untouched. The CLI only
// parses arguments, opens the store named by --db / AUDIT_DB_URL / DATABASE_URL and prints; all
// hashing and checking lives in activities/audit. It never writes events; `checkpoint` writes one
// signed checkpoint of the chain heads to the checkpoint file (for a cron job beside idle workers).
// Keys: AUDIT_HMAC_KEY / AUDIT_HMAC_KEY_FILE, else the local key file beside a SQLite database.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import {
  AUDIT_KINDS,
  createFileCheckpointSink,
  openAuditStore,
  parseAuditUrl,
  parseKeyring,
  type AuditKeyring,
  type AuditStore,
  type AuditTrustOptions,
  type TAuditEvent,
  type TAuditKind,
} from '../../activities/audit/index.js';
import { auditTrustSettings } from '../config.js';
import { parseTimeArg, UsageError } from './args.js';
import type { CliCommand, CliIo } from './types.js';

export const DEFAULT_AUDIT_DB = './data/audit.sqlite';

const USAGE = `usage:
  loopwright audit show <workflowId> [--json]        a workflow's trail in chain order
  loopwright audit verify [workflowId]                check HMAC chains and signed checkpoints; exit 1 on the first broken link
  loopwright audit checkpoint                         write a signed checkpoint of the chain heads now
  loopwright audit export [--kind K[,K]] [--from T] [--to T] [--workflow W] [--actor A] [--limit N]
                                                      JSON lines on stdout
options:
  --db URL   sqlite:/path/file.db, a plain path, or postgres://…
             (default: $AUDIT_DB_URL, else $DATABASE_URL if it is postgres, else ${DEFAULT_AUDIT_DB})
  --from T, --to T     a date (2026-11-29: --to includes that day) or a timestamp (2026-11-29T14:00:00Z)
  --checkpoints FILE   signed checkpoint file (default: $AUDIT_CHECKPOINT_FILE, else beside a SQLite database)
  key: $AUDIT_HMAC_KEY or $AUDIT_HMAC_KEY_FILE, else audit-hmac.key beside a SQLite database
`;


/** --db wins, then AUDIT_DB_URL, then a postgres DATABASE_URL (other apps' SQLite URLs are not ours). */
export function resolveAuditDbUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  if (env.AUDIT_DB_URL) return env.AUDIT_DB_URL;
  if (env.DATABASE_URL && /^postgres(ql)?:\/\//i.test(env.DATABASE_URL)) return env.DATABASE_URL;
  return DEFAULT_AUDIT_DB;
}

function describeActor(e: TAuditEvent): string {
  return e.actor.type === 'user' ? `${e.actor.displayName} (${e.actor.id})` : `${e.actor.type}:${e.actor.id}`;
}

function summarize(e: TAuditEvent, width: number): string {
  const s = JSON.stringify(e.payload);
  return s.length > width ? `${s.slice(0, Math.max(0, width - 1))}…` : s;
}

function parseKinds(values: string[] | undefined): TAuditKind[] | undefined {
  if (!values?.length) return undefined;
  const kinds = values.flatMap((v) => v.split(',')).map((k) => k.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !(AUDIT_KINDS as readonly string[]).includes(k));
  if (bad.length) throw new UsageError(`unknown kind ${bad.map((k) => `"${k}"`).join(', ')} (kinds: ${AUDIT_KINDS.join(', ')})`);
  return kinds as TAuditKind[];
}

/** The keyring and checkpoint file for a database, as the worker resolves them; never creates a key. */
export function resolveAuditTrust(url: string, env: NodeJS.ProcessEnv, checkpointsFlag?: string): AuditTrustOptions {
  let spec = env.AUDIT_HMAC_KEY;
  let where = 'AUDIT_HMAC_KEY';
  if (!spec && env.AUDIT_HMAC_KEY_FILE) {
    where = `AUDIT_HMAC_KEY_FILE ${env.AUDIT_HMAC_KEY_FILE}`;
    try {
      spec = readFileSync(env.AUDIT_HMAC_KEY_FILE, 'utf8');
    } catch (e) {
      throw new LoopwrightError('invalid_config', `${where}: cannot read it (${(e as Error).message})`);
    }
  }
  const settings = auditTrustSettings(url, spec, checkpointsFlag ?? env.AUDIT_CHECKPOINT_FILE);
  if (!spec && settings.localKeyFile && existsSync(settings.localKeyFile)) {
    where = `audit key file ${settings.localKeyFile}`;
    spec = readFileSync(settings.localKeyFile, 'utf8');
  }
  const keyring: AuditKeyring | undefined = spec ? parseKeyring(spec, where) : undefined;
  return { ...(keyring ? { keyring } : {}), checkpoints: { sink: createFileCheckpointSink(settings.checkpointFile) } };
}

async function openForReading(url: string, env: NodeJS.ProcessEnv, checkpointsFlag?: string): Promise<AuditStore> {
  const target = parseAuditUrl(url);
  // Reading must not conjure an empty database out of a typo in the path.
  if (target.backend === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    throw new UsageError(`no audit database at ${target.path} (set --db or AUDIT_DB_URL)`);
  }
  return openAuditStore(url, { trust: resolveAuditTrust(url, env, checkpointsFlag) });
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === 'help' || sub === '--help' || sub === '-h') {
    io.stdout.write(USAGE);
    return sub ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
      kind: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      workflow: { type: 'string' },
      actor: { type: 'string' },
      limit: { type: 'string' },
      checkpoints: { type: 'string' },
    },
  });
  const url = resolveAuditDbUrl(values.db, io.env);

  if (sub === 'show') {
    const [workflowId, ...extra] = positionals;
    if (!workflowId || extra.length) throw new UsageError('audit show takes exactly one workflow id');
    const store = await openForReading(url, io.env, values.checkpoints);
    try {
      const trail = await store.trail(workflowId);
      if (trail.length === 0) {
        io.stderr.write(`audit: no events for workflow ${workflowId}\n`);
        return 1;
      }
      if (values.json) {
        for (const e of trail) io.stdout.write(`${JSON.stringify(e)}\n`);
        return 0;
      }
      io.stdout.write(`workflow ${workflowId}: ${trail.length} events\n`);
      const width = Math.max(40, (io.stdout.columns ?? 160) - 90);
      for (const e of trail) {
        io.stdout.write(
          `${String(e.workflowSeq).padStart(4)}  ${e.at}  ${e.kind.padEnd(19)} ${describeActor(e).padEnd(28)} ${summarize(e, width)}  [seq ${e.seq} ${e.hash.slice(0, 12)}]\n`,
        );
      }
      return 0;
    } finally {
      await store.close();
    }
  }

  if (sub === 'verify') {
    const [workflowId, ...extra] = positionals;
    if (extra.length) throw new UsageError('audit verify takes at most one workflow id');
    const store = await openForReading(url, io.env, values.checkpoints);
    try {
      const started = performance.now();
      const report = await store.verify(workflowId);
      const secs = (performance.now() - started) / 1000;
      if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
      if (workflowId !== undefined && report.checkedEvents === 0 && report.ok) {
        // An empty chain verifies trivially; for an operator it is almost always a mistyped id.
        io.stderr.write(`audit: no events for workflow ${workflowId}\n`);
        return 1;
      }
      if (!report.ok && report.firstBroken) {
        const b = report.firstBroken;
        io.stderr.write(
          `audit: TAMPERED: ${b.reason} in workflow ${b.workflowId}${b.seq === null ? '' : ` at seq ${b.seq} (event #${b.workflowSeq})`}: ${b.message}\n`,
        );
        return 1;
      }
      if (!values.json) {
        const scope = workflowId === undefined ? `${report.checkedWorkflows} workflows` : `workflow ${workflowId}`;
        const how = `${report.keyed ? 'HMAC-keyed' : 'UNKEYED (legacy SHA-256 only: forgeable by anyone with database access)'}, ${report.checkpoints ?? 0} signed checkpoint(s)`;
        io.stdout.write(`ok: ${report.checkedEvents} events in ${scope} verified in ${secs.toFixed(2)} s (${how})\n`);
      }
      return 0;
    } finally {
      await store.close();
    }
  }

  if (sub === 'checkpoint') {
    if (positionals.length) throw new UsageError('audit checkpoint takes no positional arguments');
    const store = await openForReading(url, io.env, values.checkpoints);
    try {
      const cp = await store.checkpoint();
      if (!cp) {
        io.stderr.write('audit: no checkpoint written (no key, or nothing appended since the last one)\n');
        return 1;
      }
      io.stdout.write(`checkpoint: ${cp.lastSeq} events, ${cp.heads.length} head(s), signed with ${cp.keyId} at ${cp.at}\n`);
      return 0;
    } finally {
      await store.close();
    }
  }

  if (sub === 'export') {
    if (positionals.length) throw new UsageError('audit export takes no positional arguments (filter with --workflow, --kind, --from, --to, --actor)');
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new UsageError('--limit must be a positive integer');
    const kinds = parseKinds(values.kind);
    const store = await openForReading(url, io.env, values.checkpoints);
    try {
      const n = await store.exportJsonl(io.stdout, {
        kind: kinds,
        from: values.from === undefined ? undefined : parseTimeArg(values.from, '--from'),
        to: values.to === undefined ? undefined : parseTimeArg(values.to, '--to', { endOfDay: true }),
        workflowId: values.workflow,
        actorId: values.actor,
        limit,
      });
      io.stderr.write(`audit: exported ${n} events\n`);
      return 0;
    } finally {
      await store.close();
    }
  }

  throw new UsageError(`unknown subcommand "${sub}"`);
}

export const command: CliCommand = {
  name: 'audit',
  summary: 'show a workflow’s audit trail, verify hash chains, export JSONL',
  async run(argv, io) {
    try {
      return await run(argv, io);
    } catch (err) {
      if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
        io.stderr.write(`audit: ${err.message}\n${USAGE}`);
        return 2;
      }
      if (isLoopwrightError(err)) {
        io.stderr.write(`audit: ${err.code}: ${err.message}\n`);
        return err.code === 'invalid_input' ? 2 : 1;
      }
      throw err;
    }
  },
};
