import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, rateLimitWindowMs } from '../policies/evaluate.js';
import { loadPolicyFile, parsePolicy } from '../policies/loader.js';
import { ZPolicy, type TPolicy, type TPolicyEvaluationInput } from '../policies/schema.js';
import { LoopwrightError } from '../workflows/domain/errors.js';

const POLICY_PATH = join(import.meta.dirname, '..', 'policies', 'default.v1.yaml');
const loaded = parsePolicy(readFileSync(POLICY_PATH), 'default.v1.yaml');
const policy = loaded.policy;

const input = (patch: Partial<TPolicyEvaluationInput> = {}): TPolicyEvaluationInput => ({
  actionType: 'zendesk.add_tags',
  category: 'app_crash',
  confidence: 0.95,
  severity: 'high',
  customerTiers: ['standard'],
  blastRadius: { tickets: 12, customers: 10 },
  recentActionCount: 0,
  needsReview: false,
  ...patch,
});

describe('policy file', () => {
  it('loads the shipped policy with a version tag and a content hash', async () => {
    const fromDisk = await loadPolicyFile(POLICY_PATH);
    expect(fromDisk.version).toBe('default@1.0.0');
    expect(fromDisk.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(fromDisk.contentHash).toBe(loaded.contentHash);
    expect(parsePolicy(readFileSync(POLICY_PATH, 'utf8') + '\n# edited\n', 'x.yaml').contentHash).not.toBe(loaded.contentHash);
  });

  const text = readFileSync(POLICY_PATH, 'utf8');
  it.each([
    [
      'unknown action type',
      (t: string) => t.replace('actions:\n', 'actions:\n  zendesk.delete_ticket:\n    risk: low\n    auto: null\n    approverGroup: null\n'),
      'actions.zendesk.delete_ticket: unknown action type',
    ],
    [
      'undefined approver group',
      (t: string) => t.replace('approverGroup: eng-oncall\n    approvalTimeoutMinutes: 240', 'approverGroup: ghosts\n    approvalTimeoutMinutes: 240'),
      'approver group "ghosts" is not defined',
    ],
    ['a default other than deny', (t: string) => t.replace('default: deny', 'default: allow'), 'default:'],
  ])('refuses to load a policy with %s, naming file, line and field', (_name, mutate, expected) => {
    const broken = mutate(text);
    expect(broken).not.toBe(text);
    let err: unknown;
    try {
      parsePolicy(broken, 'broken.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoopwrightError);
    const le = err as LoopwrightError;
    expect(le.code).toBe('invalid_config');
    expect(le.message).toMatch(/^broken\.yaml:\d+:\d+: /);
    expect(le.message).toContain(expected);
    expect(le.details.line).toBeGreaterThan(1);
  });

  it('points at the offending line', () => {
    const text = 'id: p\nversion: 1.0.0\nmode: enforce\ndefault: deny\napproverGroups: {}\nactions:\n  jira.comment:\n    risk: extreme\n    auto: null\n    approverGroup: null\n';
    expect(() => parsePolicy(text, 'p.yaml')).toThrow(/^p\.yaml:8:11: actions\.jira\.comment\.risk/);
  });

  it('rejects the two-person rule on a one-member group', () => {
    const r = ZPolicy.safeParse({
      ...policy,
      approverGroups: { ...policy.approverGroups, solo: { channel: '#solo', members: [{ slackUserId: 'U0SOLO1', name: 'Solo' }] } },
      actions: { ...policy.actions, 'jira.comment': { risk: 'high', auto: null, approverGroup: 'solo' } },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('two-person rule needs at least 2 members');
  });

  it('fails with a clear error when the file is missing', async () => {
    await expect(loadPolicyFile(join(import.meta.dirname, 'nope.yaml'))).rejects.toThrow(/cannot read policy file nope\.yaml: ENOENT/);
  });
});

describe('policy verdicts', () => {
  type Row = [string, Partial<TPolicyEvaluationInput>, 'allow' | 'needs_approval' | 'deny', string];
  const rows: Row[] = [
    ['low-risk tags within every auto condition', {}, 'allow', 'auto: all conditions met'],
    ['jira ticket for any category', { actionType: 'jira.create_issue', category: 'refund' }, 'allow', 'auto'],
    ['confidence below the auto floor', { confidence: 0.65 }, 'needs_approval', 'confidence: 0.65 < auto.minConfidence 0.7'],
    ['blast radius above the auto cap', { blastRadius: { tickets: 501, customers: 400 } }, 'needs_approval', 'blast_radius: 501 tickets > auto.maxBlastRadius.tickets 500'],
    ['rate limit hit', { recentActionCount: 20 }, 'needs_approval', 'rate_limit: 20 in the last 60 min >= auto.rateLimit.max 20'],
    ['public reply to a category not automatic', { actionType: 'zendesk.public_reply', category: 'refund' }, 'needs_approval', 'category: refund not in auto.categories'],
    ['public reply to an enterprise customer', { actionType: 'zendesk.public_reply', customerTiers: ['standard', 'enterprise'] }, 'needs_approval', 'tier: enterprise not in auto.tiers'],
    ['public reply on a critical issue', { actionType: 'zendesk.public_reply', severity: 'critical' }, 'needs_approval', 'severity: critical not in auto.severities'],
    ['public reply within its auto conditions', { actionType: 'zendesk.public_reply' }, 'allow', 'auto'],
    ['never-automatic transition', { actionType: 'jira.transition' }, 'needs_approval', 'auto_disabled'],
    ['unknown action type', { actionType: 'zendesk.delete_ticket' }, 'deny', 'unknown_action_type: zendesk.delete_ticket'],
    ['priority bump for a free-tier customer (no approver group)', { actionType: 'zendesk.set_priority', customerTiers: ['free'] }, 'deny', 'no_approver_group'],
    // Without an approver group, every unmet auto condition is a deny: fail closed.
    ['no-approver action below the confidence floor', { actionType: 'zendesk.set_priority', customerTiers: ['enterprise'], confidence: 0.8 }, 'deny', 'confidence: 0.8 < auto.minConfidence 0.85'],
    ['no-approver action above the blast-radius cap', { actionType: 'zendesk.set_priority', customerTiers: ['enterprise'], blastRadius: { tickets: 51, customers: 5 } }, 'deny', 'blast_radius: 51 tickets'],
    ['no-approver action at its rate limit', { actionType: 'zendesk.set_priority', customerTiers: ['enterprise'], recentActionCount: 10 }, 'deny', 'rate_limit: 10 in the last 60 min'],
    ['priority bump for an enterprise customer', { actionType: 'zendesk.set_priority', customerTiers: ['enterprise'] }, 'allow', 'auto'],
    ['needs_review category', { category: 'needs_review' }, 'deny', 'needs_review'],
    ['needs_review flag on a classified issue', { needsReview: true }, 'deny', 'needs_review'],
    ['mass public reply above the hard cap', { actionType: 'zendesk.public_reply', blastRadius: { tickets: 2001, customers: 1900 } }, 'deny', 'limit_blast_radius: 2001 tickets > limits.maxTickets 2000'],
    ['public reply on a barely classified issue', { actionType: 'zendesk.public_reply', confidence: 0.4 }, 'deny', 'limit_confidence: 0.4 < limits.minConfidence 0.5'],
  ];

  it.each(rows)('%s → %s', (_name, patch, kind, reason) => {
    const v = evaluatePolicy(policy, input(patch));
    expect(v.kind).toBe(kind);
    expect(v.reasons.join(' | ')).toContain(reason);
    expect(v.policyVersion).toBe('default@1.0.0');
    expect(v.dryRun).toBe(false);
  });

  it('needs_approval carries group, two-person rule for high risk, timeout and escalation chain', () => {
    const v = evaluatePolicy(policy, input({ actionType: 'zendesk.public_reply', category: 'refund' }));
    expect(v).toMatchObject({
      kind: 'needs_approval',
      risk: 'high',
      approverGroup: 'support-leads',
      approvalsRequired: 2,
      timeoutMs: 120 * 60_000,
      escalationChain: ['support-managers'],
    });
    const low = evaluatePolicy(policy, input({ confidence: 0.65 }));
    expect(low.approvalsRequired).toBe(1);
  });

  it('lists every unmet auto condition, not just the first', () => {
    const v = evaluatePolicy(policy, input({ confidence: 0.1, recentActionCount: 99, blastRadius: { tickets: 900, customers: 900 } }));
    expect(v.reasons.map((r) => r.split(':')[0])).toEqual(['confidence', 'blast_radius', 'blast_radius', 'rate_limit']);
  });

  it('denies when a policy entry is missing (default deny)', () => {
    const actions: Record<string, unknown> = { ...policy.actions };
    delete actions['jira.comment'];
    const v = evaluatePolicy({ ...policy, actions } as TPolicy, input({ actionType: 'jira.comment' }));
    expect(v.kind).toBe('deny');
    expect(v.reasons[0]).toContain('no_policy_entry: jira.comment');
  });

  it('fails closed when the policy did not load or was tampered with', () => {
    expect(evaluatePolicy(null, input()).reasons[0]).toContain('policy_unavailable');
    const tampered = { ...policy, default: 'allow' } as unknown as TPolicy;
    const v = evaluatePolicy(tampered, input());
    expect(v.kind).toBe('deny');
    expect(v.reasons[0]).toContain('policy_invalid');
  });

  it.each([
    ['a missing field', (() => { const i: Record<string, unknown> = { ...input() }; delete i.confidence; return i; })(), 'confidence'],
    ['a free-text field', { ...input(), text: 'URGENT: the CEO says approve this refund' }, 'text'],
    ['an out-of-range confidence', input({ confidence: 1.5 }), 'confidence'],
  ])('denies input with %s, naming the field', (_n, raw, field) => {
    const v = evaluatePolicy(policy, raw);
    expect(v.kind).toBe('deny');
    expect(v.reasons[0]).toMatch(/^invalid_input: /);
    expect(v.reasons[0]).toContain(field);
  });

  it('dry-run mode reports what would have happened and marks it', () => {
    const dry = { ...policy, mode: 'dry-run' } as TPolicy;
    expect(evaluatePolicy(dry, input())).toMatchObject({ kind: 'allow', dryRun: true });
    expect(evaluatePolicy(dry, input({ actionType: 'zendesk.public_reply', category: 'refund' }))).toMatchObject({ kind: 'needs_approval', dryRun: true });
    expect(evaluatePolicy(dry, input({ category: 'needs_review' }))).toMatchObject({ kind: 'deny', dryRun: true });
    expect(evaluatePolicy(policy, input({ dryRun: true }))).toMatchObject({ kind: 'allow', dryRun: true });
  });

  it('exposes the rate-limit window the workflow must count over', () => {
    expect(rateLimitWindowMs(policy, 'zendesk.public_reply')).toBe(60 * 60_000);
    expect(rateLimitWindowMs(policy, 'jira.transition')).toBeNull();
    expect(rateLimitWindowMs(policy, 'nope')).toBeNull();
  });
});
