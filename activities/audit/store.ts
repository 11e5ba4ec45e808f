// The audit store contract and the backend-independent core: validating appends, planning hash
// chains, turning rows into events and verifying chains. Backends (sqlite.ts, postgres.ts) only
// move rows in and out under their own locking; every hash is computed and checked here, so the
// two backends cannot drift apart. Nothing here talks to a database.
//
// Identity of an event (what makes a re-sent append a duplicate rather than a conflict) is its
// (workflow id, event key), kind and payload. The actor, the time, the run id and the process that
// sent it (`origin`, unhashed metadata) are not part of it: an activity retried on another worker,
// a re-run demo or a re-import re-sends the same event from a different process, and must get the
// stored event back, not a non-retryable conflict.
import { formatIssues, LoopwrightError } from '../../workflows/domain/errors.js';
import { canonicalJson, eventHash, GENESIS_HASH, KEYED_HASH_VERSION, keyedEventHash, LEGACY_HASH_VERSION } from './canonical.js';
import { readExpectations, type CheckpointExpectations, type CheckpointSink, type TCheckpoint } from './checkpoints.js';
import type { AuditKeyring } from './keyring.js';
import {
  ATTEMPT_FIELDS,
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
  /**
   * Writes a signed checkpoint of the chain heads to the store's checkpoint sink now (if the store
   * has a sink and a key, and anything was appended since the last one); returns it or null.
   */
  checkpoint(): Promise<TCheckpoint | null>;
  /** Commits pending checkpoints, then closes. */
  close(): Promise<void>;
}

/** What every backend accepts beside its own connection options. */
export interface AuditTrustOptions {
  /** HMAC keys: new events are signed (hash v2) with the active key. Without it the store writes unkeyed v1 hashes, and refuses to append to a store that is keyed. */
  keyring?: AuditKeyring;
  /** Where signed checkpoints of the chain heads go, and how often (default every 5 s while appending). */
  checkpoints?: { sink: CheckpointSink; intervalMs?: number };
  /** Process identity (e.g. host:pid) stored with each new event as unhashed metadata. */
  origin?: string;
}

/** The store-wide facts verification needs beside the rows. */
export interface VerifyContext {
  keyring: AuditKeyring | undefined;
  /** First seq signed with a key; every later row must be keyed, every earlier one unkeyed. */
  keyedFromSeq: number | null;
  /** What signed checkpoints outside the database say the store held. */
  expectations?: CheckpointExpectations;
}

/** The context both backends verify with: the store's keying, and what the checkpoints outside it pin. */
export async function loadVerifyContext(
  keyring: AuditKeyring | undefined,
  sink: CheckpointSink | undefined,
  meta: { storeId: string; keyedFromSeq: number | null },
): Promise<VerifyContext> {
  const expectations = sink ? readExpectations(await sink.readAll(), keyring, meta.storeId, sink.describe()) : undefined;
  return { keyring, keyedFromSeq: meta.keyedFromSeq, ...(expectations ? { expectations } : {}) };
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
  origin: string | null;
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
  /** 1: unkeyed SHA-256 (legacy); 2: HMAC-SHA256 under key_id. */
  hash_version: number;
  key_id: string | null;
  /** Process that first appended the row; metadata outside the hash and the event's identity. */
  origin: string | null;
}

