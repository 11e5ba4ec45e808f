// The durable memory of grouping by meaning and of emerging themes: per group (an issue opened by
// similarity, or a theme of needs_review fragments) the running sum of its members' embeddings
// (the centroid, un-normalised, so adding a member is one vector add) and its size; per member
// (one fragment of one message) the group it went to, the similarity, its event time and severity,
// its own unit vector (nearest-member linkage; null for rows written before grp-2 and for cohort
// counters), and for themes its masked text (themes are named and promoted from their members' words).
// Kept in SQLite (sqlite.ts) or PostgreSQL (postgres.ts), never in Temporal history: it is shared by
// every routing activity and outlives any workflow run.
// Must not: hold unmasked text (callers pass triage's masked fragments), or decide anything: the
// decisions live in assign.ts; this module only defines the rows and the contract.
import { LoopwrightError } from '../../workflows/domain/errors.js';

/** 'cohort': evidence-join state (evidence-join.ts): release-cohort counts per bucket, a code's issue, decisions. */
export type TGroupKind = 'issue' | 'theme' | 'cohort';

export interface TGroupRow {
  kind: TGroupKind;
  /** Issue: the fingerprint key (`<category>.<12 hex>`, the IssueWorkflow id's suffix). Theme: `theme.<12 hex>`. */
  key: string;
  /** Issues are compared only within their partition (category + product); themes share one. */
  partition: string;
  /** Sum of the members' unit vectors; centroid = sum / |sum|. */
  sum: Float32Array;
  size: number;
  /** Issues: false once the IssueWorkflow was seen closed. Themes: false once promoted. */
  open: boolean;
  /** Themes: the category a promotion turned it into. */
  label: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TMemberRow {
  kind: TGroupKind;
  /** `<feedbackId>#<fragment start>-<end>`: one fragment of one message. */
  memberKey: string;
  groupKey: string;
  /** Similarity to the group when it joined; null when it opened the group. */
  similarity: number | null;
  /** When the customer wrote (event time, ISO). */
  at: string;
  severity: string;
  /** Masked fragment text (themes); empty for issues. */
  text: string;
  /** Why: method, nearest group, threshold, encoder (JSON object). */
  info: Record<string, unknown>;
}

/** A member with its own unit vector (nearest-member linkage) and its group's partition. */
export interface TNeighbourRow extends TMemberRow {
  vector: Float32Array;
  partition: string;
}

export interface TNeighbourQuery {
  /** One partition only (issues: category + product); all when absent. */
  partition?: string;
  /** Event-time bounds (ISO, inclusive) on the members. */
  since?: string;
  until?: string;
  /** At most this many of each group's members, the latest in event time. */
  perGroup?: number;
}

export interface TAssignInput {
  member: TMemberRow;
  /** The member's unit vector, added to the group's sum and kept on the member (nearest-member linkage). */
  vector: Float32Array;
  /** Present when the member opens a new group. */
  create?: { partition: string };
}

export interface GroupingStore {
  /** The member as stored, if this fragment was assigned before (a retried activity reuses it). */
  member(kind: TGroupKind, memberKey: string): Promise<TMemberRow | null>;
  /** Groups of a kind, optionally one partition only and open ones only. */
  groups(kind: TGroupKind, opts?: { partition?: string; openOnly?: boolean }): Promise<TGroupRow[]>;
  group(kind: TGroupKind, key: string): Promise<TGroupRow | null>;
  /**
   * Stores the member and adds its vector to its group (creating the group when asked), in one
   * transaction. A member stored before is returned unchanged: the first decision stands.
   */
  assign(a: TAssignInput): Promise<TMemberRow>;
  /** Moves a member to another group of its kind (a reviewer's decision), moving its vector too. */
  reassign(kind: TGroupKind, memberKey: string, groupKey: string, vector: Float32Array | null, info: Record<string, unknown>): Promise<TMemberRow>;
  setOpen(kind: TGroupKind, key: string, open: boolean, label?: string | null): Promise<void>;
  /**
   * Members of OPEN groups of a kind that carry their own vector (stored since grp-2), with their
   * group's partition: what nearest-member linkage compares a new fragment with. Oldest first.
   */
  neighbours(kind: TGroupKind, q?: TNeighbourQuery): Promise<TNeighbourRow[]>;
  /** Members of one group (or of every group when groupKey is null), oldest first. */
  members(kind: TGroupKind, groupKey: string | null, opts?: { limit?: number }): Promise<TMemberRow[]>;
  close(): Promise<void>;
}

export const GROUPING_TABLES = ['lw_groups', 'lw_members'] as const;

export function vectorToBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function bytesToVector(b: Uint8Array): Float32Array {
  // Copied: the driver's buffer may be pooled and not 4-byte aligned.
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

export function addInto(sum: Float32Array, v: Float32Array, sign = 1): Float32Array {
  if (sum.length !== v.length) {
    throw new LoopwrightError('invalid_config', `embedding dimension ${v.length} does not match the stored groups' ${sum.length} (the encoder changed: use a new grouping store)`, {
      retryable: false,
    });
  }
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i]! + sign * v[i]!;
  return out;
}

export function parseInfo(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Where the grouping store lives for an audit store URL: the same PostgreSQL database (own tables),
 * or a SQLite file beside the audit file (`audit.sqlite` → `audit.grouping.sqlite`), so the
 * append-only audit file never holds mutable state.
 */
export function groupingUrlFor(auditUrl: string): string {
  const u = auditUrl.trim();
  if (/^postgres(ql)?:\/\//i.test(u)) return u;
  const path = u.replace(/^sqlite:(\/\/)?/i, '');
  if (path === ':memory:') return 'sqlite::memory:';
  return `sqlite:${path.replace(/(\.sqlite3?|\.db)?$/i, '')}.grouping.sqlite`;
}
