// Where a shadow replay gets its messages: the audit store (the masked text of every `received`
// event, with what was recorded about it) or an import file (CSV/JSONL, as `loopwright import`
// reads it; its text is masked by the pipeline before anything else sees it). A window filters on
// when customers wrote (`receivedAt`), the same time basis as the triggers, not on when the loop
// processed the message. The store is read through a view that refuses every write.
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { readFeedbackFile } from '../triage/input-files.js';
import type { AuditStore, TAuditEvent, TAuditKind } from '../audit/index.js';
import type { TRecordedClassification, TReplayMessage } from './replay.js';

export interface TReplayWindow {
  /** Inclusive, ISO. */
  from?: string;
  /** Exclusive, ISO. */
  to?: string;
  source?: string;
}

export interface TReplayInput {
  messages: TReplayMessage[];
  /** Rows or events that could not be replayed (bad input rows, received events without masked text). */
  skipped: Array<{ ref: string; reason: string }>;
}

const PAGE = 50_000;

function refuse(op: string): never {
  throw new LoopwrightError('forbidden', `shadow mode: the audit store is read-only (${op} refused)`, { retryable: false });
}

/** The store as shadow mode may use it: reads pass, every write is refused. */
export function readOnlyAudit(store: AuditStore): AuditStore {
  return {
    append: async () => refuse('append'),
    appendMany: async () => refuse('appendMany'),
    checkpoint: async () => refuse('checkpoint'),
    trail: (id) => store.trail(id),
    search: (q) => store.search(q),
    verify: (id) => store.verify(id),
    exportJsonl: (out, q) => store.exportJsonl(out, q),
    close: () => store.close(),
  };
}

function inWindow(receivedAt: string, source: string, w: TReplayWindow): boolean {
  const t = Date.parse(receivedAt);
  if (w.from && t < Date.parse(w.from)) return false;
  if (w.to && t >= Date.parse(w.to)) return false;
  return !w.source || w.source === source;
}

async function searchAll(audit: AuditStore, kind: TAuditKind[]): Promise<TAuditEvent[]> {
  const out: TAuditEvent[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await audit.search({ kind, afterSeq, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterSeq = page[page.length - 1]!.seq;
  }
}

/** Every message the store received in the window, with its recorded classification and issues. */
export async function readAuditMessages(audit: AuditStore, window: TReplayWindow = {}): Promise<TReplayInput> {
  const events = await searchAll(readOnlyAudit(audit), ['received', 'classified', 'issue_linked']);
  const classified = new Map<string, Extract<TAuditEvent, { kind: 'classified' }>>();
  const linked = new Map<string, string[]>();
  for (const e of events) {
    if (e.kind === 'classified') classified.set(e.workflowId, e);
    else if (e.kind === 'issue_linked') linked.set(e.workflowId, [...(linked.get(e.workflowId) ?? []), e.payload.issueWorkflowId]);
  }
  const messages: TReplayMessage[] = [];
  const skipped: TReplayInput['skipped'] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'received' || seen.has(e.workflowId)) continue;
    seen.add(e.workflowId);
    const p = e.payload;
    const receivedAt = p.receivedAt ?? e.at;
    if (!inWindow(receivedAt, p.source, window)) continue;
    if (!p.maskedText) {
      skipped.push({ ref: e.workflowId, reason: 'received event holds no masked text' });
      continue;
    }
    const c = classified.get(e.workflowId);
    const recorded: TRecordedClassification | undefined = c
      ? {
          category: c.payload.category,
          confidence: c.payload.confidence,
          source: c.payload.source,
          taxonomyVersion: c.payload.taxonomyVersion,
          modelVersion: c.payload.modelVersion,
          issues: linked.get(e.workflowId) ?? [],
        }
      : undefined;
    const tier = p.customerTier;
    messages.push({
      item: {
        source: p.source,
        externalId: p.externalId,
        text: p.maskedText,
        receivedAt,
        ...(p.channel ? { channel: p.channel as 'other' } : {}),
        ...(p.locale ? { locale: p.locale } : {}),
        // The pseudonymous customer key counts distinct customers as the live issue did.
        ...(p.customerRef
          ? { customer: { id: p.customerRef, tier: (tier ?? 'unknown') as 'unknown', ...(p.customerValue !== undefined ? { lifetimeValue: p.customerValue } : {}) } }
          : {}),
      },
      ...(recorded ? { recorded } : {}),
    });
  }
  return { messages, skipped };
}

/** The rows of an import file in the window; bad rows are reported, not replayed. */
export async function readFileMessages(path: string, window: TReplayWindow = {}, defaults: { source: string; receivedAt: string }): Promise<TReplayInput> {
  const rows = await readFeedbackFile(path, { defaultSource: defaults.source, defaultReceivedAt: defaults.receivedAt });
  const messages: TReplayMessage[] = [];
  const skipped: TReplayInput['skipped'] = [];
  for (const r of rows) {
    if (!r.item) {
      skipped.push({ ref: `line ${r.line}`, reason: r.error.message });
      continue;
    }
    if (!inWindow(r.item.receivedAt, r.item.source, window)) continue;
    messages.push({ item: r.item });
  }
  return { messages, skipped };
}
