// Grouping by meaning, in Sentry's order, and emerging themes. For each routable fragment:
//  0. with an evidence joiner (evidence-join.ts): the issue its error code already names, or the
//     issue of its release cohort while that cohort spikes, across categories (the reason says so);
//  1. a fingerprint where the message carries error codes (the code names the defect);
//  2. else the most similar OPEN issue of its partition (category + product) whose centroid's
//     cosine similarity clears `issueThreshold`;
//  3. else a new issue, keyed `<category>.<hash of partition + fragment>`.
// needs_review fragments (not quarantined ones) join the most similar theme above
// `themeThreshold`, else open a theme: themes are named and counted in themes.ts.
// Every decision says why (method, nearest group, similarity, threshold, encoder) and is stored
// per fragment, so a retried routing activity repeats the first decision instead of re-deciding
// against groups that moved in the meantime.
// Concurrency: decisions within one partition are serialised in this process (two similar reports
// arriving together must not open two issues); across worker processes two simultaneous first
// reports can still open two issues for one problem (a split, the lesser error), never a wrong merge.
// Must not: see unmasked text, signal workflows (routing does), or touch Temporal history.
import { createHash } from 'node:crypto';
import type { TFingerprint, TIssueFragment } from '../../workflows/domain/triage.js';
import type { SentenceEncoder } from '../triage/ports.js';
import type { TSegmentValues } from '../../workflows/domain/segments.js';
import type { EvidenceJoiner, TEvidenceJoin } from './evidence-join.js';
import type { GroupingStore, TGroupKind, TGroupRow, TMemberRow } from './store.js';

/** Bump when the decision recipe changes; recorded with every decision. */
export const GROUPING_VERSION = 'grp-1';

/**
 * Cosine similarity an issue's centroid must reach for a fragment to join it. Chosen on a seeded
 * half of the CFPB narratives (bench/grouping.ts: best min(purity, completeness) per complaint,
 * 0.25-0.6 swept) and reported on the other half. Higher splits more (purer, less complete).
 */
export const DEFAULT_ISSUE_THRESHOLD = 0.45;
/** Themes gather what no category fits: a looser bar, so a theme forms from a handful of reports. */
export const DEFAULT_THEME_THRESHOLD = 0.5;

export type TGroupingMethod = 'fingerprint' | 'similarity' | 'new_issue' | 'no_encoder' | 'evidence_join';

export interface TGroupingDecision {
  method: TGroupingMethod;
  /** The fingerprint routing uses: the issue's key (the IssueWorkflow id's suffix). */
  fingerprint: TFingerprint;
  /** The most similar open issue considered (joined or not), and its similarity. */
  nearest?: { key: string; similarity: number };
  threshold?: number;
  /** What the decision rested on: fingerprint features, or `partition:…` for similarity. */
  features: string[];
  version: string;
  encoder?: string;
  /** True when a retry found the fragment's first decision. */
  repeated?: boolean;
  /** evidence_join: the code or release cohort that placed the fragment, and its own category. */
  join?: TEvidenceJoin;
}

export interface TThemeDecision {
  themeId: string;
  created: boolean;
  nearest?: { key: string; similarity: number };
  threshold: number;
  repeated?: boolean;
}

export interface TFragmentRef {
  /** `<source>:<externalId>` of the message. */
  feedbackId: string;
  fragment: Pick<TIssueFragment, 'text' | 'start' | 'end' | 'fingerprint' | 'severity'>;
  /** When the customer wrote (ISO). */
  at: string;
  /** The message's normalised segments (release cohorts are platform family + app version). */
  segments?: TSegmentValues;
  /** A ticket's earlier message looked up again: its first decisions only, nothing counted anew. */
  lookupOnly?: boolean;
}

export interface GroupingOptions {
  store: GroupingStore;
  /** Absent (models/ missing): fingerprints only, and no themes; the decision says so. */
  encoder?: SentenceEncoder;
  /** Whether the IssueWorkflow of a key still runs (closed issues are never joined). */
  isOpen?: (fingerprintKey: string) => Promise<boolean>;
  issueThreshold?: number;
  themeThreshold?: number;
  /** Joins across categories on an error code or a spiking release cohort (evidence-join.ts). */
  joiner?: EvidenceJoiner;
}

export interface Grouper {
  readonly issueThreshold: number;
  readonly themeThreshold: number;
  groupFragment(ref: TFragmentRef): Promise<TGroupingDecision>;
  /**
   * A needs_review fragment's issue when specific evidence names one (a code's issue, a spiking
   * release cohort's issue); null without a joiner or evidence. Its classification stays as it is.
   */
  joinUnclassified(ref: TFragmentRef): Promise<TGroupingDecision | null>;
  /** Null without an encoder. */
  assignTheme(ref: TFragmentRef): Promise<TThemeDecision | null>;
  embed(text: string): Promise<Float32Array | null>;
}

