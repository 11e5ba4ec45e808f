// The workers' workflow bundles, built once and kept in dist/workflow-bundles/, so `npm start` does
// not run webpack on every start (the two bundles took ~8 s of a 17 s start at load 7). A bundle is
// keyed by the sha256 of every file it could include: the .ts files of the source directories
// (workflows/ and the pure modules they import live there) and package-lock.json (the SDK's
// version), so any change builds a new one; the key is recomputed at every start (milliseconds).
// Hand-written rather than an SDK option: Worker.create either bundles `workflowsPath` on every
// start or takes a bundle the caller made (bundleWorkflowCode); storing it is ours.
// Must not: hand a worker a bundle built from other sources (replays would diverge), or fail a
// start because the cache cannot be written (a read-only image bundles in memory, as before).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from './config.js';
import { WORKER_ROLES, workflowsPathOf, type TWorkerRole } from './worker-options.js';

export interface TBundleCache {
  /** Directories whose .ts files may end up in a bundle (walked recursively). */
  sourceDirs: string[];
  /** Other files a bundle depends on. */
  files: string[];
  cacheDir: string;
  /** Builds a bundle (default: the SDK's bundleWorkflowCode, as Worker.create would). */
  bundle?: (workflowsPath: string) => Promise<{ code: string }>;
  log?: (line: string) => void;
}

const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export function defaultBundleCache(log?: (line: string) => void): TBundleCache {
  return {
    sourceDirs: ['workflows', 'activities', 'playbooks', 'policies', 'worker'].map((d) => path.join(PROJECT_ROOT, d)),
    files: [path.join(PROJECT_ROOT, 'package-lock.json')],
    cacheDir: path.join(PROJECT_ROOT, 'dist', 'workflow-bundles'),
    ...(log ? { log } : {}),
  };
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** sha256 over the names and bytes of every source file a bundle could include. */
export function bundleSourcesHash(c: Pick<TBundleCache, 'sourceDirs' | 'files'>): string {
  const h = createHash('sha256');
  const files = [...c.sourceDirs.flatMap(tsFiles), ...c.files].sort();
  for (const f of files) {
    h.update(`${f}\0`);
    try {
      h.update(readFileSync(f));
    } catch {
      h.update('\0missing\0');
    }
  }
  return h.digest('hex');
}

/** The bundle of `workflowsPath` for these sources: from the cache, or built and stored there. */
export async function cachedWorkflowBundle(workflowsPath: string, c: TBundleCache): Promise<{ code: string; cached: boolean; file: string }> {
  const name = path.basename(workflowsPath).replace(/\.[cm]?[jt]s$/, '');
  const file = path.join(c.cacheDir, `${name}-${bundleSourcesHash(c).slice(0, 16)}.js`);
  try {
    return { code: readFileSync(file, 'utf8'), cached: true, file };
  } catch {
    // Not built for these sources yet.
  }
  const bundle = c.bundle ?? ((p: string) => bundleWorkflowCode({ workflowsPath: p, logger: SILENT }));
  const { code } = await bundle(workflowsPath);
  try {
    mkdirSync(c.cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file); // atomic: a concurrent start reads a whole bundle or none
    for (const old of readdirSync(c.cacheDir)) {
      if (old.startsWith(`${name}-`) && old.endsWith('.js') && path.join(c.cacheDir, old) !== file) rmSync(path.join(c.cacheDir, old), { force: true });
    }
  } catch (e) {
    c.log?.(`workflow bundle ${name}: not cached (${(e as Error).message}); it is built again at the next start`);
  }
  return { code, cached: false, file };
}

/**
 * Both workers' bundles, built into the cache now if missing (the image build runs this through
 * worker/bundle-workflows.ts): the same entries and keys a start computes, so the start reuses them.
 */
export async function prebuildWorkflowBundles(c: TBundleCache = defaultBundleCache()): Promise<Array<{ role: TWorkerRole; cached: boolean; file: string }>> {
  const out: Array<{ role: TWorkerRole; cached: boolean; file: string }> = [];
  for (const role of WORKER_ROLES) {
    const { cached, file } = await cachedWorkflowBundle(workflowsPathOf(role), c);
    out.push({ role, cached, file });
  }
  return out;
}
