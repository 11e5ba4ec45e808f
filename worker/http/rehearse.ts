// Playbook rehearsal over HTTP, and the Slack "Preview what happens next" click.
// POST /v1/issues/:workflowId/rehearse (bearer token, as the rest of /v1) with a JSON body
// `{ "playbook": "<playbook YAML>" }` or `{ "playbookId": "<id>" }` (one of the loaded playbooks)
// answers with what that playbook would do on the issue now (activities/shadow/rehearse.ts).
// The preview click handler answers a `loopwright_preview` button click with the rest of the issue's
// round as an ephemeral message through Slack's response_url; the route that receives Slack clicks
// (app.ts, after signature verification and the ack) hands such clicks to `handle`.
// Must not: run, send or record anything but the reply to the caller; post outside Slack's hooks origin.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import { buildPreviewBlocks, PREVIEW_ACTION_ID } from '../../activities/adapters/slack/preview-blocks.js';
import { loadIssueSnapshot, rehearsePlaybook, type TRehearsal } from '../../activities/shadow/index.js';
import { parsePlaybook } from '../../playbooks/loader.js';
import { compareSemver, selectPlaybook, type TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { highestSeverity } from '../../workflows/domain/issue-stats.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { createBearerAuth, type TApiToken } from './auth.js';
import { fieldErrors } from './errors.js';

export interface RehearseDeps {
  audit: AuditStore;
  policy: TLoadedPolicy | null;
  apiTokens: TApiToken[];
  /** The loaded playbooks, for `playbookId` and for previews; absent: the body must carry the YAML. */
  playbooks?: TLoadedPlaybook[] | (() => TLoadedPlaybook[]);
  now?: () => number;
}

const ZRehearseBody = z.union([z.strictObject({ playbook: z.string().min(1).max(200_000) }), z.strictObject({ playbookId: z.string().min(1).max(64) })]);

function playbooksOf(deps: Pick<RehearseDeps, 'playbooks'>): TLoadedPlaybook[] {
  return typeof deps.playbooks === 'function' ? deps.playbooks() : (deps.playbooks ?? []);
}

/** Newest version of a playbook id among the loaded ones. */
function byId(all: TLoadedPlaybook[], id: string): TLoadedPlaybook | undefined {
  return all.filter((p) => p.playbook.id === id).sort((a, b) => compareSemver(b.playbook.version, a.playbook.version))[0];
}

async function rehearse(deps: RehearseDeps, workflowId: string, playbook: TLoadedPlaybook): Promise<TRehearsal> {
  const snapshot = await loadIssueSnapshot(deps.audit, workflowId);
  if (!snapshot) throw new LoopwrightError('not_found', `no message is linked to ${workflowId}`);
  return rehearsePlaybook(deps.audit, snapshot, playbook, deps.policy, (deps.now ?? Date.now)());
}

/** Registers POST /v1/issues/:workflowId/rehearse. */
export async function registerRehearseRoutes(app: FastifyInstance, deps: RehearseDeps): Promise<void> {
  const auth = createBearerAuth(deps.apiTokens);
  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => {
      auth.check(req.headers.authorization);
    });
    api.post<{ Params: { workflowId: string } }>('/v1/issues/:workflowId/rehearse', async (req) => {
      const body = ZRehearseBody.safeParse(req.body);
      if (!body.success) throw new LoopwrightError('invalid_input', 'expected { "playbook": "<YAML>" } or { "playbookId": "<id>" }', { details: { fields: fieldErrors(body.error.issues) } });
      let playbook: TLoadedPlaybook | undefined;
      if ('playbook' in body.data) {
        try {
          playbook = parsePlaybook(body.data.playbook, 'request');
        } catch (e) {
          // A bad playbook is the caller's input here, not our configuration: 400 with the line and field.
          if (isLoopwrightError(e)) throw new LoopwrightError('invalid_input', e.message, { details: e.details });
          throw e;
        }
      } else {
        playbook = byId(playbooksOf(deps), body.data.playbookId);
        if (!playbook) throw new LoopwrightError('not_found', `no loaded playbook has the id "${body.data.playbookId}"`);
      }
      return rehearse(deps, req.params.workflowId, playbook);
    });
  });
}

const ZPreviewClick = z.looseObject({
  response_url: z.string(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).min(1),
});

export interface PreviewClickDeps extends Omit<RehearseDeps, 'apiTokens'> {
  /** response_url must start with this (https://hooks.slack.com/ in production). */
  responseUrlPrefix: string;
  fetch: typeof fetch;
}

/** True when a Slack interaction payload is a preview click (the route hands those to `handle`). */
export function isPreviewClick(payload: unknown): boolean {
  const p = ZPreviewClick.safeParse(payload);
  return p.success && p.data.actions[0]!.action_id === PREVIEW_ACTION_ID;
}

/**
 * After the ack: rehearse the playbook the issue's round runs (its latest playbook_selected, else the
 * one the loop would select now) and post the preview to the clicker only (ephemeral).
 */
export function createPreviewClickHandler(deps: PreviewClickDeps) {
  return {
    async handle(payload: unknown): Promise<'posted' | 'ignored'> {
      const p = ZPreviewClick.safeParse(payload);
      if (!p.success || p.data.actions[0]!.action_id !== PREVIEW_ACTION_ID) return 'ignored';
      const url = p.data.response_url;
      if (!url.startsWith(deps.responseUrlPrefix)) return 'ignored';
      const workflowId = p.data.actions[0]!.value ?? '';
      let message: Record<string, unknown>;
      try {
        const snapshot = await loadIssueSnapshot(deps.audit, workflowId);
        if (!snapshot) throw new LoopwrightError('not_found', `no message is linked to ${workflowId}`);
        const all = playbooksOf(deps);
        const selected = (await deps.audit.trail(snapshot.issueWorkflowId)).filter((e) => e.kind === 'playbook_selected').at(-1);
        const current = selected?.kind === 'playbook_selected' ? all.find((x) => x.version === selected.payload.playbookVersion) : undefined;
        const playbook = current ?? selectPlaybook(all, { category: snapshot.state.category, severity: highestSeverity(snapshot.state.stats) ?? 'low' })?.selected;
        if (!playbook) throw new LoopwrightError('not_found', `no playbook applies to ${workflowId}`);
        const r = await rehearsePlaybook(deps.audit, snapshot, playbook, deps.policy, (deps.now ?? Date.now)());
        message = { response_type: 'ephemeral', replace_original: false, text: `What happens next on ${workflowId}`, blocks: buildPreviewBlocks(r) };
      } catch (e) {
        message = { response_type: 'ephemeral', replace_original: false, text: `No preview: ${isLoopwrightError(e) ? e.message : 'internal error'}` };
      }
      const res = await deps.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      if (!res.ok) throw new LoopwrightError('upstream_unavailable', `Slack response_url answered ${res.status}`);
      return 'posted';
    },
  };
}
