// The review loop (issue #13 point 7): what a reviewer sees and what a label does. The queue is
// read from the audit trail: messages classified needs_review or below a confidence bar, not yet
// reviewed, with their masked text. A label (confirm or change the category, or assign a theme) is
// appended to the labeled-data file with the reviewer and the time, audited on the message's trail,
// and the next model version (start-up or reload) trains on it.
// Shared by `loopwright review` and the HTTP endpoints so both decide alike.
// Must not: show or store unmasked text (only received.maskedText, masked at triage), or accept a
// category the taxonomy does not have (training would reject the whole file later).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { AuditStore, TAuditEvent } from '../../activities/audit/index.js';
import { memberKeyOf } from '../../activities/grouping/assign.js';
import type { GroupingStore } from '../../activities/grouping/store.js';
import type { SentenceEncoder } from '../../activities/triage/ports.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW } from '../../workflows/domain/triage.js';

/** Below this confidence an accepted label is listed for review too. */
export const DEFAULT_REVIEW_BELOW = 0.6;

export interface TReviewItem {
  /** The FeedbackWorkflow id: what a label names. */
  workflowId: string;
  receivedAt: string | null;
  classifiedAt: string;
  maskedText: string;
  category: string;
  confidence: number;
  modelVersion: string;
  taxonomyVersion: string | null;
  reviewReason: string | null;
  alternatives: Array<{ category: string; confidence: number }>;
  /** Themes its needs_review fragments were placed in. */
  themes: string[];
}

export interface TReviewer {
  id: string;
  name: string;
}

type Classified = Extract<TAuditEvent, { kind: 'classified' }>;

export async function listReviewQueue(audit: AuditStore, opts: { below?: number; limit?: number; includeReviewed?: boolean } = {}): Promise<TReviewItem[]> {
  const below = opts.below ?? DEFAULT_REVIEW_BELOW;
  const limit = opts.limit ?? 20;
  const reviewed = new Set(opts.includeReviewed ? [] : (await audit.search({ kind: 'review_labeled', limit: 100_000 })).map((e) => e.workflowId));
  const classified = (await audit.search({ kind: 'classified', limit: 100_000 })) as Classified[];
  const picked: Classified[] = [];
  // Newest first: what arrived last is what a reviewer can still act on.
  for (let i = classified.length - 1; i >= 0 && picked.length < limit; i--) {
    const e = classified[i]!;
    if (reviewed.has(e.workflowId)) continue;
    if (e.payload.category === NEEDS_REVIEW || e.payload.confidence < below) picked.push(e);
  }
  const out: TReviewItem[] = [];
  for (const e of picked) {
    const trail = await audit.trail(e.workflowId);
    const received = trail.find((x) => x.kind === 'received');
    out.push({
      workflowId: e.workflowId,
      receivedAt: received?.kind === 'received' ? (received.payload.receivedAt ?? null) : null,
      classifiedAt: e.at,
      maskedText: received?.kind === 'received' ? (received.payload.maskedText ?? '') : '',
      category: e.payload.category,
      confidence: e.payload.confidence,
      modelVersion: e.payload.modelVersion ?? 'unknown',
      taxonomyVersion: e.payload.taxonomyVersion ?? null,
      reviewReason: e.payload.reviewReason ?? null,
      alternatives: (e.payload.alternatives ?? []).slice(0, 3),
      themes: [...new Set(trail.flatMap((x) => (x.kind === 'theme_assigned' ? [x.payload.themeId] : [])))],
    });
  }
  return out;
}

export interface TLabelInput {
  workflowId: string;
  /** Confirm (the same category) or change the label; or only assign a theme. */
  category?: string;
  themeId?: string;
  reviewer: TReviewer;
  at: Date;
}

export interface TLabelDeps {
  audit: AuditStore;
  taxonomy: TTaxonomy;
  labeledFile: string;
  grouping?: GroupingStore;
  /** Needed to move a message into a theme it was not clustered into. */
  encoder?: SentenceEncoder;
}

export interface TLabelResult {
  workflowId: string;
  category: string | null;
  themeId: string | null;
  previous: { category: string; confidence: number; modelVersion: string };
  confirmed: boolean;
  labeledFile: string | null;
  seq: number;
}

/** Appends one reviewed example; JSONL only (a CSV header has no room for who and when). */
export function appendLabeledExample(file: string, row: { text: string; category: string; reviewer: TReviewer; labeledAt: string; feedbackId: string; previousCategory: string }): void {
  const ext = extname(file).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.ndjson') {
    throw new LoopwrightError('invalid_config', `${file}: reviewed labels are appended to a .jsonl labeled-data file (they carry the reviewer and the time); set LABELED_DATA to one`, {
      retryable: false,
    });
  }
  mkdirSync(dirname(file), { recursive: true });
  // A file not ending in a newline would glue this row onto its last one.
  const sep = existsSync(file) && !/\n$/.test(readFileSync(file, 'utf8').slice(-1)) && readFileSync(file, 'utf8').length > 0 ? '\n' : '';
  appendFileSync(
    file,
    `${sep}${JSON.stringify({ text: row.text, category: row.category, reviewer: row.reviewer.id, reviewerName: row.reviewer.name, labeledAt: row.labeledAt, feedbackId: row.feedbackId, previousCategory: row.previousCategory })}\n`,
    { mode: 0o600 },
  );
}

