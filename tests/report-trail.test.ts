// A report rebuilt from its audit trail (activities/report-trail.ts): for a needs_review report a
// burst adopted from its theme (grouping TBurstRule.adopt), the fragment the adoption names, in the
// adopting issue's category, with the segments its theme member recorded and the adoption as its
// grouping; nothing when the trail lacks the triage events. The split's reader (occurrenceFromTrail)
// shares the rebuilding and still gives the whole message where routing linked it.
import { describe, expect, it } from 'vitest';
import type { TAuditEvent, TAuditPayloads } from '../activities/audit/events.js';
import type { TAdoption } from '../activities/grouping/assign.js';
import { adoptionRecord } from '../activities/grouping/route.js';
import { adoptedOccurrence, homesOf, occurrenceFromTrail } from '../activities/report-trail.js';
import { ZOccurrence } from '../workflows/messages.js';

const MASKED = 'Hello, this is [NAME]. Something odd happens with the sync, error E4339 each time. Also billing is wrong (code B12).';
const SPAN = { start: 23, end: 82 };
const AT = '2026-11-30T10:00:00.000Z';

let seq = 0;
function ev<K extends keyof TAuditPayloads>(kind: K, eventKey: string, payload: TAuditPayloads[K], workflowId = 'feedback:api:r1'): TAuditEvent {
  seq += 1;
  return { seq, workflowId, workflowSeq: seq, runId: 'run-1', eventKey, at: '2026-11-30T10:00:05.000Z', actor: { type: 'worker', id: 'w' }, prevHash: '0'.repeat(64), hash: 'f'.repeat(64), hashVersion: 2, keyId: 'k', origin: null, kind, payload } as TAuditEvent;
}

const received = ev('received', 'received:api:1', { source: 'api', externalId: 'r1', receivedAt: AT, customerTier: 'enterprise', customerRef: 'c0ffee0123456789', customerValue: 1200, maskedText: MASKED, redactionCount: 1 });
const classified = ev('classified', 'classified:m:1', { category: 'needs_review', confidence: 0.31, source: 'local', modelVersion: 'm', taxonomyVersion: 't', severity: { level: 'high', score: 0.7 } });
const evidence = ev('evidence', 'evidence:x:1', {
  items: [
    { kind: 'error_code', value: 'E4339', ref: `${MASKED.indexOf('E4339')}-${MASKED.indexOf('E4339') + 5}` },
    { kind: 'error_code', value: 'B12', ref: `${MASKED.indexOf('B12')}-${MASKED.indexOf('B12') + 3}` },
  ],
});
const adoption: TAdoption = {
  memberKey: `api:r1#${SPAN.start}-${SPAN.end}`,
  feedbackId: 'api:r1',
  themeId: 'theme.5d41402abc4b',
  at: AT,
  similarity: 0.812,
  threshold: 0.4,
  segments: { platform: 'ios', region: 'eu-west' },
};
const X = 'app_crash.0123456789ab';
const decision = { method: 'similarity' as const, fingerprint: { key: X, category: 'app_crash', features: ['group:x'], version: 'g' }, nearest: { key: X, similarity: 0.7 }, threshold: 0.3, features: ['burst:region:eu-west', 'window:4/0.1', 'partition:app_crash'], version: 'grp-6', encoder: 'enc@1' };

describe('the occurrence of an adopted report, from its trail', () => {
  it("is the adopted fragment, in the adopting issue's category, with the theme member's segments and the adoption as its grouping", () => {
    const occ = adoptedOccurrence([received, classified, evidence], adoption, decision);
    expect(occ).toEqual({
      feedbackId: 'api:r1',
      source: 'api',
      customerId: 'c0ffee0123456789',
      tier: 'enterprise',
      lifetimeValue: 1200,
      severity: 'high',
      confidence: 0.31,
      category: 'app_crash',
      at: AT,
      // Only the evidence within the fragment's span: B12 belongs to the message's other fragment.
      evidence: [{ kind: 'error_code', value: 'E4339', normalized: 'e4339', start: MASKED.indexOf('E4339'), end: MASKED.indexOf('E4339') + 5 }],
      excerpt: MASKED.slice(SPAN.start, SPAN.end),
      segments: { platform: 'ios', region: 'eu-west' },
      // The bar the adopted report passed (the review bar), not the adopting decision's 0.3.
      grouping: { method: 'similarity', nearest: { key: X, similarity: 0.812 }, threshold: 0.4 },
    });
    // What the IssueWorkflow accepts as sent.
    expect(ZOccurrence.safeParse(occ).success).toBe(true);
  });

  it('is null when the trail lacks the classification or the report itself (the adoption is skipped)', () => {
    expect(adoptedOccurrence([received, evidence], adoption, decision)).toBeNull();
    expect(adoptedOccurrence([classified, evidence], adoption, decision)).toBeNull();
    expect(adoptedOccurrence([], adoption, decision)).toBeNull();
  });

  it("is linked on the report's trail with the adoption's own similarity and theme, and homesOf then finds it in the issue", () => {
    const record = adoptionRecord(decision, adoption);
    expect(record).toEqual({ method: 'similarity', nearest: { key: X, similarity: 0.812 }, threshold: 0.4, features: ['adopted:theme.5d41402abc4b', ...decision.features], version: 'grp-6', encoder: 'enc@1' });
    const linked = ev('issue_linked', `linked:${X}`, { issueWorkflowId: `issue:${X}`, fingerprint: X, grouping: record, adoptedBy: 'api:z9' });
    expect(homesOf([received, classified, evidence, linked])).toEqual([X]);
    // A split of the issue finds it there, as the adoption delivered it (whole message: the split's reader).
    expect(occurrenceFromTrail('api:r1', [received, classified, evidence, linked], [X])).toMatchObject({ category: 'app_crash', excerpt: MASKED, grouping: { method: 'similarity', nearest: { key: X, similarity: 0.812 }, threshold: 0.4 } });
  });
});

describe('a report routing linked, from its trail (the split reader, unchanged)', () => {
  it('is the whole message in its home issue, with the grouping its issue_linked recorded and no segments', () => {
    const linked = ev('issue_linked', 'linked:sync.aaaaaaaaaaaa', { issueWorkflowId: 'issue:sync.aaaaaaaaaaaa', fingerprint: 'sync.aaaaaaaaaaaa', grouping: { method: 'new_issue', threshold: 0.5, features: [], version: 'grp-6' } });
    const occ = occurrenceFromTrail('api:r1', [received, classified, evidence, linked], ['sync.aaaaaaaaaaaa']);
    expect(occ).toMatchObject({ category: 'sync', excerpt: MASKED, grouping: { method: 'new_issue', threshold: 0.5 } });
    expect(occ!.evidence.map((e) => e.value)).toEqual(['E4339', 'B12']);
    expect(occ).not.toHaveProperty('segments');
    expect(occurrenceFromTrail('api:r1', [received, classified, evidence, linked], ['other.bbbbbbbbbbbb'])).toBeNull();
  });
});
