// The workflow bundle's entry point: every workflow type the worker registers.
export { FeedbackWorkflow } from './feedback.js';
export { IssueWorkflow } from './issue.js';
