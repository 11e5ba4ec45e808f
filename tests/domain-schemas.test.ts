import { describe, expect, it } from 'vitest';
import { ZFeedbackItem, feedbackWorkflowId, MAX_FEEDBACK_TEXT_CHARS } from '../workflows/domain/feedback.js';
import { ZTaxonomy } from '../workflows/domain/taxonomy.js';
import { LoopwrightError, formatIssues } from '../workflows/domain/errors.js';

const base = { source: 'api', externalId: 'T-1', text: 'Checkout fails with E1234', receivedAt: '2026-11-01T10:00:00Z' };

describe('FeedbackItem', () => {
  it('accepts a minimal item and fills documented defaults', () => {
    const item = ZFeedbackItem.parse(base);
    expect(item.channel).toBe('other');
    expect(item.locale).toBe('en');
    expect(item.metadata).toEqual({});
    expect(feedbackWorkflowId(item)).toBe('feedback:api:T-1');
  });

  it('rejects unknown fields, naming them', () => {
    const r = ZFeedbackItem.safeParse({ ...base, txet: 'typo' });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!.issues)).toContain('txet');
  });

  it.each([
    ['empty text', { text: '   ' }, 'text: text must not be empty'],
    ['oversized text', { text: 'x'.repeat(MAX_FEEDBACK_TEXT_CHARS + 1) }, 'text: text is longer'],
    ['non-slug source', { source: 'Zen Desk' }, 'source: source must be a lowercase slug'],
    ['bad timestamp', { receivedAt: 'yesterday' }, 'receivedAt'],
  ])('rejects %s with a field-level message', (_name, patch, expected) => {
    const r = ZFeedbackItem.safeParse({ ...base, ...patch });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!.issues)).toContain(expected);
  });
});

describe('Taxonomy schema', () => {
  const cat = (id: string) => ({ id, description: 'a category for testing', ownerTeam: 'support', examples: ['one', 'two', 'three'] });

  it('rejects duplicate category ids with the path of the duplicate', () => {
    const r = ZTaxonomy.safeParse({ id: 't', version: '1.0.0', categories: [cat('billing'), cat('billing')] });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!.issues)).toContain('categories.1.id: duplicate category id "billing"');
  });

  it('rejects a misspelled key instead of ignoring it', () => {
    const r = ZTaxonomy.safeParse({ id: 't', version: '1.0.0', categories: [cat('a_b'), { ...cat('c_d'), exmaples: [] }] });
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!.issues)).toContain('exmaples');
  });
});

describe('LoopwrightError', () => {
  it('classifies retryability by code unless told otherwise', () => {
    expect(new LoopwrightError('rate_limited', 'slow down').retryable).toBe(true);
    expect(new LoopwrightError('invalid_input', 'bad').retryable).toBe(false);
    expect(new LoopwrightError('upstream_rejected', 'x', { retryable: true }).retryable).toBe(true);
  });
});
