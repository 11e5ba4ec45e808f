// Operations by the conventions, over real HTTP: X-Request-Id accepted or generated and returned
// (and in the JSON log line), /metrics with standard names, an optional bearer token, cached
// visibility counts and the Temporal runtime's metrics merged in; the worker role's ops surface
// serving only health and metrics; pino JSON logs with LOG_LEVEL and the Temporal logger adapter.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteAuditStore, type AuditStore } from '../activities/audit/index.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createActivities } from '../activities/index.js';
import { createHttpApp } from '../worker/http/app.js';
import { createMetrics } from '../worker/http/metrics.js';
import { createLogger, logLevelFromEnv, temporalLogger } from '../worker/logging.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
let audit: AuditStore;
let client: Client;
let exporter: Server;
let exporterUrl: string;
const apps: FastifyInstance[] = [];
const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
const pipeline = createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) });

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const stream = new Writable({ write: (c: Buffer, _e, cb) => (raw.push(c.toString('utf8')), cb()) });
  return { stream, lines: () => raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function start(opts: { surface?: 'all' | 'ops'; metricsToken?: string; pending?: () => Promise<number>; now?: () => number; log?: Writable } = {}) {
  const metrics = createMetrics({
    ...(opts.pending ? { countPendingApprovals: opts.pending } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    runtimeMetricsUrl: exporterUrl,
  });
  const app = await createHttpApp({
    temporal: { client, taskQueue: 'unused' },
    pipeline,
    audit,
    policy: null,
    metrics,
    config: { apiTokens: ['api-token-0123456789'], ...(opts.surface ? { surface: opts.surface } : {}), ...(opts.metricsToken ? { metricsToken: opts.metricsToken } : {}) },
    logger: opts.log ? createLogger('loopwright-test', { level: 'info', stream: opts.log }) : false,
  });
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

beforeAll(async () => {
  audit = await createSqliteAuditStore(':memory:');
  // Nothing listens there: these tests need no Temporal, and /readyz says so.
  client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) });
  // Stands in for the Temporal runtime's Prometheus exporter (same text format, on loopback).
  exporter = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('# HELP temporal_worker_task_slots_available Task slots\n# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available{worker_type="WorkflowWorker"} 100\n');
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  exporterUrl = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
}, 60_000);

afterAll(async () => {
  for (const a of apps) await a.close();
  await audit?.close();
  await new Promise((r) => exporter?.close(r));
});

describe('X-Request-Id', () => {
  it('returns the caller’s id, generates one otherwise, replaces an unsafe one, and logs it as reqId', async () => {
    const log = capture();
    const base = await start({ log: log.stream });
    const given = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const fresh = await fetch(`${base}/healthz`);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const err = await fetch(`${base}/v1/feedback`, { method: 'POST', headers: { 'x-request-id': 'req-401' } });
    expect(err.status).toBe(401);
    expect(err.headers.get('x-request-id')).toBe('req-401');
    const lines = log.lines();
    expect(lines.some((l) => l.reqId === 'trace-abc.123' && l.level === 'info' && typeof l.time === 'string' && l.name === 'loopwright-test')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('api-token');
  });
});

describe('/metrics', () => {
  it('uses standard names, fits triage times into real buckets, and merges the Temporal runtime’s metrics', async () => {
    const base = await start();
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(text).not.toMatch(/^loopwright_process_/m);
    expect(text).toContain('loopwright_time_to_triage_seconds_bucket{le="0.05"}');
    expect(text).toContain('loopwright_approval_decisions_total');
    expect(text).toContain('temporal_worker_task_slots_available{worker_type="WorkflowWorker"} 100');
  });

  it('can require a bearer token', async () => {
    const base = await start({ metricsToken: METRICS_TOKEN });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('asks visibility for pending approvals at most once per cache period', async () => {
    let calls = 0;
    let t = 1_000_000;
    const base = await start({ pending: async () => ++calls, now: () => t });
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^loopwright_pending_approvals 1$/m);
    expect(calls).toBe(1);
    t += 16_000;
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^loopwright_pending_approvals 2$/m);
    expect(calls).toBe(2);
  });

  it('still scrapes when the runtime exporter is down', async () => {
    const metrics = createMetrics({ runtimeMetricsUrl: 'http://127.0.0.1:1/metrics' });
    expect(await metrics.scrape()).toContain('loopwright_intake_items_total');
  });
});

describe('approval decision metrics', () => {
  it('count each audited decision once, by the channel the workflow recorded', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const activities = createActivities({
      pipeline,
      audit,
      temporal: { client, taskQueue: 'unused' },
      issueConfig: () => ({ playbooks: [], policy: null }) as never,
      integrations: {} as never, // recordAudit touches no integration
      contextSources: [],
      identity: 'test',
      metrics,
    });
    const who = { type: 'user', id: 'U1', displayName: 'Ana' } as const;
    const decision = { stepId: 's', approverId: 'U1', approverName: 'Ana' };
    await activities.recordAudit([
      { workflowId: 'issue:x.1', eventKey: 'a1', actor: who, kind: 'approved', payload: { ...decision, via: 'cli' } },
      { workflowId: 'issue:x.1', eventKey: 'a2', actor: who, kind: 'approved', payload: { ...decision, via: 'slack' } },
      { workflowId: 'issue:x.1', eventKey: 'r1', actor: who, kind: 'rejected', payload: { ...decision } },
    ]);
    const text = await metrics.scrape();
    expect(text).toMatch(/^loopwright_approval_decisions_total\{decision="approve",via="cli"\} 1$/m);
    expect(text).toMatch(/^loopwright_approval_decisions_total\{decision="approve",via="slack"\} 1$/m);
    expect(text).toMatch(/^loopwright_approval_decisions_total\{decision="reject",via="unknown"\} 1$/m);
  });
});

describe('worker role surface', () => {
  it('serves health, readiness and metrics only', async () => {
    const base = await start({ surface: 'ops' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { temporal: 'unreachable', audit: 'ok' } });
    for (const [method, path] of [['POST', '/v1/feedback'], ['POST', '/v1/classify'], ['POST', '/slack/interactions'], ['POST', '/webhooks/zendesk'], ['GET', '/openapi.json'], ['GET', '/docs']] as const) {
      expect((await fetch(`${base}${path}`, { method, headers: { authorization: 'Bearer api-token-0123456789' } })).status, path).toBe(404);
    }
  });
});

describe('logging', () => {
  it('writes pino JSON at LOG_LEVEL and rejects an unknown level naming the variable', () => {
    const log = capture();
    const logger = createLogger('loopwright', { level: 'warn', stream: log.stream });
    logger.info('hidden');
    logger.warn({ n: 1 }, 'shown');
    expect(log.lines()).toEqual([expect.objectContaining({ level: 'warn', msg: 'shown', n: 1, name: 'loopwright' })]);
    expect(logLevelFromEnv({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(() => logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of/);
  });

  it('adapts the Temporal SDK logger: levels map, metadata become fields, errors are summarised', () => {
    const log = capture();
    const t = temporalLogger(createLogger('loopwright', { level: 'debug', stream: log.stream }).child({ component: 'temporal' }));
    t.warn('Activity failed', { activityType: 'triageFeedback', error: new TypeError('boom') });
    t.log('DEBUG', 'Workflow started', { workflowId: 'feedback:api:1' });
    t.trace('too fine');
    expect(log.lines()).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'Activity failed', component: 'temporal', activityType: 'triageFeedback', error: { type: 'TypeError', message: 'boom' } }),
      expect.objectContaining({ level: 'debug', msg: 'Workflow started', workflowId: 'feedback:api:1' }),
    ]);
  });
});
