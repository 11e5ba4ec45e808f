// The state of one remediation round, carried across continue-as-new so a round can be suspended at
// any wait (an approval, a retry after an outage, the verification window) and resumed by the next
// run exactly where it stopped; and the context the round's code (round.ts, remediation.ts,
// approval.ts) runs in. No I/O here.
import type { TPlaybookAction } from '../../playbooks/actions.js';
import type { TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import type { TApprovalState } from '../../policies/approval.js';
import type { TVerdict } from '../../policies/schema.js';
import type { TActionResult, TApprovalMessageRef, TTicketResult } from '../activity-types.js';
import type { TRerankCursor } from '../domain/rerank.js';
import type { TApprover, TIssueStatus } from '../messages.js';
import type { ApprovalDesk } from './approval.js';
import type { Journal } from './journal.js';
import type { TCarriedIssueState, TIssueSettings } from './state.js';

/** A request for humans to decide one step, open until decided, timed out or the round ends. */
export interface TOpenApproval {
  stepId: string;
  requestId: string;
  actionType: string;
  verdict: TVerdict;
  level: number;
  state: TApprovalState;
  decidedBy: TApprover[];
  requestedAt: number;
  /** End of the current escalation level (epoch ms). */
  deadline: number;
  /** Slack messages of this conversation, to close when it is decided. */
  messages: TApprovalMessageRef[];
  /** Whether the current level's request reached Slack; if not, retried at `retryPostAt`. */
  posted: boolean;
  postFailures: number;
  retryPostAt: number | null;
  /** The rejecter's reason (absent in states carried from older runs). */
  rejectReason?: string;
}

/** The step in progress: what was rendered and decided, so a resumed round does not decide twice. */
export interface TStepInFlight {
  stepId: string;
  action: TPlaybookAction;
  verdict: TVerdict;
  tickets: string[];
  idempotencyKey: string;
  stage: 'approval' | 'act';
  approval: TOpenApproval | null;
  /** Retry-later after a transient outage: attempts so far, when the first failed, when to retry. */
  attempts: number;
  firstFailureAt: number | null;
  retryAt: number | null;
  /** Fan-out progress: chunk results so far (zendesk.* actions over many tickets). */
  chunks: TActionResult[];
  /** Tickets of the current chunk that failed attempts already handled (absent in older states). */
  chunkSoFar?: TTicketResult[];
}

export interface TCompletedStep {
  stepId: string;
  action: TPlaybookAction;
  key: string;
  result: TActionResult;
  tickets: string[];
}

export interface TRoundState {
  /** Round number in this execution chain (1, 2, ...). */
  n: number;
  /** Policy and playbook loaded by an activity when the round started (version and hash audited). */
  playbook: TLoadedPlaybook;
  policy: TLoadedPolicy | null;
  phase: 'investigate' | 'steps' | 'reply' | 'verify' | 'followup';
  /** Event time the trigger fired at: what root-cause ranking measures proximity to. */
  firedAt: number;
  /** Index of the next playbook step. */
  step: number;
  outputs: Record<string, string | number>;
  completed: TCompletedStep[];
  /** A step failed and the completed ones were compensated: no customer reply this round. */
  failed: boolean;
  current: TStepInFlight | null;
  verify: { fixedAt: number; until: number } | null;
  /** The verification's verdict, once the window has passed. */
  verdict: { kind: 'resolved' | 'not_resolved' | 'insufficient_data'; reason: string } | null;
  /** This round follows a resolution: a recurrence (Jira handled per the playbook's recurrence rule). */
  recurrence: boolean;
  /**
   * A severity page started while round N was verifying: its steps run at once, then it ends;
   * round N's verification decides for both. Absent for ordinary rounds.
   */
  pageDuring?: number;
  /**
   * Set while the round's root-cause answer is "insufficient evidence": where the reports stood when
   * it was ranked, so a verifying round ranks again once they doubled (domain/rerank.ts). Absent when
   * a cause was named, and in rounds carried from runs before it existed.
   */
  rerank?: TRerankCursor;
  /** A re-ranking named a cause: its Jira comment, until posted (carried across continue-as-new). */
  rerankComment?: { stepId: string; body: string };
}

/** Thrown at a wait when the round must stop there: a close (cancel) or a continue-as-new (suspend). */
export class RoundInterrupted extends Error {
  constructor(readonly reason: 'close' | 'continue_as_new') {
    super(`round interrupted: ${reason}`);
  }
}

export interface TRoundContext {
  workflowId: string;
  /** First run id of this execution chain: stable across continue-as-new, part of idempotency keys. */
  chainId: string;
  fingerprint: string;
  state: TCarriedIssueState;
  round: TRoundState;
  journal: Journal;
  desk: ApprovalDesk;
  settings: TIssueSettings;
  flush(): Promise<void>;
  setStatus(status: TIssueStatus): void;
  /** Refreshes the Temporal UI's current details (no command: safe anywhere). */
  refreshDetails(): void;
  /** Waits for `pred` or `timeoutMs`; throws RoundInterrupted on a close or a continue-as-new. */
  wait(pred: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Throws RoundInterrupted when the round must stop before its next action. */
  checkpoint(): void;
  /**
   * While this round verifies: runs a severity page due for the reports that arrived after `seen`
   * (or resumes a carried one); throws RoundInterrupted when that page round is suspended or closed.
   */
  pageDuringVerification?(seen: number): Promise<void>;
}
