// parseOccurrence (workflows/messages.ts): what the IssueWorkflow reads from an occurrence signal.
// Unknown fields at any depth are dropped and named; known fields keep their strict checks.
import { describe, expect, it } from 'vitest';
import { parseOccurrence } from '../workflows/messages.js';

const base = { feedbackId: 'api:1', source: 'api', tier: 'standard', severity: 'medium', confidence: 0.9, category: 'app_crash', at: '2026-11-29T10:00:00.000Z', evidence: [], excerpt: 'x' };

describe('parseOccurrence', () => {
  it('accepts what the strict schema accepts, ignoring nothing', () => {
    expect(parseOccurrence(base)).toEqual({ ok: true, value: base, ignored: [] });
  });

  it('drops unknown fields at the top level and inside nested objects, and names them', () => {
    const raw = { ...base, language: 'de', grouping: { method: 'fingerprint', extra: 1, nearest: { key: 'k', similarity: 0.5, model: 'm' } } };
    const r = parseOccurrence(raw);
    expect(r).toEqual({ ok: true, value: { ...base, grouping: { method: 'fingerprint', nearest: { key: 'k', similarity: 0.5 } } }, ignored: expect.arrayContaining(['language', 'grouping.extra', 'grouping.nearest.model']) });
    expect(raw.language).toBe('de');
  });

  it('still refuses a known field with a wrong value, even next to unknown ones', () => {
    const r = parseOccurrence({ ...base, confidence: 2, language: 'de' });
    expect(r.ok).toBe(false);
    expect(parseOccurrence({ ...base, severity: 'apocalyptic' }).ok).toBe(false);
    expect(parseOccurrence(null).ok).toBe(false);
  });
});
