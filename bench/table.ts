// Shared shape of benchmark output: each suite returns rows, the runner prints them.
export interface BenchContext {
  /** Directory holding the labeled datasets (banking77/, clinc150/, ...). */
  dataDir: string;
}

export interface BenchRow {
  metric: string;
  value: string;
  target?: string;
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export function printTable(title: string, rows: BenchRow[]): void {
  const header: BenchRow = { metric: 'metric', value: 'value', target: 'target', note: 'note' };
  const all = [header, ...rows];
  const w = (k: keyof BenchRow) => Math.max(...all.map((r) => (r[k] ?? '').length));
  const line = (r: BenchRow) =>
    `| ${r.metric.padEnd(w('metric'))} | ${r.value.padEnd(w('value'))} | ${(r.target ?? '').padEnd(w('target'))} | ${(r.note ?? '').padEnd(w('note'))} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(`|${['metric', 'value', 'target', 'note'].map((k) => '-'.repeat(w(k as keyof BenchRow) + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
