// The issue console over real HTTP on `temporal server start-dev` (visibility filters need the real
// server): GET /v1/issues (titles, filters, sort by severity → reports → age, paging) and
// GET /v1/issues/:id (why grouped, timeline, links), and snooze / reclassify / close as the
// workflow's Updates, as the API token's principal, refusals as 409 with the validator's code.
// Every answer is also checked against the schema /openapi.json documents for its status.
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { parseApiToken } from '../worker/http/auth.js';
import type { TIssuePage } from '../worker/issues.js';
import { command as reclassify } from '../worker/commands/reclassify.js';
import { command as snooze } from '../worker/commands/snooze.js';
import { command as closeCmd } from '../worker/commands/close.js';
import { createStatusCommand, type TStatusReport } from '../worker/commands/status.js';
import type { TemporalSession } from '../worker/commands/approve.js';
import { approvalTestPlaybook, createLoopHarness, fingerprint, type LoopHarness } from './helpers/loop-harness.js';

const TOKEN = 'tok-gus-0123456789';
const UNBOUND = 'tok-intake-0123456789';
let h: LoopHarness;
let app: FastifyInstance;
let base: string;
let conforms: (method: string, path: string, status: number, body: unknown) => void;

beforeAll(async () => {
  h = await createLoopHarness({ playbooks: [approvalTestPlaybook()], server: 'dev-server' });
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  app = await createHttpApp({
    temporal: { client: h.env.client, taskQueue: h.taskQueue },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit: h.audit,
    policy: null,
    config: { apiTokens: [`U07SUPMGR:Gus Manager:${TOKEN}`, UNBOUND].map(parseApiToken) },
    links: { temporalUi: { url: 'http://localhost:8233', namespace: 'default' } },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>; components: object };
  const ajv = new Ajv2020({ strict: false, logger: false, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  const templates = Object.keys(doc.paths).map((t) => ({ t, re: new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`) }));
  conforms = (method, path, status, body) => {
    const template = templates.find((x) => x.re.test(path.split('?')[0]!))?.t;
    const schema = template && doc.paths[template]![method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']?.schema;
    expect(schema, `${method} ${template ?? path} documents ${status}`).toBeDefined();
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as object);
    expect(validate(body), `${method} ${path} ${status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
  };
}, 180_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function api(method: 'GET' | 'POST', path: string, body?: unknown, token = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  conforms(method, path, res.status, json);
  return { status: res.status, json };
}

async function page(query: string): Promise<TIssuePage> {
  const r = await api('GET', `/v1/issues${query}`);
  expect(r.status).toBe(200);
  return r.json as unknown as TIssuePage;
}

function cliIo(): { out: string[]; err: string[]; io: { stdin: NodeJS.ReadStream; stdout: never; stderr: never; env: NodeJS.ProcessEnv } } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdin: process.stdin,
      stdout: { write: (t: string) => out.push(t) } as never,
      stderr: { write: (t: string) => err.push(t) } as never,
      env: { LOOPWRIGHT_API_URL: base, LOOPWRIGHT_API_TOKEN: TOKEN },
    },
  };
}

async function eventually<T>(fn: () => Promise<T>, ok: (t: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 200; i++) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
}

describe('the issue console over HTTP', () => {
  it('lists issues with titles, sorted and filtered; shows one with why it was grouped; snoozes, reclassifies and closes through Updates', async () => {
    const crash = fingerprint('app_crash', '0000000000e1');
    const perf = { ...fingerprint('performance', '0000000000e2'), features: ['code:E504'] };
    const billing = fingerprint('billing', '0000000000e3');
    const ids = { crash: `issue:${crash.key}`, perf: `issue:${perf.key}`, billing: `issue:${billing.key}` };
    await h.run(async () => {
      await h.report(crash, { feedbackId: 'api:c1', severity: 'high', excerpt: 'The app crashes when I open settings on my phone after the update' });
      for (let i = 0; i < 3; i++) {
        const outcome = { probabilities: { explanation: 0.7 - i * 0.1, non_monetary_relief: 0.2, monetary_relief: 0.1 + i * 0.1 }, reliefProbability: 0.3 + i * 0.1, timelinessRisk: 0.06, modelVersion: 'outcome@0123456789ab' };
        await h.report(perf, { feedbackId: `api:p${i}`, outcome, severity: 'medium', excerpt: 'Pages take forever to load', grouping: { method: i === 2 ? 'similarity' : 'fingerprint', ...(i === 2 ? { nearest: { key: perf.key, similarity: 0.83 }, threshold: 0.78 } : {}) } });
      }
      await h.report(billing, { feedbackId: 'api:b1', severity: 'low', excerpt: 'I was charged twice' });
      await h.waitFor(ids.crash, (s) => s.status === 'awaiting_approval', 'crash approval');
      await h.waitFor(ids.perf, (s) => s.occurrences === 3, 'perf reports');

      // Severity first (high, medium, low), titles in words, counts and the pending approval.
      const all = await eventually(() => page(''), (p) => p.total === 3, 'three issues listed');
      expect(all.items.map((i) => [i.id, i.severity, i.reports])).toEqual([
        [ids.crash, 'high', 1],
        [ids.perf, 'medium', 3],
        [ids.billing, 'low', 1],
      ]);
      expect(all.items[0]).toMatchObject({ title: 'App crash: "The app crashes when I open settings on my phone after the update"', status: 'awaiting_approval', pendingApprovals: 1 });
      expect(all.items[1]!.title).toBe('Performance: "Pages take forever to load"');
      expect((await page('?sort=reports')).items[0]!.id).toBe(ids.perf);

      // Filters (search attributes) and paging.
      expect((await page('?category=performance,billing')).items.map((i) => i.id)).toEqual([ids.perf, ids.billing]);
      expect((await page('?severity=medium')).items.map((i) => i.id)).toEqual([ids.crash, ids.perf]);
      expect((await page('?status=awaiting_approval')).items.map((i) => i.id)).toEqual([ids.crash]);
      const first = await page('?limit=2');
      expect(first.items).toHaveLength(2);
      expect(first.next).toBe('2');
      const second = await page(`?limit=2&cursor=${first.next}`);
      expect(second.items.map((i) => i.id)).toEqual([ids.billing]);
      expect(second.next).toBeNull();
      // `loopwright status` reads the same listing: its flags are the API's filters, --json one document.
      const status = createStatusCommand(
        async (): Promise<TemporalSession> => ({ client: h.env.client, taskQueue: h.taskQueue, close: async () => {} }),
        async () => ({ ...h.audit, close: async () => {} }),
      );
      const noGroupingStore = ['--db', `${tmpdir()}/loopwright-http-issues-none.sqlite`];
      const st = cliIo();
      expect(await status.run(['--json', '--severity', 'medium', '--sort', 'reports', ...noGroupingStore], st.io)).toBe(0);
      const report = JSON.parse(st.out.join('')) as TStatusReport;
      expect(report.issues.items.map((i) => i.id)).toEqual([ids.perf, ids.crash]);
      expect(report.pending).toEqual([expect.objectContaining({ id: ids.crash, title: all.items[0]!.title, approval: expect.objectContaining({ stepId: 'start-work' }) })]);
      const byStatus = cliIo();
      expect(await status.run(['--json', '--status', 'awaiting_approval', ...noGroupingStore], byStatus.io)).toBe(0);
      expect((JSON.parse(byStatus.out.join('')) as TStatusReport).issues.items.map((i) => i.id)).toEqual([ids.crash]);
      const table = cliIo();
      expect(await status.run(['--category', 'performance,billing', ...noGroupingStore], table.io)).toBe(0);
      const rows = table.out.join('').split('\n').filter((l) => l.startsWith('  ') && l.includes('issue:'));
      expect(rows.slice(0, 2).map((l) => /issue:\S+/.exec(l)?.[0])).toEqual([ids.perf, ids.billing]);
      expect(rows[0]).toContain('Performance: "Pages take forever to load"');
      const badFlag = cliIo();
      expect(await status.run(['--severity', 'urgent', ...noGroupingStore], badFlag.io)).toBe(2);
      expect(badFlag.err.join('')).toContain('--severity:');

      const bad = await api('GET', '/v1/issues?severity=urgent&limit=0');
      expect(bad.status).toBe(400);
      expect((bad.json.error as { fields: Array<{ path: string }> }).fields.map((f) => f.path).sort()).toEqual(['limit', 'severity']);

      // One issue: state, why grouped, timeline, links.
      const one = await api('GET', `/v1/issues/${encodeURIComponent(ids.perf)}`);
      expect(one.status).toBe(200);
      const detail = one.json as { state: { groupedBy: string; title: string }; timeline: Array<{ kind: string }>; links: { temporal: string } };
      expect(detail.state.groupedBy).toBe(
        'Same category (performance) and error code E504 (fingerprint test): 2 reports; joined by meaning (most similar open issue of the category, similarity ≥ 0.83 over a threshold of 0.78): 1 report.',
      );
      expect(detail.timeline[0]).toMatchObject({ kind: 'opened' });
      expect(detail.links.temporal).toBe(`http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(ids.perf)}`);
      // The predicted outcome (mean of the reports') with its timeliness risk, as numbers and in words (#16).
      const outlook = one.json as { state: { predictedOutcome: { reliefProbability: number } }; outlook: { outcome: string | null; forecast: string | null } };
      expect(outlook.state.predictedOutcome.reliefProbability).toBe(0.4);
      expect(outlook.outlook).toEqual({ outcome: 'closed with explanation 60% · relief 40% · untimely risk 6% (outcome@0123456789ab)', forecast: null });
      const crashOne = await api('GET', `/v1/issues/${encodeURIComponent(ids.crash)}`);
      expect(crashOne.json.outlook).toMatchObject({ outcome: null });
      expect((await api('GET', `/v1/issues/${perf.key}`)).status).toBe(200); // the id without its prefix
      expect((await api('GET', '/v1/issues/issue:billing.ffffffffffff')).status).toBe(404);
      expect((await api('GET', '/v1/issues/not-an-id')).status).toBe(400);

      // Commands, as the token's principal.
      const snoozed = await api('POST', `/v1/issues/${ids.billing}/snooze`, { minutes: 90 });
      expect(snoozed.status).toBe(200);
      expect(Date.parse(snoozed.json.until as string)).toBeGreaterThan(Date.now() + 80 * 60_000);
      expect((await api('POST', `/v1/issues/${ids.billing}/snooze`, { minutes: 0 })).status).toBe(400);
      expect((await api('POST', `/v1/issues/${ids.billing}/snooze`, { minutes: 5 }, UNBOUND)).status).toBe(403);
      // The CLI sends the same command through the API.
      const out: string[] = [];
      const err: string[] = [];
      const io = {
        stdin: process.stdin,
        stdout: { write: (t: string) => out.push(t) } as never,
        stderr: { write: (t: string) => err.push(t) } as never,
        env: { LOOPWRIGHT_API_URL: base, LOOPWRIGHT_API_TOKEN: TOKEN },
      };
      expect(await reclassify.run([billing.key, '--category', 'payment_failure', '--reason', 'it is a PSP problem'], io)).toBe(0);
      expect(out.join('')).toBe(`${ids.billing} reclassified from billing to payment_failure\n`);
      expect(await reclassify.run([billing.key], io)).toBe(2);
      expect(err.join('')).toContain('--category CATEGORY is required');
      expect((await h.state(ids.billing)).category).toBe('payment_failure');
      // snooze and close from the CLI too (the same Updates, as the token's principal).
      const sn = cliIo();
      expect(await snooze.run([crash.key, '--minutes', '30'], sn.io)).toBe(0);
      expect(sn.out.join('')).toMatch(new RegExp(`^${ids.crash.replace('.', '\\.')} snoozed until 20\\d\\d-`));
      await eventually(() => h.state(ids.crash), (s) => s.snoozedUntil !== null, 'crash snoozed');
      const snBad = cliIo();
      expect(await snooze.run([crash.key], snBad.io)).toBe(2);
      expect(snBad.err.join('')).toContain('--minutes N is required');
      const closed = await api('POST', `/v1/issues/${ids.billing}/close`, { reason: 'duplicate of the PSP incident' });
      expect(closed).toMatchObject({ status: 200, json: { status: 'closing' } });
      const again = await api('POST', `/v1/issues/${ids.billing}/close`, { reason: 'twice' });
      expect([404, 409]).toContain(again.status); // refused by the validator while closing, or gone once closed
      if (again.status === 409) expect(again.json.refusal).toBe('closed');
      await eventually(() => page('?closed=true&status=closed'), (p) => p.items.some((i) => i.id === ids.billing), 'closed issue listed');
      expect((await page('')).items.map((i) => i.id)).not.toContain(ids.billing);

      const cl = cliIo();
      expect(await closeCmd.run([ids.crash, '--reason', 'test over'], cl.io)).toBe(0);
      expect(cl.out.join('')).toBe(`${ids.crash} is closing; start-work will not run\n`);
      const clAgain = cliIo();
      expect(await closeCmd.run([ids.crash, '--reason', 'twice'], clAgain.io)).toBe(1);
      expect(clAgain.err.join('')).toMatch(/^loopwright close: not recorded/);
      await api('POST', `/v1/issues/${ids.perf}/close`, { reason: 'test over' });
    });
    const crashTrail = await h.audit.trail(ids.crash);
    expect(crashTrail.find((e) => e.kind === 'snoozed')).toMatchObject({ actor: { id: 'U07SUPMGR' }, payload: { minutes: 30 } });
    expect(crashTrail.find((e) => e.kind === 'closed')).toMatchObject({ actor: { id: 'U07SUPMGR' } });
    const trail = await h.audit.trail(ids.billing);
    const byKind = (k: string) => trail.find((e) => e.kind === k);
    expect(byKind('snoozed')).toMatchObject({ actor: { id: 'U07SUPMGR', displayName: 'Gus Manager' }, payload: { minutes: 90 } });
    expect(byKind('reclassified')).toMatchObject({ actor: { id: 'U07SUPMGR' }, payload: { from: 'billing', to: 'payment_failure' } });
    expect(byKind('closed')).toMatchObject({ actor: { id: 'U07SUPMGR' } });
  }, 240_000);
});
