// Signed checkpoints of the audit chain heads, written OUTSIDE the database. Hash chains and HMACs
// prove that rows were not edited, but someone with database access can still delete the newest
// rows and roll the counter and heads back to an earlier, perfectly consistent state. A checkpoint
// records, at a point in time, how many events the store had issued, the hash of the newest one
// and the heads of the chains that moved since the previous checkpoint, signed with the audit HMAC
// key; `verify` then proves the database still holds every one of them.
//
// A sink is where checkpoints go. The default is an append-only JSON-lines file (one checkpoint a
// line, fsynced); object storage with a retention lock (S3 Object Lock, GCS retention) fits the
// same two-method interface. Each line is verifiable on its own, so several processes may append
// to one file. This module does no database I/O: backends hand it a snapshot.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TBrokenLink } from './events.js';
import type { AuditKeyring } from './keyring.js';

export const CHECKPOINT_TYPE = 'loopwright.audit.checkpoint' as const;
/** Heads per checkpoint at most; the newest-moved win. The global tail anchor is always there. */
export const MAX_HEADS_PER_CHECKPOINT = 10_000;

const ZHex = z.string().regex(/^[0-9a-f]{64}$/);
const ZHead = z.strictObject({ workflowId: z.string().min(1), workflowSeq: z.number().int().positive(), seq: z.number().int().positive(), hash: ZHex });

export const ZCheckpoint = z.strictObject({
  type: z.literal(CHECKPOINT_TYPE),
  v: z.literal(1),
  /** The database this checkpoint belongs to (audit_meta.store_id). */
  storeId: z.string().min(1),
  at: z.iso.datetime(),
  /** Events the store had issued (its global counter). */
  lastSeq: z.number().int().nonnegative(),
  /** The newest event: its chain position and hash. Null when the store was empty. */
  last: ZHead.nullable(),
  /** First seq signed with a key, as the store recorded it. */
  keyedFromSeq: z.number().int().positive().nullable(),
  /** Chains that moved since the previous checkpoint of this writer (all, for its first). */
  heads: z.array(ZHead),
  keyId: z.string().min(1),
  /** HMAC-SHA256 under keyId of the RFC 8785 canonical JSON of every other field. */
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TCheckpoint = z.infer<typeof ZCheckpoint>;
export type TCheckpointHead = z.infer<typeof ZHead>;

export interface CheckpointSink {
  /** Appends one checkpoint durably; resolves once it is stored. */
  append(cp: TCheckpoint): Promise<void>;
  /** Every stored entry, oldest first, unparsed (a damaged entry must surface in verify, not here). */
  readAll(): Promise<unknown[]>;
  /** Where checkpoints go, for messages (no secrets). */
  describe(): string;
}

/** The default sink: an append-only file of JSON lines, each fsynced before append resolves. */
export function createFileCheckpointSink(path: string): CheckpointSink {
  return {
    async append(cp) {
      mkdirSync(dirname(path), { recursive: true });
      // O_APPEND: concurrent writers each add whole lines; never seeks, never truncates.
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(cp)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    async readAll() {
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as unknown;
          } catch {
            return { unparseable: l.slice(0, 80) };
          }
        });
    },
    describe: () => `checkpoint file ${path}`,
  };
}

/** What a backend reads, in one snapshot, to build a checkpoint. */
export interface CheckpointSnapshot {
  storeId: string;
  lastSeq: number;
  last: TCheckpointHead | null;
  keyedFromSeq: number | null;
  heads: TCheckpointHead[];
}

/**
 * RFC 8785 JSON of a checkpoint body, written directly for its fixed shape: keys in sorted order,
 * strings through JSON.stringify (as JCS), integers only. The generic canonicalJson walk cost
 * ~0.1-0.2 s per 20,000 heads and every verify reads every checkpoint; tests/audit-keyring.test.ts
 * proves this equal to canonicalJson for random checkpoints. Only for bodies ZCheckpoint accepted.
 */
