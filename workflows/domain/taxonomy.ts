// The taxonomy: the versioned list of categories a message can be classified into.
// Operators edit it as YAML (taxonomies/*.yaml); this schema is the contract the loader enforces.
// Pure zod: the workflow records the version it used; activities train classifiers from it.
import { z } from 'zod';
import { NEEDS_REVIEW, ZCategoryId, ZSeverityLevel } from './triage.js';

export const ZTaxonomyCategory = z.strictObject({
  id: ZCategoryId.refine((id) => id !== NEEDS_REVIEW, `"${NEEDS_REVIEW}" is the built-in fallback, not a category`),
  description: z.string().min(10, 'description must say what belongs in the category'),
  ownerTeam: z.string().min(1),
  /** How much a message of this category matters on its own; severity scoring starts from here. */
  criticality: ZSeverityLevel.default('medium'),
  examples: z.array(z.string().min(3)).min(3, 'each category needs at least 3 examples'),
});
export type TTaxonomyCategory = z.infer<typeof ZTaxonomyCategory>;

export const ZSeverityHint = z.strictObject({
  /** Case-insensitive regular expression over masked text. */
  pattern: z.string().min(1),
  /** The floor this cue puts under the severity level. */
  atLeast: ZSeverityLevel,
  cue: z.string().regex(/^[a-z_]+$/),
});
export type TSeverityHint = z.infer<typeof ZSeverityHint>;

export const ZTaxonomy = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9_-]+$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'version must be semantic (e.g. 1.2.0)'),
    description: z.string().optional(),
    /** Below this classifier confidence the answer is needs_review. */
    confidenceThreshold: z.number().min(0).max(1).default(0.5),
    fallback: z.literal(NEEDS_REVIEW).default(NEEDS_REVIEW),
    severityHints: z.array(ZSeverityHint).default([]),
    categories: z.array(ZTaxonomyCategory).min(2),
  })
  .superRefine((t, ctx) => {
    const seen = new Map<string, number>();
    t.categories.forEach((c, i) => {
      const first = seen.get(c.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['categories', i, 'id'],
          message: `duplicate category id "${c.id}" (first at categories.${first})`,
        });
      }
      seen.set(c.id, i);
    });
  });
export type TTaxonomy = z.infer<typeof ZTaxonomy>;

/** `general@1.2.0`: what a decision records as the taxonomy it used. */
export function taxonomyVersionTag(t: Pick<TTaxonomy, 'id' | 'version'>): string {
  return `${t.id}@${t.version}`;
}
