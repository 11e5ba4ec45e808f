// `loopwright approve <issueWorkflowId> <stepId> [--reason R]`: approval outside Slack, through the
// authenticated HTTP API (POST /v1/issues/:id/steps/:step/decision). The approver is whoever the
// API token is bound to (API_TOKENS entry `U…:Name:TOKEN`): there is no way to name someone else.
// The API applies the same eligibility rule as Slack and the workflow's Update validator, audits
// refusals, and answers with what the workflow recorded, which this command prints.
// Also exports what `reject`, `import` and `status` share: the Temporal connection from the
// environment through the one connection parser (worker/temporal-connection.ts: TEMPORAL_ADDRESS,
// default localhost:7233 — the local `npm start` dev server; TEMPORAL_NAMESPACE, TLS, API key;
// TEMPORAL_TASK_QUEUE) with the payload codec every Loopwright client uses (worker/data-converter.ts).
// Must not: exit 0 when nothing was recorded.
import type { Client } from '@temporalio/client';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config.js';
import { createDataConverter, payloadKeysFromEnv, resolvePayloadKeyring } from '../data-converter.js';
import { connectClient, temporalTargetFromEnv } from '../temporal-connection.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import type { TDecisionResult } from '../../workflows/messages.js';
import { CLI_USER_AGENT, type CliCommand, type CliIo } from './types.js';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TASK_QUEUE = 'loopwright';