export function checkpointJson(cp: Omit<TCheckpoint, 'mac'>): string {
  const head = (h: TCheckpointHead) => `{"hash":${JSON.stringify(h.hash)},"seq":${h.seq},"workflowId":${JSON.stringify(h.workflowId)},"workflowSeq":${h.workflowSeq}}`;
  return (
    `{"at":${JSON.stringify(cp.at)},"heads":[${cp.heads.map(head).join(',')}],"keyId":${JSON.stringify(cp.keyId)},` +
    `"keyedFromSeq":${cp.keyedFromSeq === null ? 'null' : cp.keyedFromSeq},"last":${cp.last === null ? 'null' : head(cp.last)},` +
    `"lastSeq":${cp.lastSeq},"storeId":${JSON.stringify(cp.storeId)},"type":${JSON.stringify(cp.type)},"v":${cp.v}}`
  );
}

function macInput(cp: Omit<TCheckpoint, 'mac'>): string {
  return checkpointJson(cp);
}

export function signCheckpoint(s: CheckpointSnapshot, keyring: AuditKeyring, at: Date = new Date()): TCheckpoint {
  const body = {
    type: CHECKPOINT_TYPE as typeof CHECKPOINT_TYPE,
    v: 1 as const,
    storeId: s.storeId,
    at: at.toISOString(),
    lastSeq: s.lastSeq,
    last: s.last,
    keyedFromSeq: s.keyedFromSeq,
    heads: s.heads,
    keyId: keyring.active.id,
  };
  return { ...body, mac: keyring.active.mac(macInput(body)) };
}

/** What the checkpoints say the database must still hold. */
export interface CheckpointExpectations {
  count: number;
  /** Rows pinned by a checkpoint, by global seq. */
  bySeq: Map<number, { hash: string; workflowId: string; workflowSeq: number; at: string }>;
  /** The highest event count any checkpoint recorded, and when. */
  maxSeq: number;
  maxSeqAt: string;
  /** Per workflow, the longest chain any checkpoint recorded. */
  maxWorkflowSeq: Map<string, { workflowSeq: number; at: string }>;
  /** Keying as of the newest checkpoint; undefined without checkpoints. */
  keyedFromSeq: number | null | undefined;
  /** A damaged, forged or foreign checkpoint: reported before anything else. */
  failure: TBrokenLink | null;
}

const invalid = (message: string): TBrokenLink => ({ reason: 'checkpoint_invalid', workflowId: '*', seq: null, workflowSeq: null, message });

/** Checks every checkpoint's signature and store, and collects what they pin. */
export function readExpectations(entries: readonly unknown[], keyring: AuditKeyring | undefined, storeId: string, where: string): CheckpointExpectations {
  const x: CheckpointExpectations = { count: 0, bySeq: new Map(), maxSeq: 0, maxSeqAt: '', maxWorkflowSeq: new Map(), keyedFromSeq: undefined, failure: null };
  let newestAt = '';
  for (const [i, raw] of entries.entries()) {
    const line = `${where}, entry ${i + 1}`;
    const parsed = ZCheckpoint.safeParse(raw);
    if (!parsed.success) {
      x.failure = invalid(`${line}: not a well-formed checkpoint; the checkpoint store was edited`);
      return x;
    }
    const cp = parsed.data;
    if (!keyring) {
      x.failure = { reason: 'key_required', workflowId: '*', seq: null, workflowSeq: null, message: `${line}: checking signed checkpoints needs AUDIT_HMAC_KEY or AUDIT_HMAC_KEY_FILE` };
      return x;
    }
    const key = keyring.key(cp.keyId);
    if (!key) {
      x.failure = { reason: 'unknown_key', workflowId: '*', seq: null, workflowSeq: null, message: `${line}: signed with key "${cp.keyId}", which the keyring does not hold` };
      return x;
    }
    const { mac, ...body } = cp;
    if (key.mac(macInput(body)) !== mac) {
      x.failure = invalid(`${line}: its signature does not verify; the checkpoint was forged or edited`);
      return x;
    }
    if (cp.storeId !== storeId) {
      x.failure = invalid(`${line}: belongs to audit store ${cp.storeId}, but this database is store ${storeId}; the database was replaced or its identity edited`);
      return x;
    }
    x.count += 1;
    const pin = (h: TCheckpointHead) => {
      const prior = x.bySeq.get(h.seq);
      if (prior && (prior.hash !== h.hash || prior.workflowId !== h.workflowId || prior.workflowSeq !== h.workflowSeq)) {
        x.failure ??= invalid(`${line}: pins seq ${h.seq} to a different event than an earlier checkpoint; the store was rewritten between them`);
      }
      x.bySeq.set(h.seq, { hash: h.hash, workflowId: h.workflowId, workflowSeq: h.workflowSeq, at: cp.at });
      const wf = x.maxWorkflowSeq.get(h.workflowId);
      if (!wf || wf.workflowSeq < h.workflowSeq) x.maxWorkflowSeq.set(h.workflowId, { workflowSeq: h.workflowSeq, at: cp.at });
    };
    if (cp.last) pin(cp.last);
    cp.heads.forEach(pin);
    if (cp.lastSeq > x.maxSeq) {
      x.maxSeq = cp.lastSeq;
      x.maxSeqAt = cp.at;
    }
    if (cp.at >= newestAt) {
      newestAt = cp.at;
      x.keyedFromSeq = cp.keyedFromSeq;
    }
  }
  return x;
}

