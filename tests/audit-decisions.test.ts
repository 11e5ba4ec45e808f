// Every decision attempt is evidence: accepted, partial, refused and ignored approval clicks are
// stored with the Slack user as actor and the attempt's own time (not the time of the append or
// of a later journal flush), found by actor and kind, and covered by the keyed chain.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TAuditActor, TAuditAppend } from '../activities/audit/index.js';
import { auditBackends } from './helpers/audit-backends.js';

const backends = await auditBackends('audit-decisions');
afterEach(backends.cleanup);
afterAll(backends.stop);

const bob: TAuditActor = { type: 'user', id: 'U0BOB', displayName: 'Bob' };
const carol: TAuditActor = { type: 'user', id: 'U0CAROL', displayName: 'Carol' };
const wf = 'issue:billing_error.abc';

const attempts: TAuditAppend[] = [
  {
    workflowId: wf,
    eventKey: 'decision:req-1:U0BOB:1',
    actor: bob,
    kind: 'approved',
    at: '2026-11-29T10:00:01.250Z',
    payload: { stepId: 'refund', approverId: 'U0BOB', approverName: 'Bob', requestId: 'req-1', via: 'slack', attemptedAt: '2026-11-29T10:00:01.250Z', approvalsGiven: 1, approvalsRequired: 2 },
  },
  {
    workflowId: wf,
    eventKey: 'decision:req-1:U0BOB:2',
    actor: bob,
    kind: 'approval_refused',
    at: '2026-11-29T10:00:03.000Z',
    payload: { stepId: 'refund', approverId: 'U0BOB', approverName: 'Bob', decision: 'approve', code: 'duplicate', reason: 'Bob already approved this step', requestId: 'req-1', via: 'slack', attemptedAt: '2026-11-29T10:00:03.000Z' },
  },
  {
    workflowId: wf,
    eventKey: 'decision:req-0:U0CAROL:1',
    actor: carol,
    kind: 'approval_ignored',
    at: '2026-11-29T10:00:04.500Z',
    payload: { stepId: 'refund', approverId: 'U0CAROL', approverName: 'Carol', decision: 'reject', code: 'stale_request', reason: 'button of an earlier request (req-0)', requestId: 'req-0', via: 'slack', attemptedAt: '2026-11-29T10:00:04.500Z' },
  },
];

for (const [backend, enabled] of backends.all) {
  describe.skipIf(!enabled)(`decision attempts on ${backend.name}${enabled ? '' : ` (SKIPPED: ${backends.pgSkipReason})`}`, () => {
    it('stores partial, refused and ignored attempts with the Slack user and the attempt time, and finds them by actor', async () => {
      const f = await backend.fresh({ keyed: true });
      const stored = await f.store.appendMany(attempts);
      expect(stored.map((e) => [e.kind, e.actor.id, e.at])).toEqual([
        ['approved', 'U0BOB', '2026-11-29T10:00:01.250Z'],
        ['approval_refused', 'U0BOB', '2026-11-29T10:00:03.000Z'],
        ['approval_ignored', 'U0CAROL', '2026-11-29T10:00:04.500Z'],
      ]);
      expect((await f.store.search({ actorId: 'U0CAROL' })).map((e) => e.kind)).toEqual(['approval_ignored']);
      const refused = await f.store.search({ kind: ['approval_refused', 'approval_ignored'] });
      expect(refused.map((e) => e.payload)).toMatchObject([{ code: 'duplicate', attemptedAt: '2026-11-29T10:00:03.000Z' }, { code: 'stale_request', requestId: 'req-0' }]);
      expect(await f.store.verify(wf)).toMatchObject({ ok: true, checkedEvents: 3 });
      // The attempt is hashed: back-dating a refused click is tampering.
      await f.dropGuards();
      await f.sql(`UPDATE audit_events SET payload = REPLACE(payload, '10:00:04.500Z', '09:00:00.000Z') WHERE kind = 'approval_ignored'`);
      expect((await f.store.verify(wf)).firstBroken?.reason).toBe('hash_mismatch');
    });

    it('rejects an attempt without who, with an unknown ignore code or a malformed attempt time', async () => {
      const f = await backend.fresh();
      const ignored = attempts[2]!;
      await expect(f.store.append({ ...ignored, payload: { ...ignored.payload, approverId: '' } } as TAuditAppend)).rejects.toMatchObject({ code: 'invalid_input' });
      await expect(f.store.append({ ...ignored, payload: { ...ignored.payload, code: 'whatever' } } as TAuditAppend)).rejects.toThrow(/payload\.code/);
      await expect(f.store.append({ ...ignored, payload: { ...ignored.payload, attemptedAt: 'yesterday' } } as TAuditAppend)).rejects.toThrow(/attemptedAt/);
    });
  });
}
