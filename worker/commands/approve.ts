// `loopwright approve <issueWorkflowId> <stepId> --as <SlackUserId> --name "<name>" [--reason R]`:
// approval outside Slack. It reads the step's pending request from the workflow's `state` query
// (for its requestId), signals the decision, then watches the state briefly to say whether the
// workflow recorded it; the workflow re-checks that the approver may decide (it refuses and audits
// anyone else), so this command grants nothing by itself.
// Also exports what `reject`, `import` and `status` share: the Temporal connection from the
// environment (TEMPORAL_ADDRESS, default localhost:7233; TEMPORAL_NAMESPACE; TEMPORAL_TASK_QUEUE).
// Must not: signal a request id it did not read from the workflow, or exit 0 when nothing was recorded.
import { Client, Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { approveSignal, rejectSignal, stateQuery, type TApprovalDecision, type TIssueState } from '../../workflows/messages.js';
import type { CliCommand, CliIo } from './types.js';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TASK_QUEUE = 'loopwright';

export interface TemporalSession {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

export type ConnectTemporal = (env: NodeJS.ProcessEnv) => Promise<TemporalSession>;

/** Connects with TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_TASK_QUEUE; fails with the address it tried. */
export const connectTemporalFromEnv: ConnectTemporal = async (env) => {
  const address = env['TEMPORAL_ADDRESS'] || DEFAULT_TEMPORAL_ADDRESS;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
  } catch (e) {
    throw new LoopwrightError('upstream_unavailable', `cannot reach Temporal at ${address} (set TEMPORAL_ADDRESS)`, { cause: e });
  }
  return {
    client: new Client({ connection, namespace: env['TEMPORAL_NAMESPACE'] || 'default' }),
    taskQueue: env['TEMPORAL_TASK_QUEUE'] || DEFAULT_TASK_QUEUE,
    close: () => connection.close(),
  };
};

class UsageError extends Error {}

const usage = (kind: 'approve' | 'reject'): string => `usage: loopwright ${kind} <issueWorkflowId> <stepId> --as <SlackUserId> --name "<display name>" [--reason TEXT]

${kind === 'approve' ? 'Approve' : 'Reject'} a pending approval step outside Slack. The workflow checks that the approver
belongs to the step's approver group (or an earlier group of its escalation chain) and refuses
and audits anyone else.

options:
  --as ID          the approver's Slack user id (U… or W…), as listed in the policy
  --name NAME      the approver's display name, recorded in the audit trail
  --reason TEXT    why (recorded; up to 1,000 characters)
  --wait-ms N      how long to watch for the workflow to record the decision (default 5000)
environment: TEMPORAL_ADDRESS (default ${DEFAULT_TEMPORAL_ADDRESS}), TEMPORAL_NAMESPACE (default "default")
exit status: 0 recorded, 1 not pending / refused / not recorded in time, 2 usage error.
`;

interface DecisionOptions {
  workflowId: string;
  stepId: string;
  approver: { id: string; name: string };
  reason?: string;
  waitMs: number;
}

function parseDecisionArgs(argv: string[]): DecisionOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        as: { type: 'string' },
        name: { type: 'string' },
        reason: { type: 'string' },
        'wait-ms': { type: 'string', default: '5000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const [workflowId, stepId, ...extra] = parsed.positionals;
  if (!workflowId || !stepId || extra.length > 0) throw new UsageError(`expected <issueWorkflowId> <stepId>, got ${parsed.positionals.length} argument(s)`);
  if (!workflowId.startsWith('issue:')) throw new UsageError(`"${workflowId}" is not an issue workflow id (issue:<fingerprint>)`);
  if (!v.as || !/^[UW][A-Z0-9]{2,}$/.test(v.as)) throw new UsageError('--as must be a Slack user id (U… or W…)');
  if (!v.name?.trim()) throw new UsageError('--name is required');
  if (v.reason !== undefined && v.reason.length > 1_000) throw new UsageError('--reason is longer than 1,000 characters');
  const waitMs = Number(v['wait-ms']);
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new UsageError(`--wait-ms must be a non-negative integer, got "${v['wait-ms']}"`);
  return { workflowId, stepId, approver: { id: v.as, name: v.name.trim() }, ...(v.reason !== undefined ? { reason: v.reason } : {}), waitMs };
}

/** Signals one decision and reports whether the workflow recorded it. */
export async function decide(kind: 'approve' | 'reject', session: TemporalSession, o: DecisionOptions, io: CliIo, now: () => number = Date.now): Promise<number> {
  const handle = session.client.workflow.getHandle(o.workflowId);
  let state: TIssueState;
  try {
    state = await handle.query(stateQuery);
  } catch (e) {
    throw new LoopwrightError('not_found', `cannot query ${o.workflowId}: ${(e as Error).message}`, { cause: e });
  }
  const pending = state.pendingApprovals.find((p) => p.stepId === o.stepId);
  if (!pending) {
    const waiting = state.pendingApprovals.map((p) => p.stepId);
    io.stderr.write(`loopwright ${kind}: step "${o.stepId}" of ${o.workflowId} is not waiting for approval (${waiting.length ? `pending: ${waiting.join(', ')}` : 'nothing is pending'})\n`);
    return 1;
  }
  const decision: TApprovalDecision = {
    stepId: pending.stepId,
    requestId: pending.requestId,
    approver: o.approver,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    at: new Date(now()).toISOString(),
  };
  await handle.signal(kind === 'approve' ? approveSignal : rejectSignal, decision);

  const deadline = Date.now() + o.waitMs;
  for (;;) {
    const s = await handle.query(stateQuery);
    const still = s.pendingApprovals.find((p) => p.stepId === o.stepId && p.requestId === pending.requestId);
    if (!still || still.approvals.some((a) => a.id === o.approver.id)) {
      const left = still ? `; ${still.approvalsRequired - still.approvals.length} more approval(s) needed` : '';
      io.stdout.write(`${kind === 'approve' ? 'approved' : 'rejected'} step ${o.stepId} of ${o.workflowId} as ${o.approver.name} (${o.approver.id})${left}\n`);
      return 0;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  io.stderr.write(
    `loopwright ${kind}: the workflow did not record the decision within ${o.waitMs} ms; it refuses approvers outside the step's group ` +
      `(see: loopwright audit show ${o.workflowId})\n`,
  );
  return 1;
}

export function createDecisionCommand(kind: 'approve' | 'reject', connect: ConnectTemporal = connectTemporalFromEnv): CliCommand {
  return {
    name: kind,
    summary: `${kind} a pending approval step outside Slack`,
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
      const session = await connect(io.env);
      try {
        return await decide(kind, session, opts, io);
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright ${kind}: ${e.message}\n`);
        return 1;
      } finally {
        await session.close();
      }
    },
  };
}

export const command: CliCommand = createDecisionCommand('approve');