export interface Checkpointer {
  /** Call after each committed append: schedules a checkpoint within the interval. */
  notify(): void;
  /** Writes one now if anything changed since the last. */
  run(): Promise<TCheckpoint | null>;
  /** Stops the timer and writes a last checkpoint if this process appended since the last one. */
  close(): Promise<void>;
}

/**
 * Periodic checkpoints for one store: at most one per interval while appends happen, none while
 * idle, one at close. Failures to write are retried at the next tick and reported through onError
 * (the append they follow is already durable; a missed checkpoint widens the window, loses nothing).
 */
export function createCheckpointer(opts: {
  sink: CheckpointSink;
  keyring: AuditKeyring;
  snapshot: (sinceSeq: number) => Promise<CheckpointSnapshot>;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}): Checkpointer {
  const intervalMs = Math.max(1, opts.intervalMs ?? 5_000);
  let timer: NodeJS.Timeout | null = null;
  let writtenSeq = -1;
  // Only a process that appended checkpoints on its own: a reader (the CLI's verify) must never
  // sign whatever state it happens to find.
  let dirty = false;
  let chain: Promise<unknown> = Promise.resolve();
  const once = async (): Promise<TCheckpoint | null> => {
    dirty = false;
    const snap = await opts.snapshot(Math.max(0, writtenSeq));
    if (snap.lastSeq === writtenSeq) return null;
    const cp = signCheckpoint(snap, opts.keyring);
    await opts.sink.append(cp);
    writtenSeq = snap.lastSeq;
    return cp;
  };
  const run = (): Promise<TCheckpoint | null> => {
    const p = chain.then(once, once);
    chain = p.catch(() => undefined);
    return p;
  };
  const notify = (): void => {
    dirty = true;
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      run().catch((e: unknown) => {
        opts.onError?.(e);
        notify();
      });
    }, intervalMs);
    timer.unref();
  };
  return {
    notify,
    run,
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (dirty) await run();
    },
  };
}

export function checkpointError(err: unknown, sink: CheckpointSink): LoopwrightError {
  return new LoopwrightError('upstream_unavailable', `audit: cannot write a checkpoint to ${sink.describe()}: ${(err as Error).message}`, { cause: err, retryable: true });
}

export const limitHeads = (heads: TCheckpointHead[]): TCheckpointHead[] =>
  heads.length <= MAX_HEADS_PER_CHECKPOINT ? heads : [...heads].sort((a, b) => b.seq - a.seq).slice(0, MAX_HEADS_PER_CHECKPOINT);
