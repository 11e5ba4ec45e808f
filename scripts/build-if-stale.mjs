#!/usr/bin/env node
// Compiles the TypeScript sources into dist/ (tsc -p tsconfig.build.json) only when a source file is
// newer than the last build, so `npm start` and `npm run cli` run compiled JavaScript and start in
// seconds: the first run builds, later runs check file times (milliseconds) and go.
// Hand-written on purpose: tsc's own --incremental still type-checks the program on every run (seconds).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const SOURCES = ['workflows', 'activities', 'playbooks', 'policies', 'worker'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newest(dir) {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p));
    else if (/\.(ts|json)$/.test(e.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = Math.max(...SOURCES.map((d) => newest(path.join(root, d))), ...CONFIGS.map((f) => statSync(path.join(root, f)).mtimeMs));
if (sources > built) {
  process.stderr.write(built ? 'sources changed: rebuilding dist/ …\n' : 'first run: compiling to dist/ …\n');
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
