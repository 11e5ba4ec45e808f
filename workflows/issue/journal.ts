// The IssueWorkflow's memory of what it did: a capped timeline for the `timeline` query and a
// queue of audit events flushed through one activity at safe points. Event keys are the chain's
// first run id plus a counter carried across continue-as-new, so an activity retry or a replay
// never writes twice, and a later execution under the same workflow id never collides.
import type { TAuditAppend } from '../../activities/audit/events.js';
import type { TTimelineEntry } from '../messages.js';

const TIMELINE_CAP = 300;

export type TAuditDraft = Omit<TAuditAppend, 'workflowId' | 'runId' | 'eventKey'>;
/** An audit event and its timeline line, as the builders in audit-payloads.ts make them. */
export type TJournalEntry = readonly [TAuditDraft, string];

export interface TJournalState {
  seq: number;
  timeline: TTimelineEntry[];
}

export class Journal {
  private readonly pending: TAuditAppend[] = [];

  constructor(
    private readonly workflowId: string,
    private readonly runId: string,
    /** `workflowInfo().firstExecutionRunId`: stable across continue-as-new, new for a new execution. */
    private readonly chainId: string,
    readonly state: TJournalState,
  ) {}

  /** Records an audit event (queued) and a human-readable timeline line. */
  record(draft: TAuditDraft, summary: string): void {
    this.state.seq += 1;
    this.pending.push({
      ...draft,
      workflowId: this.workflowId,
      runId: this.runId,
      eventKey: `${this.chainId}:e${this.state.seq}`,
    } as TAuditAppend);
    this.note(draft.kind, summary);
  }

  add([draft, summary]: TJournalEntry): void {
    this.record(draft, summary);
  }

  /** A timeline line with no audit event (e.g. an ignored duplicate decision). */
  note(kind: string, summary: string): void {
    this.state.timeline.push({ at: new Date().toISOString(), kind, summary });
    if (this.state.timeline.length > TIMELINE_CAP)
      this.state.timeline.splice(0, this.state.timeline.length - TIMELINE_CAP);
  }

  /** Takes the queued events; the caller hands them to the audit activity. */
  drain(): TAuditAppend[] {
    return this.pending.splice(0, this.pending.length);
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }
}

export const SYSTEM_ACTOR = { type: 'system', id: 'loopwright' } as const;
