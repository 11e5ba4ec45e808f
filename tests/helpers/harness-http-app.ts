// The HTTP service in front of a loop harness's Temporal and audit store, as the Slack, console and
// webhook tests drive it: the offline classifier on the bundled taxonomy, the default policy, and
// whatever else the test passes (config, Slack client, playbooks). Listens on an ephemeral port.
// Also signedSlackPost(): a form POST signed as Slack signs interactions and slash commands.
import type { FastifyInstance } from 'fastify';
import { signSlackRequest } from '../../activities/adapters/slack/slack-signature.js';
import { trainOfflineClassifier } from '../../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import { loadPolicyFile } from '../../policies/loader.js';
import { createHttpApp, type HttpAppDeps } from '../../worker/http/app.js';
import type { LoopHarness } from './loop-harness.js';

export async function listenOnHarness(h: LoopHarness, deps: Omit<HttpAppDeps, 'temporal' | 'pipeline' | 'audit' | 'policy'>): Promise<{ app: FastifyInstance; base: string }> {
  const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
  const app = await createHttpApp({
    temporal: { client: h.env.client, taskQueue: h.taskQueue },
    pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
    audit: h.audit,
    policy: await loadPolicyFile(new URL('../../policies/default.v1.yaml', import.meta.url).pathname),
    ...deps,
  });
  return { app, base: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

/**
 * POSTs a form body with Slack's v0 signature of it under `secret`, stamped now (or `timestamp`,
 * seconds); `sent` replaces the body on the wire after signing (a tampered request).
 */
export function signedSlackPost(url: string, body: string, secret: string, opts: { timestamp?: number; sent?: string } = {}): Promise<Response> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signSlackRequest(secret, ts, body) },
    body: opts.sent ?? body,
  });
}
