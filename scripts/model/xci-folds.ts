// Writes X-CI as the triage bench sees it (bench/xci.ts: masked text, our severity level, X-CI's
// own 0–4 grade, case-folded polarity) with the bench's exact outer fold of every row
// (bench/classifier.ts stratifiedFolds over the severity level, 5 folds, seed 2023, as in
// bench/triage.ts learnedHeads), one JSON object a line. Python experiments read this file so that
// their folds are the bench's folds, not a re-implementation of the shuffle:
//   npx tsx scripts/model/xci-folds.ts <out.jsonl> [dataDir]
// dataDir: default ../shared/data. Writes nothing else; the output is not committed (it is X-CI).
import { writeFileSync } from 'node:fs';
import { stratifiedFolds } from '../../bench/classifier.js';
import { readXci, xciFile } from '../../bench/xci.js';

const XCI_FOLDS = 5;
const XCI_FOLD_SEED = 2023;

const [out, dataArg] = process.argv.slice(2);
if (!out) throw new Error('usage: npx tsx scripts/model/xci-folds.ts <out.jsonl> [dataDir]');
const dataDir = dataArg ?? new URL('../../../shared/data/', import.meta.url).pathname;
const rows = readXci(xciFile(dataDir));
const fold = stratifiedFolds(rows.map((r) => ({ text: r.text, category: r.severity })), XCI_FOLDS, XCI_FOLD_SEED);
writeFileSync(out, rows.map((r, i) => `${JSON.stringify({ ...r, fold: fold[i] })}\n`).join(''));
console.log(`${out}: ${rows.length} rows, ${XCI_FOLDS} folds (seed ${XCI_FOLD_SEED})`);
