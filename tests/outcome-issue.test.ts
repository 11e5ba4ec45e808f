import { describe, expect, it } from 'vitest';
import { planRoutes } from '../activities/routing.js';
import { computeFingerprint } from '../activities/triage/fingerprint.js';
import { addOutcome, describeOutcome, issueOutcome, type TOutcomePrediction } from '../workflows/domain/outcome.js';
import type { TTriageResult } from '../workflows/domain/triage.js';
import { absorbOccurrences, initialIssueState, issueView } from '../workflows/issue/state.js';

const prediction = (monetary: number, version = 'outcome@aaaaaaaaaaaa'): TOutcomePrediction => ({
  label: monetary > 0.3 ? 'monetary_relief' : 'explanation',
  probabilities: { explanation: Math.round((0.9 - monetary) * 1e4) / 1e4, non_monetary_relief: 0.1, monetary_relief: monetary },
  reliefProbability: Math.round((monetary + 0.1) * 1e4) / 1e4,
  timelinessRisk: 0.02,
  modelVersion: version,
  drivers: [{ feature: 'company=acme', weight: 0.5 }],
});

function triaged(id: string, outcome?: TOutcomePrediction): TTriageResult {
  const fingerprint = computeFingerprint({ category: 'billing', evidence: [], product: 'cards' });
  const classification = { category: 'billing', confidence: 0.9, alternatives: [], source: 'local' as const, taxonomyVersion: 't@1', modelVersion: 'm@1', promptVersion: null };
  const severity = { level: 'medium' as const, score: 0.4, reasons: [] };
  const text = 'charged twice, please refund';
  return {
    source: 'api',
    externalId: id,
    receivedAt: '2026-11-29T10:00:00Z',
    channel: 'email',
    masked: { text, redactions: [] },
    classification,
    severity,
    sentiment: { label: 'negative', score: -0.4 },
    evidence: [],
    fingerprint,
    fragments: [{ text, start: 0, end: text.length, classification, severity, evidence: [], fingerprint }],
    taxonomyVersion: 't@1',
    ...(outcome ? { outcome } : {}),
  };
}

describe('the predicted outcome on the issue', () => {
  it('routing carries each message’s probabilities (not its drivers); the issue state holds their mean and shows it', () => {
    const [r1] = planRoutes(triaged('a', prediction(0.5)), null);
    const [r2] = planRoutes(triaged('b', prediction(0.1, 'outcome@bbbbbbbbbbbb')), null);
    const [r3] = planRoutes(triaged('c'), null);
    expect(r1!.occurrence.outcome).toEqual({ probabilities: prediction(0.5).probabilities, reliefProbability: 0.6, timelinessRisk: 0.02, modelVersion: 'outcome@aaaaaaaaaaaa' });
    expect(r1!.occurrence).not.toHaveProperty('outcome.drivers');
    expect(r3!.occurrence.outcome).toBeUndefined();

    const s = initialIssueState(r1!.fingerprint);
    expect(issueView(r1!.fingerprint, s, []).predictedOutcome).toBeUndefined();
    absorbOccurrences(s, [r1!.occurrence, r2!.occurrence, r3!.occurrence]);
    const view = issueView(r1!.fingerprint, s, []);
    expect(view.predictedOutcome).toEqual({
      probabilities: { explanation: 0.6, non_monetary_relief: 0.1, monetary_relief: 0.3 },
      reliefProbability: 0.4,
      timelinessRisk: 0.02,
      modelVersion: 'outcome@bbbbbbbbbbbb',
    });
    // A re-delivered occurrence does not count twice.
    absorbOccurrences(s, [r1!.occurrence]);
    expect(s.outcome?.n).toBe(2);
  });

  it('issueOutcome is null without predictions, which policies treat as missing', () => {
    expect(issueOutcome(undefined)).toBeNull();
    expect(issueOutcome(addOutcome(undefined, { ...prediction(0.2) }))?.probabilities.monetary_relief).toBe(0.2);
    expect(describeOutcome(undefined)).toBe('Likely outcome: no prediction');
    expect(describeOutcome(prediction(0.45))).toBe('Likely outcome: monetary relief (refund) 45% · relief 55% · untimely risk 2% (outcome@aaaaaaaaaaaa)');
    // An issue's mean has no decided label: its likeliest outcome is named.
    const mean = issueOutcome(addOutcome(addOutcome(undefined, prediction(0.2)), prediction(0.4)));
    expect(describeOutcome(mean)).toBe('Likely outcome: closed with explanation 60% · relief 40% · untimely risk 2% (outcome@aaaaaaaaaaaa)');
  });
});