export const ROW_COLUMNS = [
  'seq',
  'workflow_id',
  'workflow_seq',
  'run_id',
  'event_key',
  'at',
  'actor_type',
  'actor_id',
  'actor_name',
  'kind',
  'payload',
  'prev_hash',
  'hash',
  'hash_version',
  'key_id',
  'origin',
] as const;

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
    hash_version: Number(a[13]),
    key_id: (a[14] ?? null) as string | null,
    origin: (a[15] ?? null) as string | null,
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
export function prepareAppend(input: unknown, index?: number, now: () => Date = () => new Date(), defaultOrigin: string | null = null): PreparedAppend {
  const where = index === undefined ? 'audit event' : `audit event #${index}`;
  const base = ZAuditAppendBase.safeParse(input);
  if (!base.success) {
    throw new LoopwrightError('invalid_input', `${where}: ${formatIssues(base.error.issues)}`, {
      details: { index, issues: base.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  const { workflowId, runId, eventKey, actor, kind, at, origin } = base.data;
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
    origin: origin ?? defaultOrigin,
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
    hashVersion: Number(r.hash_version),
    keyId: r.key_id ?? null,
    origin: r.origin ?? null,
  } as TAuditEvent;
}

/**
 * An event's identity is (workflow, key) + kind + payload (without its ATTEMPT_FIELDS). Actor,
 * `at`, runId and origin are left out: a retried activity re-stamps the time, may run in a new run, and may run in another process
 * whose worker identity differs. Human decisions carry the human in the payload (approverId).
 */
export function sameContent(p: Pick<PreparedAppend, 'kind' | 'payloadJson'>, r: Pick<AuditRow, 'kind' | 'payload'>): boolean {
  if (r.kind !== p.kind) return false;
  if (r.payload === p.payloadJson) return true;
  const volatile = ATTEMPT_FIELDS[p.kind];
  if (!volatile) return false;
  const identity = (json: string): string | null => {
    try {
      const o = JSON.parse(json) as Record<string, unknown>;
      for (const f of volatile) delete o[f];
      return canonicalJson(o);
    } catch {
      return null;
    }
  };
  const a = identity(p.payloadJson);
  return a !== null && a === identity(r.payload);
}

function conflict(p: PreparedAppend): LoopwrightError {
  return new LoopwrightError(
    'conflict',
    `audit event key "${p.eventKey}" of workflow "${p.workflowId}" was already appended with a different kind or payload`,
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
  /** How many inputs were already stored (or repeated within the batch): duplicates, not failures. */
  duplicates: number;
}

/** How new rows are hashed: with the active key (v2) or unkeyed (v1, stores without a key). */
export type Signer = { keyId: string; mac: (data: string) => string } | null;

/**
 * Chains a batch onto the current heads. Callers must hold the store's write lock from reading
 * `existing`, `heads` and `lastSeq` until the plan is committed, or two writers would fork a chain.
 */
export function planAppends(
  batch: readonly PreparedAppend[],
  existing: ReadonlyMap<string, AuditRow>,
  heads: ReadonlyMap<string, ChainHead>,
  lastSeq: number,
  signer: Signer = null,
): ChainPlan {
  let duplicates = 0;
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
      duplicates += 1;
      continue;
    }
    const head = touched.get(p.workflowId) ?? heads.get(p.workflowId);
    seq += 1;
    const workflowSeq = (head?.last_workflow_seq ?? 0) + 1;
    const prevHash = head?.last_hash ?? GENESIS_HASH;
    const fields = { seq, workflowId: p.workflowId, workflowSeq, runId: p.runId, eventKey: p.eventKey, at: p.at, actor: p.actor, kind: p.kind, prevHash };
    const hash = signer ? keyedEventHash(fields, p.payloadJson, signer.keyId, signer.mac) : eventHash(fields, p.payloadJson);
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
      hash_version: signer ? KEYED_HASH_VERSION : LEGACY_HASH_VERSION,
      key_id: signer ? signer.keyId : null,
      origin: p.origin,
    };
    inserts.push(row);
    results.push(row);
    seen.set(k, row);
    touched.set(p.workflowId, { workflow_id: p.workflowId, last_workflow_seq: workflowSeq, last_seq: seq, last_hash: hash });
  }
  return { inserts, heads: [...touched.values()], results, lastSeq: seq, duplicates };
}

/**
 * Decides how a write transaction hashes, from the store's keying state read under its lock:
 * a keyed store never takes unkeyed rows (that is exactly what a forger without the key writes).
 */
export function signerFor(keyring: AuditKeyring | undefined, keyedFromSeq: number | null, where: string): Signer {
  if (keyring) return { keyId: keyring.active.id, mac: keyring.active.mac };
  if (keyedFromSeq !== null) {
    throw new LoopwrightError('invalid_config', `audit store ${where} is keyed (HMAC since seq ${keyedFromSeq}); set AUDIT_HMAC_KEY or AUDIT_HMAC_KEY_FILE to append`, {
      retryable: false,
    });
  }
  return null;
}

function hashedFields(r: AuditRow) {
  return {
    seq: Number(r.seq),
    workflowId: r.workflow_id,
    workflowSeq: Number(r.workflow_seq),
    runId: r.run_id,
    eventKey: r.event_key,
    at: r.at,
    actor: actorFromRow(r),
    kind: r.kind,
    prevHash: r.prev_hash,
  };
}

/** The unkeyed (v1) hash of a row as stored; what a forger without the key can compute. */
export function recomputeHash(r: AuditRow): string {
  return eventHash(hashedFields(r), r.payload);
}

/** Checks how a row is hashed against the store's keying, then its hash; returns the failure or null. */
function checkRowHash(r: AuditRow, ctx: VerifyContext, where: () => string): TBrokenLink | null {
  const v = Number(r.hash_version ?? LEGACY_HASH_VERSION);
  const seq = Number(r.seq);
  if (v === LEGACY_HASH_VERSION) {
    if (ctx.keyedFromSeq !== null && seq >= ctx.keyedFromSeq) {
      return broken('unkeyed_event', r, `${where()}: has an unkeyed hash although the store signs every event since seq ${ctx.keyedFromSeq}; it was written without the key (forged)`);
    }
    if (r.key_id !== null && r.key_id !== undefined) return broken('hash_mismatch', r, `${where()}: an unkeyed row names key ${r.key_id}; the row was edited`);
    return recomputeHash(r) === r.hash ? null : broken('hash_mismatch', r, `${where()}: stored hash does not match its content; the row was edited`);
  }
  if (v !== KEYED_HASH_VERSION) return broken('hash_mismatch', r, `${where()}: unknown hash version ${v}; the row was edited`);
  if (ctx.keyedFromSeq === null || seq < ctx.keyedFromSeq) {
    return broken('keying_mismatch', r, `${where()}: is keyed but the store records keying from ${ctx.keyedFromSeq ?? 'never'}; the store's keying record was edited`);
  }
  if (!ctx.keyring) return broken('key_required', r, `${where()}: is signed with key ${r.key_id}; verifying needs AUDIT_HMAC_KEY or AUDIT_HMAC_KEY_FILE`);
  const key = r.key_id ? ctx.keyring.key(r.key_id) : undefined;
  if (!key) return broken('unknown_key', r, `${where()}: is signed with key "${r.key_id}", which the keyring (${ctx.keyring.ids.join(', ')}) does not hold; add the rotated-out key to verify`);
  return keyedEventHash(hashedFields(r), r.payload, key.id, key.mac) === r.hash
    ? null
    : broken('hash_mismatch', r, `${where()}: its HMAC does not match its content; the row was edited or written without the key`);
}

function broken(reason: TBrokenLink['reason'], r: Pick<AuditRow, 'workflow_id' | 'seq' | 'workflow_seq'> | { workflow_id: string }, message: string): TBrokenLink {
  const row = 'seq' in r ? { seq: Number(r.seq), workflowSeq: Number(r.workflow_seq) } : { seq: null, workflowSeq: null };
  return { reason, workflowId: r.workflow_id, ...row, message };
}

/** Checks one row against the chain state before it; returns the broken link or null. */
function checkLink(r: AuditRow, prev: { workflowSeq: number; hash: string; seq: number } | undefined, ctx: VerifyContext): TBrokenLink | null {
  const expectedWseq = (prev?.workflowSeq ?? 0) + 1;
  // Built only for a message: verification runs this for millions of rows.
  const where = () => `workflow ${r.workflow_id} event #${r.workflow_seq} (seq ${r.seq})`;
  if (Number(r.workflow_seq) !== expectedWseq) {
    return broken('sequence_gap', r, `${where()}: expected chain position ${expectedWseq}; an event before it was deleted or moved`);
  }
  if (prev && Number(r.seq) <= prev.seq) {
    return broken('sequence_gap', r, `${where()}: global seq goes backwards from ${prev.seq}; rows were reordered`);
  }
  const expectedPrev = prev?.hash ?? GENESIS_HASH;
  if (r.prev_hash !== expectedPrev) {
    return broken('prev_hash_mismatch', r, `${where()}: previous hash ${r.prev_hash.slice(0, 12)}… does not match the preceding event's hash ${expectedPrev.slice(0, 12)}…`);
  }
  const h = checkRowHash(r, ctx, where);
  if (h) return h;
  const expected = ctx.expectations?.bySeq.get(Number(r.seq));
  if (expected && (expected.hash !== r.hash || expected.workflowId !== r.workflow_id || expected.workflowSeq !== Number(r.workflow_seq))) {
    return broken('checkpoint_mismatch', r, `${where()}: differs from the signed checkpoint of ${expected.at}; the chain was rewritten after it`);
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
export function verifyWorkflowRows(workflowId: string, rows: Iterable<AuditRow>, head: ChainHead | undefined, ctx: VerifyContext): TVerifyReport {
  let last: { workflowSeq: number; hash: string; seq: number } | undefined;
  let n = 0;
  const extra = { keyed: ctx.keyedFromSeq !== null, checkpoints: ctx.expectations?.count ?? 0 };
  for (const r of rows) {
    n += 1;
    const b = checkLink(r, last, ctx);
    if (b) return { ok: false, workflowId, checkedEvents: n, checkedWorkflows: 1, firstBroken: b, ...extra };
    last = { workflowSeq: Number(r.workflow_seq), hash: r.hash, seq: Number(r.seq) };
  }
  let b = ctx.expectations?.failure ?? null;
  const anchored = ctx.expectations?.maxWorkflowSeq.get(workflowId);
  if (!b && anchored && (last?.workflowSeq ?? 0) < anchored.workflowSeq) {
    b = broken(
      'truncated',
      { workflow_id: workflowId },
      `workflow ${workflowId}: the signed checkpoint of ${anchored.at} recorded event #${anchored.workflowSeq} but the chain ends at #${last?.workflowSeq ?? 0}; its newest events were deleted`,
    );
  }
  b ??= checkHead(workflowId, last, head);
  return { ok: b === null, workflowId, checkedEvents: n, checkedWorkflows: n > 0 || head ? 1 : 0, firstBroken: b, ...extra };
}

/**
 * Verifies the whole store from rows fed in global seq order. The global sequence is gapless and
 * bound into every hash, so deleting a whole workflow's trail, or the newest rows, is caught too.
 */
export class StoreVerifier {
  private readonly chains = new Map<string, { workflowSeq: number; hash: string; seq: number }>();
  private lastSeq = 0;
  private n = 0;
  private failure: TBrokenLink | null;

  constructor(private readonly ctx: VerifyContext) {
    this.failure = ctx.expectations?.failure ?? null;
  }

  /** Feeds rows fetched as arrays (ROW_COLUMNS order, as both backends read them); false once one broke. */
  feedArrays(rows: Iterable<readonly unknown[]>): boolean {
    for (const r of rows) if (!this.feed(rowFromArray(r))) return false;
    return true;
  }

  /** Returns false once a broken link was found; the caller stops feeding. */
  feed(r: AuditRow): boolean {
    if (this.failure) return false;
    this.n += 1;
    if (Number(r.seq) !== this.lastSeq + 1) {
      this.failure = broken('global_sequence_gap', r, `seq ${r.seq} follows seq ${this.lastSeq}; events ${this.lastSeq + 1}..${Number(r.seq) - 1} were deleted`);
      return false;
    }
    this.lastSeq = Number(r.seq);
    const b = checkLink(r, this.chains.get(r.workflow_id), this.ctx);
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
      keyed: this.ctx.keyedFromSeq !== null,
      checkpoints: this.ctx.expectations?.count ?? 0,
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
    const anchor = this.ctx.expectations;
    if (anchor && anchor.maxSeq > this.lastSeq) {
      return report({
        reason: 'truncated',
        workflowId: '*',
        seq: this.lastSeq + 1,
        workflowSeq: null,
        message: `the signed checkpoint of ${anchor.maxSeqAt} recorded ${anchor.maxSeq} events but the store holds ${this.lastSeq} (counter ${counterLastSeq}); the newest events were deleted and the counter and heads rolled back`,
      });
    }
    if (anchor && anchor.keyedFromSeq !== undefined && anchor.keyedFromSeq !== this.ctx.keyedFromSeq) {
      return report({
        reason: 'keying_mismatch',
        workflowId: '*',
        seq: null,
        workflowSeq: null,
        message: `signed checkpoints record keying from seq ${anchor.keyedFromSeq ?? 'never'} but the store says ${this.ctx.keyedFromSeq ?? 'never'}; the store's keying record was edited`,
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
