// Playbook rehearsal over HTTP, and the Slack "Preview what happens next" click.
// POST /v1/issues/:workflowId/rehearse (bearer token, as the rest of /v1) with a JSON body
// `{ "playbook": "<playbook YAML>" }` or `{ "playbookId": "<id>" }` (one of the loaded playbooks)
// answers with what that playbook would do on the issue now (activities/shadow/rehearse.ts).
// The preview click handler answers a `loopwright_preview` button click (the Slack approval message's
// "Preview what happens next") with the rehearsal of the issue's round from the pending step on, in a
// modal (views.open); the route that receives Slack clicks (app.ts, after signature verification and
// the ack) hands the clicks slack.ts parseInteraction recognises as previews to `handle`. The modal is
// opened at once with a placeholder (trigger ids expire after 3 s) and updated (views.update) with
// the rehearsal, or with why there is none.
// Must not: run, send or record anything but the reply to the caller; post outside Slack's hooks origin.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditStore } from '../../activities/audit/index.js';
import { buildPreviewBlocks, buildPreviewErrorModal, buildPreviewModal, buildPreviewPendingModal } from '../../activities/adapters/slack/preview-blocks.js';
import type { SlackPort } from '../../activities/adapters/slack/slack-adapter.js';
import { loadIssueSnapshot, rehearsePlaybook, type TIssueSnapshot, type TRehearsal } from '../../activities/shadow/index.js';
import { parsePlaybook } from '../../playbooks/loader.js';
import { compareSemver, selectPlaybooks, type TLoadedPlaybook } from '../../playbooks/schema.js';
import type { TLoadedPolicy } from '../../policies/loader.js';
import { highestSeverity } from '../../workflows/domain/issue-stats.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { createBearerAuth, type TApiToken } from './auth.js';
import { fieldErrors } from './errors.js';
import { answer, answers, E401, errorAnswer, JSON_BODY_ERRORS, parsedByHandler } from './openapi.js';
import { ZRehearsal } from './schemas.js';
import type { TParsedPreview } from './slack.js';

export interface RehearseDeps {
  audit: AuditStore;
  policy: TLoadedPolicy | null;
  apiTokens: TApiToken[];
  /** The loaded playbooks, for `playbookId` and for previews; absent: the body must carry the YAML. */
  playbooks?: TLoadedPlaybook[] | (() => TLoadedPlaybook[]);
  now?: () => number;
}

export const ZRehearseBody = z.union([z.strictObject({ playbook: z.string().min(1).max(200_000) }), z.strictObject({ playbookId: z.string().min(1).max(64) })]);

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
    const rehearseDoc = {
      summary: 'Rehearse a playbook against the issue (nothing runs, nothing is sent or recorded)',
      tags: ['issues'],
      body: ZRehearseBody,
      response: answers({ 200: answer('What the playbook would do now, step by step', ZRehearsal), ...JSON_BODY_ERRORS, 401: E401, 404: errorAnswer('No message is linked to the issue, or no loaded playbook has the id') }),
    };
    api.post<{ Params: { workflowId: string } }>('/v1/issues/:workflowId/rehearse', parsedByHandler(rehearseDoc), async (req) => {
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

export interface PreviewClickDeps extends Omit<RehearseDeps, 'apiTokens'> {
  /** Opens the preview modal with the click's trigger_id; without it the preview is an ephemeral reply. */
  slack?: Pick<SlackPort, 'openModal' | 'updateModal'>;
  /** response_url must start with this (https://hooks.slack.com/ in production). */
  responseUrlPrefix: string;
  fetch: typeof fetch;
}

/** The playbook the issue's round runs: its latest playbook_selected, else the first the loop would compose now. */
async function currentPlaybook(deps: PreviewClickDeps, snapshot: TIssueSnapshot): Promise<TLoadedPlaybook | undefined> {
  const all = playbooksOf(deps);
  const selected = (await deps.audit.trail(snapshot.issueWorkflowId)).filter((e) => e.kind === 'playbook_selected').at(-1);
  const current = selected?.kind === 'playbook_selected' ? all.find((x) => x.version === selected.payload.playbookVersion) : undefined;
  return current ?? selectPlaybooks(all, { category: snapshot.state.category, severity: highestSeverity(snapshot.state.stats) ?? 'low' })[0]?.selected;
}

/**
 * After the ack: rehearse the playbook of the issue's round and show it to the clicker only, the
 * pending step marked: a modal (views.open with the click's trigger_id) when a Slack client is
 * configured, else an ephemeral message through response_url. Errors are shown the same way.
 */
export function createPreviewClickHandler(deps: PreviewClickDeps) {
  async function rehearsal(workflowId: string): Promise<TRehearsal> {
    const snapshot = await loadIssueSnapshot(deps.audit, workflowId);
    if (!snapshot) throw new LoopwrightError('not_found', `no message is linked to ${workflowId}`);
    const playbook = await currentPlaybook(deps, snapshot);
    if (!playbook) throw new LoopwrightError('not_found', `no playbook applies to ${workflowId}`);
    return rehearsePlaybook(deps.audit, snapshot, playbook, deps.policy, (deps.now ?? Date.now)());
  }

  async function ephemeral(url: string | undefined, message: Record<string, unknown>): Promise<'posted' | 'ignored'> {
    if (!url || !url.startsWith(deps.responseUrlPrefix)) return 'ignored';
    const res = await deps.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...message }) });
    if (!res.ok) throw new LoopwrightError('upstream_unavailable', `Slack response_url answered ${res.status}`);
    return 'posted';
  }

  return {
    async handle(click: Pick<TParsedPreview, 'workflowId' | 'stepId' | 'triggerId' | 'responseUrl'>): Promise<'opened' | 'posted' | 'ignored'> {
      const pending = click.stepId || undefined;
      if (deps.slack && click.triggerId) {
        // Open first (the trigger id lives 3 s), then fill the modal in once the rehearsal is ready.
        const { viewId } = await deps.slack.openModal({ triggerId: click.triggerId, view: buildPreviewPendingModal(click.workflowId) });
        let view;
        try {
          view = buildPreviewModal(await rehearsal(click.workflowId), pending);
        } catch (e) {
          view = buildPreviewErrorModal(isLoopwrightError(e) ? e.message : 'internal error');
        }
        await deps.slack.updateModal({ viewId, view });
        return 'opened';
      }
      let r: TRehearsal;
      try {
        r = await rehearsal(click.workflowId);
      } catch (e) {
        return ephemeral(click.responseUrl, { text: `No preview: ${isLoopwrightError(e) ? e.message : 'internal error'}` });
      }
      return ephemeral(click.responseUrl, { text: `What happens next on ${click.workflowId}`, blocks: buildPreviewBlocks(r, pending) });
    },
  };
}
