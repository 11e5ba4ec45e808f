// Builds the workers' two workflow bundles into the bundle cache (worker/workflow-bundle-cache.ts)
// ahead of the first start: the Dockerfile runs it at image build time, where the cache directory
// (dist/workflow-bundles/) is still writable, so a container starts on the stored bundles instead
// of running webpack on every start in its read-only dist/. `node dist/worker/bundle-workflows.js`.
import path from 'node:path';
import { PROJECT_ROOT } from './config.js';
import { prebuildWorkflowBundles } from './workflow-bundle-cache.js';

for (const b of await prebuildWorkflowBundles())
  process.stdout.write(
    `workflow bundle ${b.role}: ${b.cached ? 'already built' : 'built'} (${path.relative(PROJECT_ROOT, b.file)})\n`,
  );