export function memberKeyOf(ref: { feedbackId: string; fragment: { start: number; end: number } }): string {
  return `${ref.feedbackId}#${ref.fragment.start}-${ref.fragment.end}`;
}

/** Error codes name a defect: such fragments keep their fingerprint (Sentry's first rule). */
export function carriesCodes(fp: TFingerprint): boolean {
  return fp.features.some((f) => f.startsWith('code:'));
}

/** Issues are compared within one category and one product (a product named by the source). */
export function partitionOf(fp: TFingerprint): string {
  return [fp.category, ...fp.features.filter((f) => f.startsWith('product:'))].join('|');
}

export function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Cosine between a unit vector and a group's (un-normalised) sum. */
export function similarityTo(v: Float32Array, sum: Float32Array): number {
  const n = norm(sum);
  if (n === 0) return 0;
  let d = 0;
  for (let i = 0; i < v.length; i++) d += v[i]! * sum[i]!;
  return d / n;
}

export function nearestGroups(v: Float32Array, groups: readonly TGroupRow[]): Array<{ group: TGroupRow; similarity: number }> {
  return groups.map((group) => ({ group, similarity: similarityTo(v, group.sum) })).sort((a, b) => b.similarity - a.similarity || a.group.key.localeCompare(b.group.key));
}

const hash12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** The normalised error codes of a fingerprint (`code:` features). */
export function codesOf(fp: TFingerprint): string[] {
  return fp.features.filter((f) => f.startsWith('code:')).map((f) => f.slice('code:'.length));
}

/** The decision for a fragment an evidence join placed: the joined issue's key and category. */
export function joinedDecision(base: TFingerprint, join: TEvidenceJoin): TGroupingDecision {
  const features = [`join:${join.by}`, ...join.evidence];
  const category = join.key.slice(0, join.key.indexOf('.'));
  return { method: 'evidence_join', fingerprint: { key: join.key, category, features, version: `${base.version}+${join.version}` }, features, version: GROUPING_VERSION, join };
}

