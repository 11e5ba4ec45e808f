// `loopwright report [--out report.html] [--days 7]`: the weekly HTML report a support manager reads
// (themes week over week, rising and emerging themes, sentiment, severity, tiers, customer value,
// quotes, time to triage / remediation / verified fix, open issues), built only from the audit
// store and written as one self-contained file with static SVG charts.
// Must not: need Temporal or the network, or write anything but the output file.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openAuditStore, type AuditStore, type TAuditEvent, type TAuditKind } from '../../activities/audit/index.js';
import { isLoopwrightError } from '../../workflows/domain/errors.js';
import { aggregateReport } from '../report/aggregate.js';
import { renderReportHtml } from '../report/render.js';
import { readShadowReport, renderShadowSections } from '../report/shadow-section.js';
import { buildOutcomeReport, renderOutcomeSections } from '../report/outcome-section.js';
import { defaultOutcomeModelPath, readOutcomeModel } from '../../activities/outcome/predictor.js';
import { existsSync } from 'node:fs';
import { resolveAuditDbUrl } from './audit.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright report [--out FILE] [--days N] [--db URL] [--shadow FILE]

Write an HTML report (inline SVG charts, no external assets) of the last N days from the audit store.

options:
  --out FILE   where to write it (default: report.html; "-" for stdout)
  --days N     length of the period, 1..365 (default: 7); "rising" compares with the N days before
  --db URL     audit store (default: $AUDIT_DB_URL, else a postgres $DATABASE_URL, else ./data/audit.sqlite)
  --shadow FILE  add the sections of a shadow replay (loopwright shadow --json > FILE)
`;

const REPORT_KINDS: TAuditKind[] = [
  'received',
  'classified',
  'issue_linked',
  'theme_assigned',
  'report_adopted',
  'policy_verdict',
  'approval_requested',
  'approved',
  'rejected',
  'approval_timed_out',
  'escalated',
  'action_succeeded',
  'action_failed',
  'verified',
  'reopened',
  'closed',
];
/** Periods read before the current one: the previous period plus the lookback of "emerging". */
const LOOKBACK_PERIODS = 3;
const PAGE = 50_000;

/** Every event of the report's kinds in [from, to), paged by sequence so no limit truncates it. */
export async function readReportEvents(audit: AuditStore, from: Date, to: Date): Promise<TAuditEvent[]> {
  const out: TAuditEvent[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await audit.search({ kind: REPORT_KINDS, from: from.toISOString(), to: to.toISOString(), afterSeq, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterSeq = page[page.length - 1]!.seq;
  }
}

export function createReportCommand(openAudit: (url: string) => Promise<AuditStore> = (url) => openAuditStore(url), now: () => number = Date.now): CliCommand {
  return {
    name: 'report',
    summary: 'write the HTML report: themes week over week, sentiment, severity, tiers, issues',
    async run(argv: string[], io: CliIo) {
      let v;
      try {
        v = parseArgs({
          args: argv,
          strict: true,
          options: {
            out: { type: 'string', default: 'report.html' },
            days: { type: 'string', default: '7' },
            db: { type: 'string' },
            shadow: { type: 'string' },
            help: { type: 'boolean', short: 'h', default: false },
          },
        }).values;
        if (!v.help && (!/^\d+$/.test(v.days) || Number(v.days) < 1 || Number(v.days) > 365)) throw new Error(`--days must be an integer from 1 to 365, got "${v.days}"`);
      } catch (e) {
        io.stderr.write(`loopwright report: ${(e as Error).message}\n\n${USAGE}`);
        return 2;
      }
      if (v.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const days = Number(v.days);
      const to = now();
      const from = to - days * 86_400_000;
      let audit: AuditStore;
      try {
        audit = await openAudit(resolveAuditDbUrl(v.db, io.env));
      } catch (e) {
        io.stderr.write(`loopwright report: ${isLoopwrightError(e) ? e.message : 'cannot open the audit store'}\n`);
        return 1;
      }
      try {
        const events = await readReportEvents(audit, new Date(from - LOOKBACK_PERIODS * days * 86_400_000), new Date(to));
        const data = aggregateReport(events, { from, to }, { emergingLookbackPeriods: LOOKBACK_PERIODS });
        // Outcome sections: drivers and calibration from the model file (OUTCOME_MODEL or the default), predictions and forecasts from the trail.
        const modelFile = io.env.OUTCOME_MODEL ?? defaultOutcomeModelPath();
        const outcomeModel = existsSync(modelFile) ? readOutcomeModel(modelFile) : undefined;
        const extraSections = [await renderOutcomeSections(buildOutcomeReport(events, data, outcomeModel, to)), ...(v.shadow ? [renderShadowSections(await readShadowReport(v.shadow))] : [])];
        const html = await renderReportHtml(data, { generatedAt: new Date(to).toISOString(), extraSections });
        if (v.out === '-') io.stdout.write(html);
        else {
          await writeFile(v.out, html);
          io.stderr.write(`wrote ${v.out}: ${data.messages.current} messages, ${data.themes.length} themes, ${data.issues.length} open issues, ${data.window.days} days\n`);
        }
        return 0;
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright report: ${e.message}\n`);
        return 1;
      } finally {
        await audit.close();
      }
    },
  };
}

export const command: CliCommand = createReportCommand();
