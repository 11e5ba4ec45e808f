// What the brain's CLI commands (themes, review) open, resolved the way the worker resolves it:
// the audit store (with its key, for appends), the grouping store beside it, the taxonomy named
// by TAXONOMY and the labeled-data file (LABELED_DATA, else data/labeled.jsonl).
import { openAuditStore, type AuditStore } from '../../activities/audit/index.js';
import { groupingUrlFor, openGroupingStore, type GroupingStore } from '../../activities/grouping/index.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../../activities/triage/taxonomy-loader.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { defaultLabeledFile } from '../bootstrap.js';
import { resolveAuditDbUrl, resolveAuditTrust } from '../commands/audit.js';

export interface BrainCliContext {
  audit: AuditStore;
  grouping: GroupingStore;
  close(): Promise<void>;
}

export async function openBrainStores(dbFlag: string | undefined, env: NodeJS.ProcessEnv): Promise<BrainCliContext> {
  const url = resolveAuditDbUrl(dbFlag, env);
  const audit = await openAuditStore(url, { trust: resolveAuditTrust(url, env) });
  let grouping: GroupingStore;
  try {
    grouping = await openGroupingStore(groupingUrlFor(url));
  } catch (e) {
    await audit.close();
    throw e;
  }
  return {
    audit,
    grouping,
    async close() {
      await grouping.close();
      await audit.close();
    },
  };
}

export function taxonomyFromEnv(env: NodeJS.ProcessEnv): TTaxonomy {
  const name = env.TAXONOMY || 'general';
  return loadTaxonomyFile(name === 'general' || name === 'banking' ? bundledTaxonomyPath(name) : name);
}

export function labeledFileFromEnv(env: NodeJS.ProcessEnv): string {
  return env.LABELED_DATA || defaultLabeledFile();
}
