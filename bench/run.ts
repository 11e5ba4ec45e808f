// `npm run bench`: runs every benchmark suite and prints one table. Each suite lives in its own
// file under bench/ and exports `run(ctx)`; suites are independent and may be skipped by name:
// `npm run bench -- classifier triage` runs only those.
import { suites } from './suites.js';
import { printTable, type BenchContext } from './table.js';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const ctx: BenchContext = { dataDir: process.env.LOOPWRIGHT_DATA_DIR ?? new URL('../../shared/data/', import.meta.url).pathname };

for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  const started = performance.now();
  const rows = await suite.run(ctx);
  printTable(`${suite.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`, rows);
}
