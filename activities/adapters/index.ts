// Public surface of the integrations: ports, factories, signature checks and approval tokens.
// Activities, the worker and the HTTP service import from here; nothing here imports tests/fakes.
export { errorFromHttpStatus, networkError, unexpectedError, parseRetryAfterMs, withRetries, type RetryOptions, type TUpstreamSystem } from './http-errors.js';
export { idempotencyDigest, idempotencyMarker } from './idempotency.js';

export {
  createJiraAdapter,
  LOOPWRIGHT_PROPERTY,
  ZJiraConfig,
  type JiraPort,
  type TJiraConfig,
  type TCreateIssueInput,
  type TCommentInput,
  type TTransitionInput,
  type TLinkInput,
  type TCompensateInput,
  type TJiraIssueRef,
} from './jira/jira-adapter.js';
export { toAdf, type TAdfDoc } from './jira/adf.js';

export {
  createSlackAdapter,
  mapSlackError,
  SLACK_METADATA_EVENT_TYPE,
  ZSlackConfig,
  type SlackPort,
  type TSlackConfig,
  type TPostMessageInput,
  type TUpdateMessageInput,
  type TMessageRef,
  type TPosted,
} from './slack/slack-adapter.js';
export {
  APPROVE_ACTION_ID,
  REJECT_ACTION_ID,
  ZApprovalRequest,
  ZDecision,
  buildApprovalBlocks,
  buildDecidedBlocks,
  type TApprovalRequest,
  type TDecision,
} from './slack/approval-blocks.js';
export { createApprovalToken, verifyApprovalToken, type TApprovalTokenClaims } from './slack/approval-token.js';
export { parseApprovalClick, type TApprovalClick } from './slack/approval-click.js';
export { verifySlackSignature, signSlackRequest, SLACK_REPLAY_WINDOW_SECONDS, type SlackSignatureInput, type TSlackSignatureCheck } from './slack/slack-signature.js';

export {
  createZendeskAdapter,
  ZZendeskConfig,
  type ZendeskPort,
  type TZendeskConfig,
  type TZendeskTicket,
  type TZendeskPriority,
  type FetchLike,
} from './zendesk/zendesk-adapter.js';
export { composeReply, firstName } from './zendesk/reply-text.js';
export { verifyZendeskSignature, signZendeskPayload, type ZendeskSignatureInput, type TSignatureCheck } from './zendesk/zendesk-signature.js';

export { createOpenAiClassifier, mapOpenAiError, ZOpenAiClassifierConfig, type LlmClassifier, type TOpenAiClassifierConfig } from './llm/openai-classifier.js';
export { createCascadeClassifier, type CascadeClassifier, type CascadeOptions, type CascadeStats } from './llm/cascade-classifier.js';
export { PROMPT_VERSION } from './llm/classification-prompt.js';
