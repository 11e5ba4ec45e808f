// Trains the learned severity and sentiment heads (activities/triage/learned-heads.ts) on X-CI and
// writes the heads file. Run after changing the encoder, the features or the recipe:
//   npx tsx scripts/train-heads.ts [--encoder <model dir>] [--out <heads.json>] [dataDir]
// --encoder: any directory loadSentenceEncoder reads (manifest.json, model.onnx, tokenizer); default
// models/all-minilm-l6-v2. The file records that encoder's version and loading refuses another one.
// --out: default models/triage-heads/heads.json. dataDir: default ../shared/data.
// Offline and deterministic: the same data and encoder give a byte-identical file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSentenceEncoder, modelDir } from '../activities/triage/encoder.js';
import { defaultHeadsFile, headsVersion, trainHeadsFile } from '../activities/triage/learned-heads.js';
import { readXci, xciFile } from '../bench/xci.js';

const { values, positionals } = parseArgs({
  options: { encoder: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
});
const dataDir = positionals[0] ?? new URL('../../shared/data/', import.meta.url).pathname;
const encoderDir = values.encoder === undefined ? modelDir() : resolve(values.encoder);
const out = values.out === undefined ? defaultHeadsFile() : resolve(values.out);
const rows = readXci(xciFile(dataDir));
const encoder = await loadSentenceEncoder(encoderDir);
const vectors = await encoder.embed(rows.map((r) => r.text));
const file = trainHeadsFile(
  rows.map((r, i) => ({ ...r, embedding: vectors[i]! })),
  encoder.modelVersion,
  'X-CI xci_dev.csv (Singh et al. ACL 2023, MIT): all rows',
);
const json = `${JSON.stringify(file)}\n`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, json);
console.log(`${out}: ${headsVersion(json)}, encoder ${encoder.modelVersion} (${encoderDir}), ${rows.length} rows, ${(json.length / 1024).toFixed(0)} KiB`);
