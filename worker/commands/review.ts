// `loopwright review`: the review loop from a terminal. Lists messages the classifier sent to
// needs_review or accepted with low confidence (masked text only), records a reviewer's label
// (confirm or change the category, or assign a theme) into the labeled-data file and the audit
// trail, and asks a running service to retrain (`review reload`), after which classifications carry
// the new model version. The decisions live in worker/brain/review.ts, shared with the HTTP API.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSentenceEncoder, hasModel, modelDir } from '../../activities/triage/encoder.js';
import { labeledFileFromEnv, taxonomyFromEnv } from '../brain/context.js';
import { DEFAULT_REVIEW_BELOW, labelMessage, listReviewQueue, type TReviewItem } from '../brain/review.js';
import { PROJECT_ROOT } from '../config.js';
import { brainCommand } from './brain-subcommands.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright review [list] [--below P] [--limit N] [--json] [--db URL]
       loopwright review label WORKFLOW_ID CATEGORY --reviewer ID [--name NAME] [--db URL]
       loopwright review theme WORKFLOW_ID THEME_ID --reviewer ID [--name NAME] [--db URL]
       loopwright review reload [--url URL]

list    messages classified needs_review or below confidence P (default ${DEFAULT_REVIEW_BELOW}), not yet reviewed
label   confirm or change a message's category: appended to the labeled-data file (LABELED_DATA,
        default data/labeled.jsonl) with the reviewer and the time, and audited
theme   put a message into an emerging theme (see: loopwright themes)
reload  ask the running service (--url, default $LOOPWRIGHT_URL or http://127.0.0.1:8080) to retrain
        from the taxonomy and the labeled data; token from $LOOPWRIGHT_API_TOKEN or data/api-token
Labels also take effect at the next start of the worker.
`;

function render(items: readonly TReviewItem[]): string {
  const lines = [`To review (${items.length})`];
  if (items.length === 0) lines.push('  none');
  for (const i of items) {
    const alt = i.alternatives.map((a) => `${a.category} ${a.confidence.toFixed(2)}`).join(', ');
    lines.push(`  ${i.workflowId}  ${i.category} (${i.confidence.toFixed(2)}, ${i.modelVersion})${i.themes.length ? `  theme ${i.themes.join(', ')}` : ''}${alt ? `  alternatives: ${alt}` : ''}`);
    if (i.reviewReason) lines.push(`    why: ${i.reviewReason.slice(0, 160)}`);
    lines.push(`    "${i.maskedText.replace(/\s+/g, ' ').slice(0, 300)}"`);
  }
  return `${lines.join('\n')}\n`;
}

function apiToken(env: NodeJS.ProcessEnv): string | null {
  if (env.LOOPWRIGHT_API_TOKEN) return env.LOOPWRIGHT_API_TOKEN;
  const file = path.join(PROJECT_ROOT, 'data', 'api-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

const run = brainCommand({
  name: 'review',
  usage: USAGE,
  subcommands: ['list', 'label', 'theme', 'reload'],
  options: {
    below: { type: 'string', default: String(DEFAULT_REVIEW_BELOW) },
    limit: { type: 'string', default: '20' },
    db: { type: 'string' },
    json: { type: 'boolean', default: false },
    reviewer: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string' },
  },
  check(sub, { values: v, positionals: pos }) {
    if ((sub === 'label' || sub === 'theme') && !v.help && (pos.length !== 2 || !v.reviewer)) throw new Error(`${sub} needs WORKFLOW_ID, a ${sub === 'label' ? 'CATEGORY' : 'THEME_ID'} and --reviewer`);
    if (!(Number(v.below) >= 0 && Number(v.below) <= 1)) throw new Error('--below must be a probability (0..1)');
    if (!/^\d+$/.test(v.limit)) throw new Error('--limit must be a positive integer');
  },
  withoutStores: (sub, { values: v }, io) => (sub === 'reload' ? reload(v.url, v.json, io) : undefined),
  async run(sub, { values: v, positionals: pos }, ctx, io) {
    if (sub === 'list') {
      const items = await listReviewQueue(ctx.audit, { below: Number(v.below), limit: Number(v.limit) });
      io.stdout.write(v.json ? `${JSON.stringify({ items }, null, 2)}\n` : render(items));
      return 0;
    }
    const reviewer = { id: v.reviewer!, name: v.name ?? v.reviewer! };
    const encoder = sub === 'theme' && hasModel(modelDir()) ? await loadSentenceEncoder(modelDir()) : undefined;
    const r = await labelMessage(
      { audit: ctx.audit, taxonomy: taxonomyFromEnv(io.env), labeledFile: labeledFileFromEnv(io.env), grouping: ctx.grouping, ...(encoder ? { encoder } : {}) },
      { workflowId: pos[0]!, ...(sub === 'label' ? { category: pos[1]! } : { themeId: pos[1]! }), reviewer, at: new Date() },
    );
    io.stdout.write(
      v.json
        ? `${JSON.stringify(r, null, 2)}\n`
        : `${r.workflowId}: ${r.category ? `${r.confirmed ? 'confirmed' : `${r.previous.category} → ${r.category}`}` : `theme ${r.themeId}`} by ${reviewer.name}` +
            `${r.labeledFile ? `; appended to ${r.labeledFile} (retrains on next start or: loopwright review reload)` : ''}\n`,
    );
    return 0;
  },
});

/** `review reload`: asks the running service to retrain. */
async function reload(urlFlag: string | undefined, json: boolean, io: CliIo): Promise<number> {
  const url = `${(urlFlag ?? io.env.LOOPWRIGHT_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')}/v1/model/reload`;
  const token = apiToken(io.env);
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: '{}' });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      io.stderr.write(`loopwright review: reload refused (${res.status}): ${String((body.error as { message?: string } | undefined)?.message ?? JSON.stringify(body)).slice(0, 300)}\n`);
      return 1;
    }
    io.stdout.write(json ? `${JSON.stringify(body, null, 2)}\n` : `retrained: ${String(body.previousModelVersion)} → ${String(body.modelVersion)} (${String(body.labeledExamples)} labeled examples)\n`);
    return 0;
  } catch (e) {
    io.stderr.write(`loopwright review: cannot reach ${url}: ${(e as Error).message}\n`);
    return 1;
  }
}

export const command: CliCommand = { name: 'review', summary: 'review needs_review and low-confidence messages; labels retrain the classifier', run };
