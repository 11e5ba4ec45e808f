// X-CI complaint severity (Singh et al. ACL 2023, MIT; ../shared/data/xci_complaint_severity): the
// rows as masked text with our severity level (XCI_SEVERITY_TO_LEVEL, the one mapping) and the
// sentiment label, read the same way by the benchmark and by scripts/train-heads.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLines, parseCsvLines } from '../activities/triage/input-files.js';
import { SENTIMENT_LABELS, type TSentimentLabel } from '../activities/triage/learned-heads.js';
import { maskPii } from '../activities/triage/pii.js';
import { XCI_SEVERITY_TO_LEVEL } from '../activities/triage/severity.js';
import type { TSeverityLevel } from '../workflows/domain/triage.js';

export interface XciRow {
  /** Masked tweet. */
  text: string;
  severity: TSeverityLevel;
  sentiment: TSentimentLabel;
  /** X-CI's own severity, 0 (not a complaint) … 4 (blame). */
  xciSeverity: 0 | 1 | 2 | 3 | 4;
  /**
   * The polarity label is spelled in lower case ("negative", not "Negative"): 182 rows. The
   * capitalised labels are VADER's output (2,225 of 2,230 reproduced, docs/benchmarks.md session 6);
   * the lower-case ones are mostly tweets VADER calls positive relabelled by hand, so they are the
   * only human polarity signal in X-CI.
   */
  sentimentLowerCase: boolean;
}

export function xciFile(dataDir: string): string {
  return join(dataDir, 'xci_complaint_severity/xci_dev.csv');
}

export function readXci(file: string): XciRow[] {
  const { lines } = decodeLines(readFileSync(file));
  const [header, ...records] = parseCsvLines(lines).records;
  if (!header) return [];
  const col = (name: string) => header.fields.indexOf(name);
  const [tweet, severity, sentiment] = [col('tweet'), col('Severity'), col('sentiment')];
  return records
    .filter((r) => r.fields.length === header.fields.length)
    .map((r) => {
      // X-CI spells polarity both ways ("Negative" 597, "negative" 126, …): one label, case folded.
      const spelled = r.fields[sentiment] ?? '';
      const s = spelled.toLowerCase() as TSentimentLabel;
      if (!SENTIMENT_LABELS.includes(s)) throw new Error(`${file}: unknown sentiment ${s}`);
      const level = Number(r.fields[severity]);
      if (![0, 1, 2, 3, 4].includes(level)) throw new Error(`${file}: unknown severity ${r.fields[severity]}`);
      const xciSeverity = level as 0 | 1 | 2 | 3 | 4;
      return { text: maskPii(r.fields[tweet] ?? '').masked.text, severity: XCI_SEVERITY_TO_LEVEL[xciSeverity], sentiment: s, xciSeverity, sentimentLowerCase: spelled === s };
    });
}
