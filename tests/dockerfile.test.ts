// The image starts on workflow bundles built at image build time (Dockerfile): its dist/ is not
// writable by the `node` user, so a bundle cache filled at run time would never be kept and every
// container start would run webpack again. Checked here without a Docker engine: the bundle step
// stores both workers' bundles under the keys a start computes (worker/workflow-bundle-cache.ts,
// with the entries worker/main.ts uses), and the Dockerfile runs that step in the build stage and
// copies every file of the key to the same paths in the final stage.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cachedWorkflowBundle,
  defaultBundleCache,
  prebuildWorkflowBundles,
  type TBundleCache,
} from '../worker/workflow-bundle-cache.js';
import { loopwrightWorkerOptions, WORKER_ROLES } from '../worker/worker-options.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const dir = path.join(ROOT, 'tmp', `dockerfile-bundles-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stage {
  name: string | null;
  lines: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of joined) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ name: from[1] ?? null, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe('Dockerfile: workflow bundles built into the image', () => {
  it('the bundle step stores both workers’ bundles where and under the keys a start looks them up', async () => {
    const built: string[] = [];
    const cache: TBundleCache = {
      ...defaultBundleCache(),
      cacheDir: path.join(dir, 'cache'),
      bundle: async (p) => (built.push(p), { code: `// bundle of ${p}` }),
    };
    const done = await prebuildWorkflowBundles(cache);
    expect(done.map((b) => b.role)).toEqual(['feedback', 'issue']);
    const temporal = { taskQueue: 'loopwright', deployment: null };
    expect(built).toEqual(WORKER_ROLES.map((r) => loopwrightWorkerOptions(temporal, r).workflowsPath));
    // A start (worker/main.ts createWorker) finds them without bundling.
    const noBundler = { ...cache, bundle: () => Promise.reject(new Error('a start bundled again')) };
    for (const role of WORKER_ROLES) {
      const r = await cachedWorkflowBundle(loopwrightWorkerOptions(temporal, role).workflowsPath!, noBundler);
      expect(r.cached).toBe(true);
    }
  });

  it('runs the bundle step in the build stage and copies every file of the cache key to the same paths in the final image', () => {
    const all = stages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    const build = all.find((s) => s.name === 'build');
    const final = all.at(-1)!;
    expect(build).toBeDefined();
    const workdir = (s: Stage) => s.lines.filter((l) => /^WORKDIR\s/.test(l)).at(-1);
    expect(workdir(final)).toBe('WORKDIR /app');
    const step = build!.lines.findIndex((l) => l === 'RUN node dist/worker/bundle-workflows.js');
    expect(step, 'the build stage runs node dist/worker/bundle-workflows.js').toBeGreaterThan(
      build!.lines.findIndex((l) => /tsc -p tsconfig\.build\.json/.test(l)),
    );
    expect(final.lines).toContain('COPY --from=build /app/dist ./dist');
    // Every key file/directory, relative to the repository: copied before the step in the build
    // stage (or inherited from deps, WORKDIR /app) and copied to the same place in the final stage.
    const key = defaultBundleCache();
    const keyPaths = [...key.sourceDirs, ...key.files].map((p) => path.relative(ROOT, p));
    const copied = (lines: string[]) =>
      new Set(
        lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1)),
      );
    const deps = all.find((s) => s.name === 'deps')!;
    const beforeStep = copied([...deps.lines, ...build!.lines.slice(0, step)]);
    const inFinal = copied(final.lines);
    for (const p of keyPaths) {
      expect(beforeStep.has(p), `${p} is in the build stage before the bundle step`).toBe(true);
      expect(inFinal.has(p), `${p} is in the final image`).toBe(true);
    }
    // The key hashes absolute paths: the build stage (FROM deps) works in /app as the final stage does.
    expect(workdir(deps)).toBe('WORKDIR /app');
    expect(workdir(build!) ?? workdir(deps)).toBe('WORKDIR /app');
  });
});
