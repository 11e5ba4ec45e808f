// Trains the learned severity and sentiment heads (activities/triage/learned-heads.ts) on X-CI and
// writes models/triage-heads/heads.json. Run after changing the encoder, the features or the
// recipe:  npx tsx scripts/train-heads.ts [dataDir]   (default ../shared/data).
// Offline and deterministic: the same data and encoder give a byte-identical file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadSentenceEncoder } from '../activities/triage/encoder.js';
import { defaultHeadsFile, headsVersion, trainHeadsFile } from '../activities/triage/learned-heads.js';
import { readXci, xciFile } from '../bench/xci.js';

const dataDir = process.argv[2] ?? new URL('../../shared/data/', import.meta.url).pathname;
const rows = readXci(xciFile(dataDir));
const encoder = await loadSentenceEncoder();
const vectors = await encoder.embed(rows.map((r) => r.text));
const file = trainHeadsFile(
  rows.map((r, i) => ({ ...r, embedding: vectors[i]! })),
  encoder.modelVersion,
  'X-CI xci_dev.csv (Singh et al. ACL 2023, MIT): all rows',
);
const json = `${JSON.stringify(file)}\n`;
const out = defaultHeadsFile();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, json);
console.log(`${out}: ${headsVersion(json)}, ${rows.length} rows, ${(json.length / 1024).toFixed(0)} KiB`);
