// Bundle entry for workers that run only IssueWorkflow (the long-lived, per-fingerprint workflow).
export { IssueWorkflow } from './issue.js';
