import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextActivities, validateContextSources } from '../activities/context/activities.js';
import type { TContextEventInput } from '../activities/context/events.js';
import { createFileContextSource } from '../activities/context/file-source.js';
import { createHttpContextSource } from '../activities/context/http-source.js';
import type { ContextSource } from '../activities/context/ports.js';
import { rankHypotheses, tokensMatch, type TRankIssueInput } from '../activities/context/rank.js';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { parse as parseYaml } from 'yaml';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'context');
const fixtureEvents = (parseYaml(readFileSync(join(FIXTURES, 'events.yaml'), 'utf8')) as { events: TContextEventInput[] }).events;

const crashIssue: TRankIssueInput = {
  category: 'app_crash',
  firstSeen: '2026-11-18T08:00:00Z',
  spikeAt: '2026-11-20T14:00:00Z',
  evidence: ['E1234', 'ios 17.2', '5.2.0'],
  segments: { versions: ['5.2.0'], platforms: ['ios 17.2'] },
};
const RANGE = { from: '2026-11-13T14:00:00Z', to: '2026-11-21T14:00:00Z' };

describe('rankHypotheses', () => {
  it('ranks the deploy that matches version and platform shortly before the spike first, with reasons', () => {
    const r = rankHypotheses(crashIssue, fixtureEvents);
    expect(r.verdict).toBe('ranked');
    const top = r.hypotheses[0]!;
    expect(top.eventId).toBe('deploy-ios-5.2.0');
    expect(top.kind).toBe('deploy');
    expect(top.factors).toMatchObject({ segments: 1, evidence: 1 });
    expect(top.factors.time).toBeGreaterThan(0.9);
    expect(top.score).toBeGreaterThan(0.8);
    expect(top.reasons).toEqual(
      expect.arrayContaining([
        'time: deploy 40 min before the issue (0.926)',
        'segments.versions: 5.2.0 covers 100% of the reports (match, +1.5)',
        'segments.platforms: ios covers 100% of the reports (match, +1.5)',
        'evidence: E1234 in the reports (1, +3.5)',
      ]),
    );
    // The flag shares the error code but is older and unscoped: a weaker, still plausible hypothesis.
    const ids = r.hypotheses.map((h) => h.eventId);
    expect(ids.indexOf('flag-image-prefetch')).toBeGreaterThan(0);
    // Changes after the spike cannot have caused it; contradicted segments never qualify.
    expect(ids).not.toContain('deploy-ios-5.2.1');
    expect(ids).not.toContain('deploy-android-5.2.0');
    const android = r.belowThreshold.find((h) => h.eventId === 'deploy-android-5.2.0');
    expect(android?.reasons.join(' ')).toContain('contradiction');
  });

  it('says insufficient_evidence for unrelated events instead of guessing', () => {
    const unrelated = fixtureEvents.filter((e) => ['deploy-web-2026-11-17', 'incident-eu-db', 'known-refund-delay', 'deploy-android-5.2.0'].includes(e.id));
    const r = rankHypotheses(crashIssue, unrelated);
    expect(r.verdict).toBe('insufficient_evidence');
    expect(r.hypotheses).toEqual([]);
    expect(r.considered).toBe(4);
    expect(r.belowThreshold.length).toBeGreaterThan(0);
  });

  it('does not treat time proximity alone as evidence', () => {
    const r = rankHypotheses(crashIssue, [{ id: 'd', kind: 'deploy', title: 'Unscoped backend deploy', at: '2026-11-20T13:55:00Z' }]);
    expect(r.verdict).toBe('insufficient_evidence');
    expect(r.belowThreshold[0]?.reasons.join(' ')).toContain('no specific match');
  });

  it('counts an open incident and matching category for a performance issue', () => {
    const r = rankHypotheses(
      { category: 'performance', firstSeen: '2026-11-20T12:10:00Z', segments: { regions: ['eu-west-1'] } },
      fixtureEvents,
    );
    expect(r.hypotheses[0]?.eventId).toBe('incident-eu-db');
    expect(r.hypotheses[0]?.reasons).toContain('segments.regions: eu-west-1 covers 100% of the reports (match, +1.5)');
    expect(r.hypotheses[0]?.reasons).toContain('time: incident open when the issue began (1)');
  });

  it('is deterministic regardless of input order', () => {
    const a = rankHypotheses(crashIssue, fixtureEvents);
    const b = rankHypotheses(crashIssue, [...fixtureEvents].reverse());
    expect(b).toEqual(a);
  });

  it('rejects malformed input naming the field', () => {
    expect(() => rankHypotheses({ ...crashIssue, firstSeen: 'last week' }, [])).toThrow(/issue: firstSeen/);
    expect(() => rankHypotheses(crashIssue, [{ id: 'x', kind: 'rumour', title: 't', at: '2026-11-20T13:55:00Z' } as unknown as TContextEventInput])).toThrow(/events\.0: kind/);
  });

  it('matches tokens at component boundaries only', () => {
    expect(tokensMatch('v5.2', '5.2.0')).toBe(true);
    expect(tokensMatch('iOS', 'ios 17.2')).toBe(true);
    expect(tokensMatch('5.2', '5.20')).toBe(false);
    expect(tokensMatch('e12', 'E1234')).toBe(false);
  });
});