export interface TemporalSession {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

export type ConnectTemporal = (env: NodeJS.ProcessEnv) => Promise<TemporalSession>;

/**
 * The payload keys of a CLI run: LOOPWRIGHT_PAYLOAD_KEYS(_FILE), else the local dev server's key file
 * (beside TEMPORAL_DB_FILE, as `npm start` keeps it) when the target is that server (no
 * TEMPORAL_ADDRESS) or the file exists; else an error naming the variable: starting workflows with a
 * key the workers do not hold would leave them unreadable.
 */
export function cliPayloadKeyring(env: NodeJS.ProcessEnv) {
  const fromEnv = payloadKeysFromEnv(env);
  if (fromEnv) return fromEnv;
  const localDir = path.dirname(path.resolve(env['TEMPORAL_DB_FILE'] || path.join(PROJECT_ROOT, 'data', 'temporal.sqlite')));
  const local = !env['TEMPORAL_ADDRESS'] || existsSync(path.join(localDir, 'payload-keys'));
  return resolvePayloadKeyring({ spec: undefined, localDir: local ? localDir : null }).keyring;
}

/** Connects with TEMPORAL_ADDRESS (TLS, API key) / TEMPORAL_NAMESPACE / TEMPORAL_TASK_QUEUE; fails with the address it tried. */
export const connectTemporalFromEnv: ConnectTemporal = async (env) => {
  const target = temporalTargetFromEnv(env) ?? {
    address: DEFAULT_TEMPORAL_ADDRESS,
    namespace: env['TEMPORAL_NAMESPACE'] || 'default',
    describe: DEFAULT_TEMPORAL_ADDRESS,
    connectionOptions: { address: DEFAULT_TEMPORAL_ADDRESS },
  };
  const dataConverter = createDataConverter(cliPayloadKeyring(env));
  const connected = await connectClient(target, dataConverter).catch((e: unknown) => {
    throw new LoopwrightError('upstream_unavailable', `${(e as Error).message} (set TEMPORAL_ADDRESS)`, { cause: e });
  });
  return { client: connected.client, taskQueue: env['TEMPORAL_TASK_QUEUE'] || DEFAULT_TASK_QUEUE, close: () => connected.close() };
};

class UsageError extends Error {}

export const DEFAULT_API_URL = 'http://localhost:8080';

const usage = (kind: 'approve' | 'reject'): string => `usage: loopwright ${kind} <issueWorkflowId> <stepId> [--reason TEXT]

${kind === 'approve' ? 'Approve' : 'Reject'} a pending approval step outside Slack, as the person your API token is bound
to. The service checks that you belong to the step's approver group (or an earlier group of its
escalation chain), refuses and audits anyone else, and prints what the workflow recorded.

options:
  --reason TEXT    why (recorded; up to 1,000 characters)
environment: LOOPWRIGHT_API_URL (default ${DEFAULT_API_URL}), LOOPWRIGHT_API_TOKEN (a token bound to you)
exit status: 0 recorded, 1 refused or unreachable, 2 usage error.
`;

interface DecisionOptions {
  workflowId: string;
  stepId: string;
  reason?: string;
}

function parseDecisionArgs(argv: string[]): DecisionOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { reason: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const [workflowId, stepId, ...extra] = parsed.positionals;
  if (!workflowId || !stepId || extra.length > 0) throw new UsageError(`expected <issueWorkflowId> <stepId>, got ${parsed.positionals.length} argument(s)`);
  if (!workflowId.startsWith('issue:')) throw new UsageError(`"${workflowId}" is not an issue workflow id (issue:<fingerprint>)`);
  if (v.reason !== undefined && v.reason.length > 1_000) throw new UsageError('--reason is longer than 1,000 characters');
  return { workflowId, stepId, ...(v.reason !== undefined ? { reason: v.reason } : {}) };
}

type TDecisionResponse = TDecisionResult & { approver: { id: string; name: string }; summary: string };

/** Posts one decision to the API and prints what the workflow recorded. */
export async function decide(kind: 'approve' | 'reject', o: DecisionOptions, io: CliIo, http: typeof fetch = fetch): Promise<number> {
  const base = (io.env['LOOPWRIGHT_API_URL'] || DEFAULT_API_URL).replace(/\/+$/, '');
  const token = io.env['LOOPWRIGHT_API_TOKEN'];
  if (!token) throw new LoopwrightError('invalid_config', 'set LOOPWRIGHT_API_TOKEN to an API token bound to you (API_TOKENS entry U…:Name:TOKEN)');
  const url = `${base}/v1/issues/${encodeURIComponent(o.workflowId)}/steps/${encodeURIComponent(o.stepId)}/decision`;
  let res: Response;
  try {
    res = await http(url, {
      method: 'POST',
      // The API records decisions with this User-Agent as made through the CLI (audit and metrics).
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': `${CLI_USER_AGENT}/1` },
      body: JSON.stringify({ decision: kind, ...(o.reason !== undefined ? { reason: o.reason } : {}) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', `cannot reach the Loopwright API at ${base} (set LOOPWRIGHT_API_URL)`, { cause: e });
  }
  const body = (await res.json().catch(() => ({}))) as Partial<TDecisionResponse> & { error?: { message?: string }; refusal?: string };
  if (res.status === 200 && body.summary) {
    io.stdout.write(`${body.summary} (${kind === 'approve' ? 'approved' : 'rejected'} as ${body.approver?.name} (${body.approver?.id}))\n`);
    return 0;
  }
  const why = body.error?.message ?? `HTTP ${res.status}`;
  io.stderr.write(`loopwright ${kind}: not recorded${body.refusal ? ` (${body.refusal})` : ''}: ${why}\n`);
  return 1;
}

export function createDecisionCommand(kind: 'approve' | 'reject', http: typeof fetch = fetch): CliCommand {
  return {
    name: kind,
    summary: `${kind} a pending approval step outside Slack (as your API token's approver)`,
    async run(argv, io) {
      let opts;
      try {
        opts = parseDecisionArgs(argv);
      } catch (e) {
        if (e instanceof UsageError) {
          io.stderr.write(`loopwright ${kind}: ${e.message}\n\n${usage(kind)}`);
          return 2;
        }
        throw e;
      }
      if (opts === 'help') {
        io.stdout.write(usage(kind));
        return 0;
      }
      try {
        return await decide(kind, opts, io, http);
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright ${kind}: ${e.message}\n`);
        return 1;
      }
    },
  };
}

export const command: CliCommand = createDecisionCommand('approve');
