// `loopwright themes`: the emerging themes (needs_review fragments clustered by meaning), named in
// at most five words, with counts per day and spikes; `themes promote` turns one into a taxonomy
// category (worker/brain/promote.ts). Reads the grouping store beside the audit store.
// Must not: print unmasked text (examples are the members' masked texts).
import type { TThemeView } from '../../activities/grouping/themes.js';
import { listThemes } from '../../activities/grouping/theme-list.js';
import { promoteTheme } from '../brain/promote.js';
import { brainCommand } from './brain-subcommands.js';
import type { CliCommand } from './types.js';

const USAGE = `usage: loopwright themes [list] [--days N] [--limit N] [--json] [--db URL]
       loopwright themes promote THEME_ID --category ID --reviewer ID [--name NAME]
                                 [--description TEXT] [--owner TEAM] [--out FILE] [--db URL]

Emerging themes: messages no category fits (needs_review), clustered by meaning and named from
their distinctive terms. "promote" makes a theme a category of the taxonomy (TAXONOMY, default
general) with its messages as examples, bumps the taxonomy's version, writes the file (a bundled
taxonomy is copied to data/taxonomies/) and records the promotion in the audit trail.

options:
  --days N       reports per day over the last N days (default 7)
  --limit N      at most N themes (default 20)
  --db URL       audit store (default: $AUDIT_DB_URL, else a postgres $DATABASE_URL, else ./data/audit.sqlite)
  --json         one JSON document
`;

export function renderThemes(views: readonly TThemeView[]): string {
  const lines = [`Emerging themes (${views.length})`];
  if (views.length === 0) lines.push('  none');
  for (const v of views) {
    const spark = v.daily.map((d) => d.count).join(' ');
    const spike = v.spikes.length ? `  SPIKE at ${v.spikes[v.spikes.length - 1]!.at}` : '';
    lines.push(`  ${v.id}  "${v.name}"  ${v.size} reports  last 7 days: ${spark}${spike}${v.promotedTo ? `  promoted → ${v.promotedTo}` : ''}`);
    if (v.examples[0]) lines.push(`    e.g. "${v.examples[0].replace(/\s+/g, ' ').slice(0, 120)}"`);
  }
  return `${lines.join('\n')}\n`;
}

const run = brainCommand({
  name: 'themes',
  usage: USAGE,
  subcommands: ['list', 'promote'],
  options: {
    days: { type: 'string', default: '7' },
    limit: { type: 'string', default: '20' },
    db: { type: 'string' },
    json: { type: 'boolean', default: false },
    category: { type: 'string' },
    reviewer: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    owner: { type: 'string' },
    out: { type: 'string' },
  },
  check(sub, { values: v, positionals }) {
    if (sub === 'promote' && !v.help && (positionals.length !== 1 || !v.category || !v.reviewer)) throw new Error('promote needs THEME_ID, --category and --reviewer');
    if (!/^\d+$/.test(v.days) || !/^\d+$/.test(v.limit)) throw new Error('--days and --limit must be positive integers');
  },
  async run(sub, { values: v, positionals }, ctx, io) {
    if (sub === 'promote') {
      const r = await promoteTheme(
        { store: ctx.grouping, audit: ctx.audit },
        {
          themeId: positionals[0]!,
          category: v.category!,
          ...(v.description ? { description: v.description } : {}),
          ...(v.owner ? { ownerTeam: v.owner } : {}),
          taxonomy: io.env.TAXONOMY || 'general',
          ...(v.out ? { out: v.out } : {}),
          reviewer: { id: v.reviewer!, name: v.name ?? v.reviewer! },
          now: new Date(),
        },
      );
      io.stdout.write(
        v.json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `theme ${r.themeId} "${r.name}" promoted to category ${r.category} with ${r.examples} examples: ${r.taxonomyId} ${r.previousVersion} → ${r.taxonomyVersion}, written to ${r.file}\n` +
              `the worker uses it with TAXONOMY=${r.file} (next start, or POST /v1/model/reload when TAXONOMY already names this file)\n`,
      );
      return 0;
    }
    const views = (await listThemes(ctx.grouping, { now: Date.now(), days: Number(v.days) })).slice(0, Number(v.limit));
    io.stdout.write(v.json ? `${JSON.stringify({ themes: views }, null, 2)}\n` : renderThemes(views));
    return 0;
  },
});

export const command: CliCommand = { name: 'themes', summary: 'emerging themes (needs_review clustered by meaning); promote one into the taxonomy', run };