describe('file context source', () => {
  it('reads YAML, validates and filters to the range', async () => {
    const src = createFileContextSource(join(FIXTURES, 'events.yaml'));
    expect(src.name).toBe('file:events.yaml');
    const events = await src.listEvents({ from: '2026-11-20T00:00:00Z', to: '2026-11-20T14:00:00Z' });
    expect(events.map((e) => e.id)).toEqual(['deploy-ios-5.2.0', 'deploy-android-5.2.0', 'flag-image-prefetch', 'incident-eu-db', 'known-refund-delay']);
    expect(events[1]?.evidence).toEqual([]);
  });

  it('names file, line and field of an invalid event', async () => {
    const src = createFileContextSource(join(FIXTURES, 'broken.yaml'));
    await expect(src.listEvents(RANGE)).rejects.toThrow(/^broken\.yaml:8:\d+: events\.1\.at/);
  });

  it('is validated at start-up with file, line and field, every bad source named at once', async () => {
    await expect(validateContextSources([createFileContextSource(join(FIXTURES, 'events.yaml'))])).resolves.toBeUndefined();
    const err = await validateContextSources([
      createFileContextSource(join(FIXTURES, 'broken.yaml')),
      createFileContextSource(join(FIXTURES, 'missing.yaml')),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopwrightError);
    expect((err as LoopwrightError).code).toBe('invalid_config');
    expect((err as LoopwrightError).message).toMatch(/file:broken\.yaml: broken\.yaml:8:\d+: events\.1\.at.*file:missing\.yaml: cannot read context file missing\.yaml: ENOENT/);
  });

  it('fails clearly on a missing file', async () => {
    await expect(createFileContextSource(join(FIXTURES, 'missing.yaml')).listEvents(RANGE)).rejects.toThrow('cannot read context file missing.yaml: ENOENT');
  });
});

describe('http context source', () => {
  const TOKEN = 'ctx-secret-token-123';
  const json = readFileSync(join(FIXTURES, 'events.json'), 'utf8');
  let server: Server;
  let base: string;
  const seen: Array<{ path: string; auth: string | undefined; from: string | null; to: string | null }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      seen.push({ path: u.pathname, auth: req.headers.authorization, from: u.searchParams.get('from'), to: u.searchParams.get('to') });
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      if (u.pathname === '/ok') {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, '{"error":"unauthorized"}');
        return send(200, json);
      }
      if (u.pathname === '/fail') return send(500, '{"error":"boom"}');
      if (u.pathname === '/malformed') return send(200, '{"events": [ {"id": ');
      if (u.pathname === '/invalid') return send(200, JSON.stringify({ events: [{ id: 'x', kind: 'deploy', title: 't', at: 'soon' }] }));
      if (u.pathname === '/limited') return send(429, '{}', { 'retry-after': '7' });
      return send(404, '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  });

  const source = (path: string, token = TOKEN) => createHttpContextSource({ url: `${base}${path}`, fetch, ...(token ? { token } : {}) });
  async function failure(p: Promise<unknown>): Promise<LoopwrightError> {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(LoopwrightError);
      expect((e as Error).message).not.toContain(TOKEN);
      return e as LoopwrightError;
    }
    throw new Error('expected a failure');
  }

  it('fetches with the bearer token and the range, validates and filters', async () => {
    const events = await source('/ok').listEvents(RANGE);
    expect(events.map((e) => e.id)).toEqual(['deploy-ios-5.2.0', 'incident-payments']);
    expect(seen.at(-1)).toEqual({ path: '/ok', auth: `Bearer ${TOKEN}`, from: RANGE.from, to: RANGE.to });
  });

  it('classifies a 500 as retryable upstream_unavailable', async () => {
    const e = await failure(source('/fail').listEvents(RANGE));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.retryable).toBe(true);
    expect(e.details.status).toBe(500);
  });

  it('classifies a malformed body as non-retryable upstream_rejected', async () => {
    const e = await failure(source('/malformed').listEvents(RANGE));
    expect(e.code).toBe('upstream_rejected');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('malformed JSON body');
  });

  it('names the invalid field of a well-formed but wrong body', async () => {
    const e = await failure(source('/invalid').listEvents(RANGE));
    expect(e.code).toBe('upstream_rejected');
    expect(e.message).toContain('events.0.at');
  });

  it('maps 401 and 429 (with Retry-After)', async () => {
    expect((await failure(source('/ok', '').listEvents(RANGE))).code).toBe('unauthorized');
    const limited = await failure(source('/limited').listEvents(RANGE));
    expect(limited.code).toBe('rate_limited');
    expect(limited.retryAfterMs).toBe(7_000);
  });

  it('reports an unreachable endpoint as retryable', async () => {
    const dead = createHttpContextSource({ url: 'http://127.0.0.1:1/events', fetch, token: TOKEN, timeoutMs: 2_000 });
    const e = await failure(dead.listEvents(RANGE));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.retryable).toBe(true);
  });

  it('rejects bad options without echoing them', () => {
    expect(() => createHttpContextSource({ url: 'ftp://x', fetch, token: TOKEN })).toThrow(/invalid_config|url/);
    try {
      createHttpContextSource({ url: 'not a url', fetch, token: TOKEN });
    } catch (e) {
      expect((e as Error).message).not.toContain(TOKEN);
    }
  });
});

describe('context activity', () => {
  const fileSource = createFileContextSource(join(FIXTURES, 'events.yaml'));
  const broken: ContextSource = {
    name: 'broken',
    listEvents: () => Promise.reject(new LoopwrightError('upstream_unavailable', 'down')),
  };

  it('ranks over the sources that answered and records the ones that failed', async () => {
    const acts = createContextActivities({ sources: [broken, fileSource] });
    const r = await acts.rankRootCauses(crashIssue);
    expect(r.verdict).toBe('ranked');
    expect(r.hypotheses[0]?.eventId).toBe('deploy-ios-5.2.0');
    expect(r.sources).toEqual(['broken', 'file:events.yaml']);
    expect(r.sourceErrors).toEqual([{ source: 'broken', code: 'upstream_unavailable', message: 'down' }]);
  });

  it('throws the source error when every source fails, so the activity retries', async () => {
    const acts = createContextActivities({ sources: [broken] });
    await expect(acts.rankRootCauses(crashIssue)).rejects.toMatchObject({ code: 'upstream_unavailable', retryable: true });
  });

  it('needs at least one source', () => {
    expect(() => createContextActivities({ sources: [] })).toThrow('at least one context source');
  });
});