export async function labelMessage(deps: TLabelDeps, input: TLabelInput): Promise<TLabelResult> {
  if (!input.category && !input.themeId) throw new LoopwrightError('invalid_input', 'a label needs a category or a theme', { retryable: false });
  if (input.category && !deps.taxonomy.categories.some((c) => c.id === input.category)) {
    throw new LoopwrightError('invalid_input', `unknown category "${input.category}" (taxonomy ${deps.taxonomy.id}@${deps.taxonomy.version}: ${deps.taxonomy.categories.map((c) => c.id).join(', ')})`, {
      retryable: false,
    });
  }
  const trail = await deps.audit.trail(input.workflowId);
  const received = trail.find((e) => e.kind === 'received');
  const classified = trail.find((e) => e.kind === 'classified');
  if (received?.kind !== 'received' || classified?.kind !== 'classified') {
    throw new LoopwrightError('not_found', `no triaged message ${input.workflowId} in the audit trail`, { retryable: false });
  }
  const text = received.payload.maskedText ?? '';
  const previous = { category: classified.payload.category, confidence: classified.payload.confidence, modelVersion: classified.payload.modelVersion ?? 'unknown' };
  const labeledAt = input.at.toISOString();

  if (input.themeId) {
    if (!deps.grouping) throw new LoopwrightError('invalid_config', 'assigning a theme needs the grouping store', { retryable: false });
    const theme = await deps.grouping.group('theme', input.themeId);
    if (!theme) throw new LoopwrightError('not_found', `no theme ${input.themeId}`, { retryable: false });
    const assigned = trail.flatMap((e) => (e.kind === 'theme_assigned' ? [e.payload] : []));
    const feedbackId = input.workflowId.replace(/^feedback:/, '');
    const vector = deps.encoder ? ((await deps.encoder.embed([text]))[0] ?? null) : null;
    if (assigned.length > 0) {
      for (const a of assigned) {
        const memberKey = memberKeyOf({ feedbackId, fragment: { start: a.start, end: a.end } });
        const fragmentVector = deps.encoder ? ((await deps.encoder.embed([text.slice(a.start, a.end)]))[0] ?? null) : null;
        await deps.grouping.reassign('theme', memberKey, input.themeId, fragmentVector, { reviewerId: input.reviewer.id, reviewedAt: labeledAt });
      }
    } else {
      if (!vector) throw new LoopwrightError('invalid_config', 'this message is in no theme yet; placing it needs the sentence encoder (models/)', { retryable: false });
      await deps.grouping.assign({
        member: {
          kind: 'theme',
          memberKey: memberKeyOf({ feedbackId, fragment: { start: 0, end: text.length } }),
          groupKey: input.themeId,
          similarity: null,
          at: received.payload.receivedAt ?? labeledAt,
          severity: classified.payload.severity?.level ?? 'low',
          text: text.slice(0, 2_000),
          info: { reviewerId: input.reviewer.id, reviewedAt: labeledAt },
        },
        vector,
      });
    }
    await deps.audit.append({
      workflowId: input.workflowId,
      eventKey: `theme:reviewed:${input.themeId}:${labeledAt}`,
      actor: { type: 'user', id: input.reviewer.id, displayName: input.reviewer.name },
      kind: 'theme_assigned',
      payload: { themeId: input.themeId, created: false, start: 0, end: text.length, threshold: 0, reviewerId: input.reviewer.id },
    });
  }

  let labeledFile: string | null = null;
  if (input.category) {
    appendLabeledExample(deps.labeledFile, { text, category: input.category, reviewer: input.reviewer, labeledAt, feedbackId: input.workflowId, previousCategory: previous.category });
    labeledFile = deps.labeledFile;
  }
  const confirmed = input.category !== undefined && input.category === previous.category;
  const event = await deps.audit.append({
    workflowId: input.workflowId,
    eventKey: `review:${labeledAt}:${input.reviewer.id}`,
    actor: { type: 'user', id: input.reviewer.id, displayName: input.reviewer.name },
    kind: 'review_labeled',
    payload: {
      ...(input.category ? { category: input.category } : {}),
      ...(input.themeId ? { themeId: input.themeId } : {}),
      previous,
      confirmed,
      labeledAt,
      ...(labeledFile ? { labeledFile } : {}),
    },
  });
  return { workflowId: input.workflowId, category: input.category ?? null, themeId: input.themeId ?? null, previous, confirmed, labeledFile, seq: event.seq };
}