/** The fingerprint of an issue opened (or joined) by similarity: its key is the group's. */
export function groupFingerprint(base: TFingerprint, key: string, features: string[]): TFingerprint {
  return { key, category: base.category, features, version: `${base.version}+${GROUPING_VERSION}` };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function createGrouper(opts: GroupingOptions): Grouper {
  const { store, encoder, joiner } = opts;
  const issueThreshold = opts.issueThreshold ?? DEFAULT_ISSUE_THRESHOLD;
  const themeThreshold = opts.themeThreshold ?? DEFAULT_THEME_THRESHOLD;
  const isOpen = opts.isOpen ?? (async () => true);
  // One decision at a time per partition (see the header).
  const locks = new Map<string, Promise<unknown>>();
  async function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (locks.get(key) === tail) locks.delete(key);
    }
  }

  async function embed(text: string): Promise<Float32Array | null> {
    if (!encoder) return null;
    const [v] = await encoder.embed([text]);
    return v ?? null;
  }

  function fromStored(m: TMemberRow, base: TFingerprint): TGroupingDecision {
    const info = m.info as Partial<TGroupingDecision>;
    return {
      method: info.method ?? 'similarity',
      fingerprint: groupFingerprint(base, m.groupKey, info.features ?? []),
      ...(info.nearest ? { nearest: info.nearest } : {}),
      ...(info.threshold !== undefined ? { threshold: info.threshold } : {}),
      features: info.features ?? [],
      version: info.version ?? GROUPING_VERSION,
      ...(info.encoder ? { encoder: info.encoder } : {}),
      repeated: true,
    };
  }

  return {
    issueThreshold,
    themeThreshold,
    embed,
    async joinUnclassified(ref) {
      if (!joiner) return null;
      const fp = ref.fragment.fingerprint;
      const join = await joiner.join({ memberKey: memberKeyOf(ref), at: ref.at, category: fp.category, codes: codesOf(fp), ...(ref.segments ? { segments: ref.segments } : {}), ...(ref.lookupOnly ? { lookupOnly: true } : {}) });
      return join ? joinedDecision(fp, join) : null;
    },
    async groupFragment(ref) {
      const fp = ref.fragment.fingerprint;
      if (!joiner) return byMeaning(ref);
      const join = await joiner.join({ memberKey: memberKeyOf(ref), at: ref.at, category: fp.category, codes: codesOf(fp), ownKey: fp.key, ...(ref.segments ? { segments: ref.segments } : {}), ...(ref.lookupOnly ? { lookupOnly: true } : {}) });
      if (join) return joinedDecision(fp, join);
      const d = await byMeaning(ref);
      // Where it went, so a cohort spiking later can adopt the issue that already holds its reports.
      if (!ref.lookupOnly) await joiner.settle(memberKeyOf(ref), d.fingerprint.key, ref.at);
      return d;
    },
    async assignTheme(ref) {
      return assignTheme(ref);
    },
  };

  /** Sentry's order without the evidence joins: the code's fingerprint, else the most similar open issue, else a new one. */
  async function byMeaning(ref: TFragmentRef): Promise<TGroupingDecision> {
      const fp = ref.fragment.fingerprint;
      if (carriesCodes(fp)) return { method: 'fingerprint', fingerprint: fp, features: fp.features, version: GROUPING_VERSION };
      if (!encoder) return { method: 'no_encoder', fingerprint: fp, features: fp.features, version: GROUPING_VERSION };
      const memberKey = memberKeyOf(ref);
      const prior = await store.member('issue', memberKey);
      if (prior) return fromStored(prior, fp);
      const vector = (await embed(ref.fragment.text))!;
      const partition = partitionOf(fp);
      return serial(`issue\u0000${partition}`, async () => {
        const again = await store.member('issue', memberKey);
        if (again) return fromStored(again, fp);
        const ranked = nearestGroups(vector, await store.groups('issue', { partition, openOnly: true }));
        let chosen: { group: TGroupRow; similarity: number } | undefined;
        for (const c of ranked) {
          if (c.similarity < issueThreshold) break;
          if (await isOpen(c.group.key)) {
            chosen = c;
            break;
          }
          await store.setOpen('issue', c.group.key, false);
        }
        const nearest = ranked[0] ? { key: ranked[0].group.key, similarity: round(ranked[0].similarity) } : undefined;
        const features = [`partition:${partition}`, ...fp.features.filter((f) => !f.startsWith('product:'))];
        const key = chosen ? chosen.group.key : `${fp.category}.${hash12(`${GROUPING_VERSION}\n${partition}\n${memberKey}`)}`;
        const decision: TGroupingDecision = {
          method: chosen ? 'similarity' : 'new_issue',
          fingerprint: groupFingerprint(fp, key, features),
          ...(chosen ? { nearest: { key: chosen.group.key, similarity: round(chosen.similarity) } } : nearest ? { nearest } : {}),
          threshold: issueThreshold,
          features,
          version: GROUPING_VERSION,
          encoder: encoder.modelVersion,
        };
        const { fingerprint: _fp, repeated: _r, ...info } = decision;
        await store.assign({
          member: {
            kind: 'issue',
            memberKey,
            groupKey: key,
            similarity: chosen ? round(chosen.similarity) : null,
            at: ref.at,
            severity: ref.fragment.severity.level,
            text: '',
            info,
          },
          vector,
          ...(chosen ? {} : { create: { partition } }),
        });
        return decision;
      });
  }

  async function assignTheme(ref: TFragmentRef): Promise<TThemeDecision | null> {
      if (!encoder) return null;
      const memberKey = memberKeyOf(ref);
      const stored = (m: TMemberRow): TThemeDecision => {
        const info = m.info as Partial<TThemeDecision>;
        return { themeId: m.groupKey, created: false, ...(info.nearest ? { nearest: info.nearest } : {}), threshold: info.threshold ?? themeThreshold, repeated: true };
      };
      const prior = await store.member('theme', memberKey);
      if (prior) return stored(prior);
      const vector = (await embed(ref.fragment.text))!;
      return serial('theme', async () => {
        const again = await store.member('theme', memberKey);
        if (again) return stored(again);
        const ranked = nearestGroups(vector, await store.groups('theme', { openOnly: true }));
        const best = ranked[0];
        const join = best && best.similarity >= themeThreshold ? best : undefined;
        const themeId = join ? join.group.key : `theme.${hash12(`${GROUPING_VERSION}\n${memberKey}`)}`;
        const decision: TThemeDecision = {
          themeId,
          created: !join,
          ...(best ? { nearest: { key: best.group.key, similarity: round(best.similarity) } } : {}),
          threshold: themeThreshold,
        };
        await store.assign({
          member: {
            kind: 'theme' satisfies TGroupKind,
            memberKey,
            groupKey: themeId,
            similarity: join ? round(join.similarity) : null,
            at: ref.at,
            severity: ref.fragment.severity.level,
            text: ref.fragment.text.slice(0, 2_000),
            info: { ...(decision.nearest ? { nearest: decision.nearest } : {}), threshold: themeThreshold, encoder: encoder.modelVersion, version: GROUPING_VERSION },
          },
          vector,
          ...(join ? {} : { create: { partition: 'themes' } }),
        });
        return decision;
      });
  }
}
