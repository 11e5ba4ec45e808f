// Bundle entry for workers that run only FeedbackWorkflow: kept apart from IssueWorkflow so the
// per-message workflow does not pay for evaluating the policy, playbook and statistics schemas.
export { FeedbackWorkflow } from './feedback.js';
