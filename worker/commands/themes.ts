// `loopwright themes`: the emerging themes (needs_review fragments clustered by meaning), named in
// at most five words, with counts per day and spikes; `themes promote` turns one into a taxonomy
// category (worker/brain/promote.ts). Reads the grouping store beside the audit store.
// Must not: print unmasked text (examples are the members' masked texts).
import { parseArgs } from 'node:util';
import { describeThemes, type TThemeView } from '../../activities/grouping/themes.js';
import { isLoopwrightError } from '../../workflows/domain/errors.js';
import { openBrainStores } from '../brain/context.js';
import { promoteTheme } from '../brain/promote.js';
import type { CliCommand, CliIo } from './types.js';

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

async function run(argv: string[], io: CliIo): Promise<number> {
  const sub = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'list';
  const rest = argv[0] && !argv[0].startsWith('-') ? argv.slice(1) : argv;
  let v;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
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
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    v = parsed.values;
    positionals = parsed.positionals;
    if (!['list', 'promote', 'help'].includes(sub)) throw new Error(`unknown subcommand "${sub}"`);
    if (sub === 'promote' && !v.help && (positionals.length !== 1 || !v.category || !v.reviewer)) throw new Error('promote needs THEME_ID, --category and --reviewer');
    if (!/^\d+$/.test(v.days) || !/^\d+$/.test(v.limit)) throw new Error('--days and --limit must be positive integers');
  } catch (e) {
    io.stderr.write(`loopwright themes: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (v.help || sub === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  let ctx;
  try {
    ctx = await openBrainStores(v.db, io.env);
  } catch (e) {
    io.stderr.write(`loopwright themes: ${isLoopwrightError(e) ? e.message : 'cannot open the stores'}\n`);
    return 1;
  }
  try {
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
    const views = describeThemes(await ctx.grouping.groups('theme'), await ctx.grouping.members('theme', null), { now: Date.now(), days: Number(v.days) }).slice(0, Number(v.limit));
    io.stdout.write(v.json ? `${JSON.stringify({ themes: views }, null, 2)}\n` : renderThemes(views));
    return 0;
  } catch (e) {
    if (!isLoopwrightError(e)) throw e;
    io.stderr.write(`loopwright themes: ${e.message}\n`);
    return 1;
  } finally {
    await ctx.close();
  }
}

export const command: CliCommand = { name: 'themes', summary: 'emerging themes (needs_review clustered by meaning); promote one into the taxonomy', run };
