// Promoting an emerging theme into the taxonomy (issue #13 point 6): the theme becomes a category
// whose examples are its members' masked texts, the taxonomy's minor version is bumped, the file is
// written (a copy for the bundled taxonomies, which are never edited in place; the operator's own
// file in place, its old version staying explainable through the audit trail), the theme is closed
// with the category as its label, and the promotion is audited on the theme's trail.
// The YAML is edited as a document (comments and layout kept) and the result is re-validated with
// the loader before anything is written.
// Must not: write a taxonomy the loader would reject, or promote a theme twice.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { AuditStore } from '../../activities/audit/index.js';
import type { GroupingStore } from '../../activities/grouping/store.js';
import { describeThemes } from '../../activities/grouping/themes.js';
import { bundledTaxonomyPath, parseTaxonomy } from '../../activities/triage/taxonomy-loader.js';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { ZCategoryId } from '../../workflows/domain/triage.js';
import { PROJECT_ROOT } from '../config.js';
import type { TReviewer } from './review.js';

export interface TPromoteInput {
  themeId: string;
  category: string;
  description?: string;
  ownerTeam?: string;
  /** TAXONOMY: a bundled name (general, banking) or a file. */
  taxonomy: string;
  /** Where to write; default: the file itself, or data/taxonomies/<id>.v<version>.yaml for a bundled one. */
  out?: string;
  reviewer: TReviewer;
  now: Date;
  maxExamples?: number;
}

export interface TPromoteResult {
  themeId: string;
  name: string;
  category: string;
  taxonomyId: string;
  previousVersion: string;
  taxonomyVersion: string;
  examples: number;
  file: string;
}

export function bumpMinor(version: string): string {
  const [maj, min] = version.split('.').map(Number);
  return `${maj}.${(min ?? 0) + 1}.0`;
}

function sourceFile(taxonomy: string): { file: string; bundled: boolean } {
  if (taxonomy === 'general' || taxonomy === 'banking') return { file: bundledTaxonomyPath(taxonomy), bundled: true };
  return { file: path.resolve(taxonomy), bundled: false };
}

export async function promoteTheme(deps: { store: GroupingStore; audit: AuditStore }, input: TPromoteInput): Promise<TPromoteResult> {
  const id = ZCategoryId.safeParse(input.category);
  if (!id.success || input.category === 'needs_review') throw new LoopwrightError('invalid_input', `"${input.category}" is not a category id (snake_case, 2-64 characters)`, { retryable: false });
  const theme = await deps.store.group('theme', input.themeId);
  if (!theme) throw new LoopwrightError('not_found', `no theme ${input.themeId}`, { retryable: false });
  if (theme.label) throw new LoopwrightError('conflict', `theme ${input.themeId} was already promoted to "${theme.label}"`, { retryable: false });
  const all = await deps.store.groups('theme');
  const members = await deps.store.members('theme', null);
  const view = describeThemes(all, members, { now: input.now.getTime() }).find((v) => v.id === input.themeId)!;
  const texts = [...new Set(members.filter((m) => m.groupKey === input.themeId).map((m) => m.text.trim()).filter((t) => t.length >= 3))].slice(0, input.maxExamples ?? 50);
  if (texts.length < 3) throw new LoopwrightError('invalid_input', `theme ${input.themeId} has ${texts.length} distinct example(s); a category needs at least 3`, { retryable: false });

  const src = sourceFile(input.taxonomy);
  const yamlText = readFileSync(src.file, 'utf8');
  const before = parseTaxonomy(yamlText, src.file);
  if (before.categories.some((c) => c.id === input.category)) throw new LoopwrightError('conflict', `category "${input.category}" already exists in ${before.id}@${before.version}`, { retryable: false });
  const version = bumpMinor(before.version);
  const doc = YAML.parseDocument(yamlText);
  doc.set('version', version);
  const category = {
    id: input.category,
    description: input.description ?? `Promoted from the emerging theme "${view.name}" (${input.themeId}, ${view.size} reports).`,
    ownerTeam: input.ownerTeam ?? 'support',
    examples: texts,
  };
  const categories = doc.get('categories');
  if (!YAML.isSeq(categories)) throw new LoopwrightError('invalid_config', `${src.file}: "categories" is not a list`, { retryable: false });
  categories.add(doc.createNode(category));
  const out = input.out ? path.resolve(input.out) : src.bundled ? path.join(PROJECT_ROOT, 'data', 'taxonomies', `${before.id}.v${version}.yaml`) : src.file;
  const text = doc.toString({ lineWidth: 0 });
  const after = parseTaxonomy(text, out);
  mkdirSync(path.dirname(out), { recursive: true });
  if (existsSync(out) && out !== src.file) throw new LoopwrightError('conflict', `${out} exists; choose another --out`, { retryable: false });
  writeFileSync(`${out}.tmp`, text);
  renameSync(`${out}.tmp`, out);
  await deps.store.setOpen('theme', input.themeId, false, input.category);
  const result: TPromoteResult = {
    themeId: input.themeId,
    name: view.name,
    category: input.category,
    taxonomyId: after.id,
    previousVersion: before.version,
    taxonomyVersion: after.version,
    examples: texts.length,
    file: out,
  };
  await deps.audit.append({
    workflowId: `theme:${input.themeId}`,
    eventKey: `promoted:${input.category}`,
    actor: { type: 'user', id: input.reviewer.id, displayName: input.reviewer.name },
    kind: 'theme_promoted',
    payload: result,
  });
  return result;
}
