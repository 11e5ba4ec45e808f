// The audit store contract and the backend-independent core: validating appends, planning hash
// chains, turning rows into events and verifying chains. Backends (sqlite.ts, postgres.ts) only
// move rows in and out under their own locking; every hash is computed and checked here, so the
// two backends cannot drift apart. Nothing here talks to a database.
import { formatIssues, LoopwrightError } from '../../workflows/domain/errors.js';
import { canonicalJson, eventHash, GENESIS_HASH } from './canonical.js';
import {
  ZAuditAppendBase,
  ZAuditPayloads,
  ZAuditQuery,
  type TAuditActor,
  type TAuditAppend,
  type TAuditEvent,
  type TAuditKind,
  type TAuditQuery,
  type TBrokenLink,
  type TVerifyReport,
} from './events.js';

export interface AuditStore {
  /** Appends one event, or returns the stored one when (workflowId, eventKey) was appended before. */
  append(e: TAuditAppend): Promise<TAuditEvent>;
  /** All-or-nothing: either every event is stored (or already was) or none is. */
  appendMany(es: readonly TAuditAppend[]): Promise<TAuditEvent[]>;
  /** One workflow's events in chain order. */
  trail(workflowId: string): Promise<TAuditEvent[]>;
  /** Events in global order matching every given filter; at most `limit` (default 1,000). */
  search(q?: TAuditQuery): Promise<TAuditEvent[]>;
  /** Verifies one workflow's chain, or every chain plus the global sequence when no id is given. */
  verify(workflowId?: string): Promise<TVerifyReport>;
  /** Writes matching events as JSON lines (no limit unless given) and returns how many. */
  exportJsonl(out: NodeJS.WritableStream, q?: TAuditQuery): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_SEARCH_LIMIT = 1_000;

/** A validated append, ready to be chained. */
export interface PreparedAppend {
  workflowId: string;
  runId: string | null;
  eventKey: string;
  actor: TAuditActor;
  kind: TAuditKind;
  payloadJson: string;
  at: string;
}

/** The row both backends store; column names are the SQL column names. */
export interface AuditRow {
  seq: number;
  workflow_id: string;
  workflow_seq: number;
  run_id: string | null;
  event_key: string;
  at: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  kind: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

export const ROW_COLUMNS = ['seq', 'workflow_id', 'workflow_seq', 'run_id', 'event_key', 'at', 'actor_type', 'actor_id', 'actor_name', 'kind', 'payload', 'prev_hash', 'hash'] as const;

/** A row fetched as an array in ROW_COLUMNS order; both drivers build arrays faster than objects. */
export function rowFromArray(a: readonly unknown[]): AuditRow {
  return {
    seq: Number(a[0]),
    workflow_id: a[1] as string,
    workflow_seq: Number(a[2]),
    run_id: a[3] as string | null,
    event_key: a[4] as string,
    at: a[5] as string,
    actor_type: a[6] as string,
    actor_id: a[7] as string,
    actor_name: a[8] as string | null,
    kind: a[9] as string,
    payload: a[10] as string,
    prev_hash: a[11] as string,
    hash: a[12] as string,
  };
}

export interface ChainHead {
  workflow_id: string;
  last_workflow_seq: number;
  last_seq: number;
  last_hash: string;
}

export function normalizeTime(t: string | Date, field: string): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new LoopwrightError('invalid_input', `${field}: not a valid time`, { details: { field } });
  return d.toISOString();
}

/** Validates one append; `index` names the row of a batch in error messages. */
export function prepareAppend(input: unknown, index?: number, now: () => Date = () => new Date()): PreparedAppend {
  const where = index === undefined ? 'audit event' : `audit event #${index}`;
  const base = ZAuditAppendBase.safeParse(input);
  if (!base.success) {
    throw new LoopwrightError('invalid_input', `${where}: ${formatIssues(base.error.issues)}`, {
      details: { index, issues: base.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  const { workflowId, runId, eventKey, actor, kind, at } = base.data;
  const payload = ZAuditPayloads[kind].safeParse(base.data.payload);
  if (!payload.success) {
    const issues = payload.error.issues.map((i) => ({ ...i, path: ['payload', ...i.path] }));
    throw new LoopwrightError('invalid_input', `${where} (${kind}): ${formatIssues(issues)}`, {
      details: { index, kind, issues: issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return {
    workflowId,
    runId: runId ?? null,
    eventKey,
    actor,
    kind,
    payloadJson: canonicalJson(payload.data),
    at: normalizeTime(at ?? now(), 'at'),
  };
}

export function actorFromRow(r: Pick<AuditRow, 'actor_type' | 'actor_id' | 'actor_name'>): TAuditActor {
  // Rebuilt without validation on purpose: a tampered actor must still hash (and mismatch), not crash.
  return (r.actor_name === null ? { type: r.actor_type, id: r.actor_id } : { type: r.actor_type, id: r.actor_id, displayName: r.actor_name }) as TAuditActor;
}

export function rowToEvent(r: AuditRow): TAuditEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(r.payload);
  } catch {
    throw new LoopwrightError('tampered', `audit row seq ${r.seq} (${r.workflow_id}) holds a payload that is not JSON`, {
      details: { seq: Number(r.seq), workflowId: r.workflow_id },
    });
  }
  return {
    seq: Number(r.seq),
    workflowId: r.workflow_id,
    workflowSeq: Number(r.workflow_seq),
    runId: r.run_id,
    eventKey: r.event_key,
    at: r.at,
    actor: actorFromRow(r),
    kind: r.kind,
    payload,
    prevHash: r.prev_hash,
    hash: r.hash,
  } as TAuditEvent;
}

function sameContent(p: PreparedAppend, r: AuditRow): boolean {
  // `at` and runId are left out: a retried activity re-stamps the time and may run in a new run.
  return r.kind === p.kind && r.payload === p.payloadJson && canonicalJson(actorFromRow(r)) === canonicalJson(p.actor);
}

function conflict(p: PreparedAppend): LoopwrightError {
  return new LoopwrightError(
    'conflict',
    `audit event key "${p.eventKey}" of workflow "${p.workflowId}" was already appended with a different kind, actor or payload`,
    { details: { workflowId: p.workflowId, eventKey: p.eventKey }, retryable: false },
  );
}

export const pairKey = (workflowId: string, eventKey: string) => `${workflowId}\u0000${eventKey}`;

export interface ChainPlan {
  /** Rows to insert, in global order. */
  inserts: AuditRow[];
  /** Heads to upsert, one per touched workflow. */
  heads: ChainHead[];
  /** One stored row per input, in input order (existing rows for idempotent repeats). */
  results: AuditRow[];
  lastSeq: number;
}

/**
 * Chains a batch onto the current heads. Callers must hold the store's write lock from reading
 * `existing`, `heads` and `lastSeq` until the plan is committed, or two writers would fork a chain.
 */
export function planAppends(
  batch: readonly PreparedAppend[],
  existing: ReadonlyMap<string, AuditRow>,
  heads: ReadonlyMap<string, ChainHead>,
  lastSeq: number,
): ChainPlan {
  const inserts: AuditRow[] = [];
  const results: AuditRow[] = [];
  const seen = new Map<string, AuditRow>(existing);
  const touched = new Map<string, ChainHead>();
  let seq = lastSeq;
  for (const p of batch) {
    const k = pairKey(p.workflowId, p.eventKey);
    const prior = seen.get(k);
    if (prior) {
      if (!sameContent(p, prior)) throw conflict(p);
      results.push(prior);
      continue;
    }
    const head = touched.get(p.workflowId) ?? heads.get(p.workflowId);
    seq += 1;
    const workflowSeq = (head?.last_workflow_seq ?? 0) + 1;
    const prevHash = head?.last_hash ?? GENESIS_HASH;
    const hash = eventHash({ seq, workflowId: p.workflowId, workflowSeq, runId: p.runId, eventKey: p.eventKey, at: p.at, actor: p.actor, kind: p.kind, prevHash }, p.payloadJson);
    const row: AuditRow = {
      seq,
      workflow_id: p.workflowId,
      workflow_seq: workflowSeq,
      run_id: p.runId,
      event_key: p.eventKey,
      at: p.at,
      actor_type: p.actor.type,
      actor_id: p.actor.id,
      actor_name: p.actor.type === 'user' ? p.actor.displayName : null,
      kind: p.kind,
      payload: p.payloadJson,
      prev_hash: prevHash,
      hash,
    };
    inserts.push(row);
    results.push(row);
    seen.set(k, row);
    touched.set(p.workflowId, { workflow_id: p.workflowId, last_workflow_seq: workflowSeq, last_seq: seq, last_hash: hash });
  }
  return { inserts, heads: [...touched.values()], results, lastSeq: seq };
}

export function recomputeHash(r: AuditRow): string {
  return eventHash(
    {
      seq: Number(r.seq),
      workflowId: r.workflow_id,
      workflowSeq: Number(r.workflow_seq),
      runId: r.run_id,
      eventKey: r.event_key,
      at: r.at,
      actor: actorFromRow(r),
      kind: r.kind,
      prevHash: r.prev_hash,
    },
    r.payload,
  );
}

function broken(reason: TBrokenLink['reason'], r: Pick<AuditRow, 'workflow_id' | 'seq' | 'workflow_seq'> | { workflow_id: string }, message: string): TBrokenLink {
  const row = 'seq' in r ? { seq: Number(r.seq), workflowSeq: Number(r.workflow_seq) } : { seq: null, workflowSeq: null };
  return { reason, workflowId: r.workflow_id, ...row, message };
}

/** Checks one row against the chain state before it; returns the broken link or null. */
function checkLink(r: AuditRow, prev: { workflowSeq: number; hash: string; seq: number } | undefined): TBrokenLink | null {
  const expectedWseq = (prev?.workflowSeq ?? 0) + 1;
  const where = `workflow ${r.workflow_id} event #${r.workflow_seq} (seq ${r.seq})`;
  if (Number(r.workflow_seq) !== expectedWseq) {
    return broken('sequence_gap', r, `${where}: expected chain position ${expectedWseq}; an event before it was deleted or moved`);
  }
  if (prev && Number(r.seq) <= prev.seq) {
    return broken('sequence_gap', r, `${where}: global seq goes backwards from ${prev.seq}; rows were reordered`);
  }
  const expectedPrev = prev?.hash ?? GENESIS_HASH;
  if (r.prev_hash !== expectedPrev) {
    return broken('prev_hash_mismatch', r, `${where}: previous hash ${r.prev_hash.slice(0, 12)}… does not match the preceding event's hash ${expectedPrev.slice(0, 12)}…`);
  }
  if (recomputeHash(r) !== r.hash) {
    return broken('hash_mismatch', r, `${where}: stored hash does not match its content; the row was edited`);
  }
  return null;
}

function checkHead(workflowId: string, last: { workflowSeq: number; hash: string; seq: number } | undefined, head: ChainHead | undefined): TBrokenLink | null {
  if (!last && !head) return null;
  if (!head) return broken('missing_head', { workflow_id: workflowId }, `workflow ${workflowId}: events exist but its chain head record is missing`);
  if (!last) return broken('orphan_head', { workflow_id: workflowId }, `workflow ${workflowId}: chain head says ${head.last_workflow_seq} events but none are stored; they were deleted`);
  if (Number(head.last_workflow_seq) !== last.workflowSeq || head.last_hash !== last.hash || Number(head.last_seq) !== last.seq) {
    return broken(
      'head_mismatch',
      { workflow_id: workflowId },
      `workflow ${workflowId}: chain ends at event #${last.workflowSeq} but its head records #${head.last_workflow_seq}; events at the end were deleted or edited`,
    );
  }
  return null;
}

/** Verifies one workflow from its rows in chain order. */
export function verifyWorkflowRows(workflowId: string, rows: Iterable<AuditRow>, head: ChainHead | undefined): TVerifyReport {
  let last: { workflowSeq: number; hash: string; seq: number } | undefined;
  let n = 0;
  for (const r of rows) {
    n += 1;
    const b = checkLink(r, last);
    if (b) return { ok: false, workflowId, checkedEvents: n, checkedWorkflows: 1, firstBroken: b };
    last = { workflowSeq: Number(r.workflow_seq), hash: r.hash, seq: Number(r.seq) };
  }
  const b = checkHead(workflowId, last, head);
  return { ok: b === null, workflowId, checkedEvents: n, checkedWorkflows: n > 0 || head ? 1 : 0, firstBroken: b };
}

/**
 * Verifies the whole store from rows fed in global seq order. The global sequence is gapless and
 * bound into every hash, so deleting a whole workflow's trail, or the newest rows, is caught too.
 */
export class StoreVerifier {
  private readonly chains = new Map<string, { workflowSeq: number; hash: string; seq: number }>();
  private lastSeq = 0;
  private n = 0;
  private failure: TBrokenLink | null = null;

  /** Returns false once a broken link was found; the caller stops feeding. */
  feed(r: AuditRow): boolean {
    if (this.failure) return false;
    this.n += 1;
    if (Number(r.seq) !== this.lastSeq + 1) {
      this.failure = broken('global_sequence_gap', r, `seq ${r.seq} follows seq ${this.lastSeq}; events ${this.lastSeq + 1}..${Number(r.seq) - 1} were deleted`);
      return false;
    }
    this.lastSeq = Number(r.seq);
    const b = checkLink(r, this.chains.get(r.workflow_id));
    if (b) {
      this.failure = b;
      return false;
    }
    this.chains.set(r.workflow_id, { workflowSeq: Number(r.workflow_seq), hash: r.hash, seq: Number(r.seq) });
    return true;
  }

  finish(heads: Iterable<ChainHead>, counterLastSeq: number): TVerifyReport {
    const report = (firstBroken: TBrokenLink | null): TVerifyReport => ({
      ok: firstBroken === null,
      workflowId: null,
      checkedEvents: this.n,
      checkedWorkflows: this.chains.size,
      firstBroken,
    });
    if (this.failure) return report(this.failure);
    if (counterLastSeq !== this.lastSeq) {
      return report({
        reason: 'global_sequence_gap',
        workflowId: '*',
        seq: this.lastSeq + 1,
        workflowSeq: null,
        message:
          counterLastSeq > this.lastSeq
            ? `the store issued ${counterLastSeq} events but only ${this.lastSeq} are present in sequence; the newest were deleted`
            : `the store's counter says ${counterLastSeq} events were issued but ${this.lastSeq} are present; the counter was rolled back`,
      });
    }
    const seenHeads = new Set<string>();
    for (const h of heads) {
      seenHeads.add(h.workflow_id);
      const b = checkHead(h.workflow_id, this.chains.get(h.workflow_id), h);
      if (b) return report(b);
    }
    for (const wf of this.chains.keys()) {
      if (!seenHeads.has(wf)) return report(checkHead(wf, this.chains.get(wf), undefined));
    }
    return report(null);
  }
}

export interface NormalizedQuery {
  workflowId?: string;
  kinds?: TAuditKind[];
  actorId?: string;
  from?: string;
  to?: string;
  afterSeq?: number;
  limit?: number;
}

export function normalizeQuery(q: TAuditQuery | undefined, defaultLimit: number | undefined): NormalizedQuery {
  const r = ZAuditQuery.safeParse(q ?? {});
  if (!r.success) throw new LoopwrightError('invalid_input', `audit query: ${formatIssues(r.error.issues)}`);
  const d = r.data;
  return {
    workflowId: d.workflowId,
    kinds: d.kind === undefined ? undefined : Array.isArray(d.kind) ? d.kind : [d.kind],
    actorId: d.actorId,
    from: d.from === undefined ? undefined : normalizeTime(d.from, 'from'),
    to: d.to === undefined ? undefined : normalizeTime(d.to, 'to'),
    afterSeq: d.afterSeq,
    limit: d.limit ?? defaultLimit,
  };
}

/** Writes one line and waits for the stream to drain when it asks to, so exports stay bounded in memory. */
export async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (out.write(`${line}\n`)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      out.removeListener('error', onError);
      resolve();
    };
    const onError = (err: unknown) => {
      out.removeListener('drain', onDrain);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

export function eventToJsonl(e: TAuditEvent): string {
  return canonicalJson(e);
}
