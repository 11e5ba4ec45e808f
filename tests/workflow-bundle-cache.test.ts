// The workers' workflow bundles are built once per source state (worker/workflow-bundle-cache.ts):
// a second start reuses the stored bundle without webpack, any change to a source file builds a new
// one (the old is removed), and a cache that cannot be written costs a log line, not the start.
// The real SDK bundler runs on a one-function workflow file (inside the repository, so webpack
// resolves @temporalio/workflow from its node_modules).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleSourcesHash, cachedWorkflowBundle, defaultBundleCache, type TBundleCache } from '../worker/workflow-bundle-cache.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const dir = path.join(ROOT, 'tmp', `bundle-cache-${process.pid}`);
const src = path.join(dir, 'src');
const entry = path.join(src, 'hello-bundle.ts');
const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
mkdirSync(src, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workflow bundle cache', () => {
  it('builds once, reuses the stored bundle, and builds again when a source changes', async () => {
    writeFileSync(entry, "export async function hello(): Promise<string> {\n  return 'first';\n}\n");
    const built: string[] = [];
    const logs: string[] = [];
    const cache: TBundleCache = {
      sourceDirs: [src],
      files: [path.join(ROOT, 'package-lock.json')],
      cacheDir: path.join(dir, 'cache'),
      bundle: async (p) => (built.push(p), bundleWorkflowCode({ workflowsPath: p, logger: SILENT })),
      log: (l) => logs.push(l),
    };
    const first = await cachedWorkflowBundle(entry, cache);
    expect(first.cached).toBe(false);
    expect(first.code).toContain("'first'");
    expect(built).toEqual([entry]);

    const again = await cachedWorkflowBundle(entry, cache);
    expect(again).toMatchObject({ cached: true, file: first.file });
    expect(again.code).toBe(first.code);
    expect(built).toHaveLength(1); // no webpack on the second start

    writeFileSync(entry, "export async function hello(): Promise<string> {\n  return 'second';\n}\n");
    const changed = await cachedWorkflowBundle(entry, cache);
    expect(changed.cached).toBe(false);
    expect(changed.code).toContain("'second'");
    expect(changed.code).not.toContain("'first'");
    expect(built).toHaveLength(2);
    expect(readdirSync(cache.cacheDir).filter((f) => f.startsWith('hello-bundle-'))).toEqual([path.basename(changed.file)]);
    expect(logs).toEqual([]);
  }, 120_000);

  it('still returns the bundle when the cache cannot be written, and says so', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the cache directory would be');
    const logs: string[] = [];
    const r = await cachedWorkflowBundle(entry, { sourceDirs: [src], files: [], cacheDir: path.join(blocker, 'cache'), bundle: async () => ({ code: 'bundle code' }), log: (l) => logs.push(l) });
    expect(r).toMatchObject({ code: 'bundle code', cached: false });
    expect(logs).toEqual([expect.stringMatching(/^workflow bundle hello-bundle: not cached \(.+\); it is built again at the next start$/)]);
  });

  it('keys the product bundles by every source directory the workflows import from and the lockfile', () => {
    const c = defaultBundleCache();
    expect(c.sourceDirs.map((d) => path.relative(ROOT, d))).toEqual(['workflows', 'activities', 'playbooks', 'policies', 'worker']);
    expect(c.files.map((f) => path.relative(ROOT, f))).toEqual(['package-lock.json']);
    expect(path.relative(ROOT, c.cacheDir)).toBe(path.join('dist', 'workflow-bundles'));
    expect(bundleSourcesHash(c)).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleSourcesHash(c)).toBe(bundleSourcesHash(c));
  });
});
