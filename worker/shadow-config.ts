// Loads the two configurations a shadow replay compares: the one in force (baseline: the worker's
// own TAXONOMY, POLICY_FILE and PLAYBOOKS_DIR, or the bundled defaults) and the changed one
// (candidate: the flags, each defaulting to the baseline's so one can change a single file). Uses the
// loaders the worker uses, so a file that would not load in production does not load here either.
// The classifier is always the offline model (sentence encoder + TF-IDF when models/ is present):
// a replay never calls an LLM. The pipeline gets the brain's other triage dependencies as the
// worker's does (bootstrap.ts: the encoder's semantic split, the learned severity/sentiment heads),
// so a replay splits and grades messages as the live loop does.
import path from 'node:path';
import { brainDeps, buildTriageBrain } from '../activities/triage/brain.js';
import { readLabeledFile } from '../activities/triage/labeled-data.js';
import { createTriagePipeline, type TriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import type { TShadowConfiguration } from '../activities/shadow/index.js';
import { loadPlaybookDir } from '../playbooks/loader.js';
import { loadPolicyFile } from '../policies/loader.js';
import { PROJECT_ROOT } from './config.js';

export interface TConfigFiles {
  taxonomy: string;
  policy: string;
  playbooks: string;
}

export interface TBrainOptions {
  labeled?: string;
  threshold?: number;
  /** TF-IDF only, even when the sentence encoder is present. */
  tfidf?: boolean;
}

/** What the worker would load from this environment. */
export function liveConfigFiles(env: NodeJS.ProcessEnv): TConfigFiles {
  const pick = (v: string | undefined, d: string) => (v !== undefined && v !== '' ? v : d);
  return {
    taxonomy: pick(env.TAXONOMY, 'general'),
    policy: pick(env.POLICY_FILE, path.join(PROJECT_ROOT, 'policies', 'default.v1.yaml')),
    playbooks: pick(env.PLAYBOOKS_DIR, path.join(PROJECT_ROOT, 'playbooks')),
  };
}

function taxonomyPath(name: string): string {
  return name === 'general' || name === 'banking' ? bundledTaxonomyPath(name) : name;
}

/** Pipelines per taxonomy file: both sides share one (and its triage) when the taxonomy is unchanged. */
export function createPipelineCache(opts: TBrainOptions) {
  const cache = new Map<string, Promise<TriagePipeline>>();
  return (taxonomy: string): Promise<TriagePipeline> => {
    const key = path.resolve(taxonomyPath(taxonomy));
    let p = cache.get(key);
    if (!p) {
      p = (async () => {
        const tax = loadTaxonomyFile(taxonomyPath(taxonomy));
        const brain = await buildTriageBrain(tax, {
          ...(opts.labeled ? { extraExamples: readLabeledFile(opts.labeled) } : {}),
          ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
          ...(opts.tfidf ? { modelDir: null } : {}),
        });
        return createTriagePipeline({ taxonomy: tax, classifier: brain.classifier, ...brainDeps(brain) });
      })();
      cache.set(key, p);
    }
    return p;
  };
}

export async function loadShadowConfiguration(files: TConfigFiles, pipelineFor: (taxonomy: string) => Promise<TriagePipeline>): Promise<TShadowConfiguration> {
  const [pipeline, policy, playbooks] = await Promise.all([pipelineFor(files.taxonomy), loadPolicyFile(files.policy), loadPlaybookDir(files.playbooks)]);
  return { pipeline, policy, playbooks };
}
