// The one triage function: FeedbackWorkflow's activity, the `classify` CLI and HTTP /v1/classify
// all call `createTriagePipeline(...).triage(item)`. Order matters and is fixed here: validate,
// mask PII, then everything else on masked text only (sentiment, evidence, classification of the
// message and of its clauses, issue fragments, severity, fingerprints).
// Must not: let unmasked text reach the classifier or the result, log anything, or keep state
// between messages (the same item always yields the same result for the same classifier).
import { LoopwrightError, formatIssues } from '../../workflows/domain/errors.js';
import { feedbackSegments, ZFeedbackItem, type TFeedbackItem, type TFeedbackItemInput } from '../../workflows/domain/feedback.js';
import { taxonomyVersionTag, type TTaxonomy } from '../../workflows/domain/taxonomy.js';
import {
  NEEDS_REVIEW,
  SEVERITY_ORDER,
  type TClassification,
  type TEvidence,
  type TIssueFragment,
  type TMaskedText,
  type TSentiment,
  type TSeverity,
  type TTriageResult,
} from '../../workflows/domain/triage.js';
import { extractEvidence } from './evidence.js';
import { quarantine, screenForInjection, withoutFlaggedSentences, type TInjectionScreen } from './injection.js';
import { computeFingerprint } from './fingerprint.js';
import { maskPii, type PiiVault } from './pii.js';
import type { LearnedHeads } from './learned-heads.js';
import type { Classifier, SentenceEncoder, SyncClassifier } from './ports.js';
import { scoreSentiment } from './sentiment.js';
import { createSeverityScorer, type SeverityInput, type SeverityScorer } from './severity.js';
import { SEMANTIC_SPLIT, mergeSegments, segmentMessage, type ClassifiedSegment, type Segment } from './split.js';
import type { BoundaryModel } from './split-boundary.js';

export interface TriagePipelineDeps {
  taxonomy: TTaxonomy;
  /** Classifies the whole message and every multi-clause fragment. */
  classifier: Classifier;
  /**
   * Classifies single clauses while looking for multi-issue splits; defaults to `classifier`.
   * With an LLM or cascade as `classifier`, pass the offline model here so a long message does not
   * cost one LLM call per sentence. Must be trained on the same taxonomy version.
   */
  clauseClassifier?: Classifier;
  /**
   * Learned severity and sentiment (learned-heads.ts) with the encoder they were trained on. Used
   * by `triage`/`triageWithVault` (the encoder is async); `triageSync` and a pipeline without them
   * keep the rules (severity.ts, sentiment.ts).
   */
  learned?: { encoder: SentenceEncoder; heads: LearnedHeads };
  /**
   * Sentence encoder for the semantic split of multi-issue messages (split.ts): clause embeddings
   * decide alongside the cue words. `triage`/`triageWithVault` only; `triageSync` keeps the cues.
   */
  encoder?: SentenceEncoder;
  /**
   * Learned boundary of the multi-issue split (split-boundary.ts), trained on `encoder`'s embeddings:
   * where clause embeddings are available it decides where issues start, else the rules do.
   */
  splitBoundary?: BoundaryModel;
}

export interface TriageOutcome {
  result: TTriageResult;
  /** Placeholder → original, in-process only (e.g. to address a reply). Never persist or log it. */
  vault: PiiVault;
}

export interface TriagePipeline {
  readonly taxonomyVersion: string;
  readonly modelVersion: string;
  triage(item: TFeedbackItem | TFeedbackItemInput): Promise<TTriageResult>;
  triageWithVault(item: TFeedbackItem | TFeedbackItemInput): Promise<TriageOutcome>;
  /** Present when the classifier is synchronous (the offline model): no promise per message in batch runs. */
  triageSync?: (item: TFeedbackItem | TFeedbackItemInput) => TTriageResult;
}

interface Prepared {
  item: TFeedbackItem;
  masked: TMaskedText;
  vault: PiiVault;
  sentiment: TSentiment;
  evidence: TEvidence[];
  segments: Segment[];
  /** Suspected prompt injection: classified offline only, as needs_review, as one fragment (see injection.ts). */
  injection: TInjectionScreen;
}

const NOT_SUSPECTED: TInjectionScreen = { suspected: false, score: 0, cues: [], spans: [] };

function isSync(c: Classifier): c is SyncClassifier {
  return typeof (c as Partial<SyncClassifier>).classifySync === 'function';
}

export function createTriagePipeline(deps: TriagePipelineDeps): TriagePipeline {
  const { taxonomy, classifier } = deps;
  const clauseClassifier = deps.clauseClassifier ?? classifier;
  const taxonomyVersion = taxonomyVersionTag(taxonomy);
  const severity: SeverityScorer = createSeverityScorer(taxonomy);
  const categoryIds = taxonomy.categories.map((c) => c.id);

  function prepare(input: TFeedbackItem | TFeedbackItemInput): Prepared {
    const parsed = ZFeedbackItem.safeParse(input);
    if (!parsed.success) {
      // Field paths and messages only: the text itself may be PII and must not travel in errors.
      throw new LoopwrightError('invalid_input', `invalid feedback item: ${formatIssues(parsed.error.issues)}`, {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
        retryable: false,
      });
    }
    const item = parsed.data;
    const { masked, vault } = maskPii(item.text);
    return analyse(item, masked, vault, screenForInjection(masked.text, categoryIds));
  }

  function analyse(item: TFeedbackItem, masked: TMaskedText, vault: PiiVault, injection: TInjectionScreen): Prepared {
    return { item, masked, vault, sentiment: scoreSentiment(masked.text), evidence: extractEvidence(masked.text), segments: segmentMessage(masked.text), injection };
  }

  /**
   * A flagged message without its flagged sentences, for the reviewer's proposal; null when nothing
   * a classifier could read is left (a pure injection gets no proposal at all).
   */
  function sanitized(p: Prepared): Prepared | null {
    const text = withoutFlaggedSentences(p.masked.text, p.injection);
    if ((text.match(/\p{L}{2,}/gu)?.length ?? 0) < 2) return null;
    return analyse(p.item, { text, redactions: [] }, p.vault, NOT_SUSPECTED);
  }

  function checkVersion(c: TClassification): TClassification {
    if (c.taxonomyVersion !== taxonomyVersion) {
      throw new LoopwrightError(
        'invalid_config',
        `classifier was trained on taxonomy ${c.taxonomyVersion} but the pipeline uses ${taxonomyVersion}`,
        { retryable: false },
      );
    }
    return c;
  }

  /** Clauses to classify individually; none when the message is one clause. */
  function clauseTexts(p: Prepared): string[] {
    return p.segments.length > 1 ? p.segments.map((s) => s.text) : [];
  }

  /** Merged fragments whose text differs from every single clause need their own classification. */
  function merge(p: Prepared, whole: TClassification, clauses: TClassification[], vectors?: Float32Array[], wholeVector?: Float32Array): { fragments: ClassifiedSegment[]; toReclassify: number[] } {
    if (p.segments.length <= 1) {
      return { fragments: [{ start: 0, end: p.masked.text.length, text: p.masked.text, classification: whole }], toReclassify: [] };
    }
    const classified = p.segments.map((s, i) => ({ ...s, classification: clauses[i]!, ...(vectors ? { vector: vectors[i]! } : {}) }));
    let fragments = mergeSegments(p.masked.text, classified, SEMANTIC_SPLIT, deps.splitBoundary, wholeVector);
    if (fragments.length === 1) {
      // One issue after all: the whole message's own classification is the better-informed one.
      fragments = [{ ...fragments[0]!, classification: whole }];
      return { fragments, toReclassify: [] };
    }
    const single = new Set(p.segments.map((s) => `${s.start}:${s.end}`));
    const toReclassify = fragments.flatMap((f, i) => (single.has(`${f.start}:${f.end}`) ? [] : [i]));
    return { fragments, toReclassify };
  }

  /**
   * Re-classification can give two neighbouring fragments the same category; they are one issue
   * then (unless the learned boundary separated them), and a single remaining fragment takes the whole message's classification.
   */
  function coalesce(p: Prepared, whole: TClassification, fragments: ClassifiedSegment[]): ClassifiedSegment[] {
    const out: ClassifiedSegment[] = [];
    for (const f of fragments) {
      const prev = out[out.length - 1];
      // A fragment the learned boundary started stays apart: two issues can share a category.
      if (prev && prev.classification.category === f.classification.category && f.boundary === undefined) {
        const best = prev.classification.confidence >= f.classification.confidence ? prev.classification : f.classification;
        out[out.length - 1] = { start: prev.start, end: f.end, text: p.masked.text.slice(prev.start, f.end), classification: best };
      } else {
        out.push(f);
      }
    }
    return out.length === 1 ? [{ ...out[0]!, classification: whole }] : out;
  }

  /** Learned readings of the texts a result needs (the whole message and each fragment). */
  type Readings = Map<string, { sentiment: TSentiment; severity: NonNullable<SeverityInput['learned']> }>;

  async function readLearned(p: Prepared, whole: TClassification, fragments: ClassifiedSegment[]): Promise<Readings | undefined> {
    const learned = deps.learned;
    if (!learned) return undefined;
    const texts = [...new Set([p.masked.text, ...coalesce(p, whole, fragments).map((f) => f.text)])];
    // The classifier embedded most of these already: the encoder's cache answers them.
    const vectors = await learned.encoder.embed(texts);
    const out: Readings = new Map();
    texts.forEach((t, i) => {
      const v = vectors[i]!;
      out.set(t, { sentiment: learned.heads.sentiment(t, v), severity: { ...learned.heads.severity(t, v), version: learned.heads.version } });
    });
    return out;
  }

  function finish(p: Prepared, whole: TClassification, merged: ClassifiedSegment[], readings?: Readings): TTriageResult {
    const { item } = p;
    const fragments = coalesce(p, whole, merged);
    const product = item.product ?? item.sku;
    const sentimentOf = (text: string) => readings?.get(text)?.sentiment ?? (text === p.masked.text ? p.sentiment : scoreSentiment(text));
    const brainDeps = (text: string) => {
      const r = readings?.get(text)?.severity;
      return r ? { learned: r } : {};
    };
    const messageSentiment = sentimentOf(p.masked.text);
    const issueFragments: TIssueFragment[] = fragments.map((f) => {
      const evidence = p.evidence.filter((e) => e.start >= f.start && e.end <= f.end);
      const sev = severity.score({
        text: f.text,
        sentiment: fragments.length === 1 ? messageSentiment : sentimentOf(f.text),
        category: f.classification.category,
        customer: item.customer,
        ...brainDeps(f.text),
      });
      return {
        text: f.text,
        start: f.start,
        end: f.end,
        classification: f.classification,
        severity: sev,
        evidence,
        fingerprint: computeFingerprint({ category: f.classification.category, evidence, product }),
      };
    });
    const wholeSeverity = severity.score({ text: p.masked.text, sentiment: messageSentiment, category: whole.category, customer: item.customer, ...brainDeps(p.masked.text) });
    return {
      source: item.source,
      externalId: item.externalId,
      receivedAt: item.receivedAt,
      channel: item.channel,
      ...(item.customer ? { customer: item.customer } : {}),
      masked: p.masked,
      classification: whole,
      // The message is as severe as its worst issue.
      severity: mostSevere([wholeSeverity, ...issueFragments.map((f) => f.severity)]),
      sentiment: messageSentiment,
      evidence: p.evidence,
      fingerprint: computeFingerprint({ category: whole.category, evidence: p.evidence, product }),
      fragments: issueFragments,
      taxonomyVersion,
      ...(p.masked.text.includes('\uFFFD') ? { flags: ['encoding_suspect'] } : {}),
      segments: feedbackSegments(item),
    };
  }

  /**
   * A flagged message: never split, never sent to the LLM, needs_review with the cues as the reason,
   * routed nowhere. `proposal` is the offline triage of the message without its flagged sentences:
   * the category a reviewer is offered (first alternative) and the severity and sentiment come from
   * it, so an injected sentence cannot steer them; a pure injection (no proposal) offers none.
   */
  function quarantined(p: Prepared, proposal: TTriageResult | null): TTriageResult {
    const none: TClassification = {
      category: NEEDS_REVIEW,
      confidence: 0,
      alternatives: [],
      source: 'local',
      taxonomyVersion,
      modelVersion: clauseClassifier.modelVersion,
      promptVersion: null,
    };
    const whole = quarantine(proposal?.classification ?? none, p.injection);
    const result = finish(p, whole, [{ start: 0, end: p.masked.text.length, text: p.masked.text, classification: whole }]);
    if (!proposal) return result;
    return { ...result, severity: proposal.severity, sentiment: proposal.sentiment, fragments: result.fragments.map((f) => ({ ...f, severity: proposal.severity })) };
  }

  /** The whole message by `whole`, its clauses by the clause classifier, merged into issue fragments. */
  async function classifyAll(p: Prepared, wholeClassifier: Classifier): Promise<TTriageResult> {
    const whole = checkVersion(await wholeClassifier.classify(p.masked.text));
    const texts = clauseTexts(p);
    const clauses = await Promise.all(texts.map(async (t) => checkVersion(await clauseClassifier.classify(t))));
    // The whole message's embedding too (the boundary model compares it with each half; the fused classifier's cache has it).
    const embedded = deps.encoder && texts.length > 1 ? await deps.encoder.embed([...texts, p.masked.text]) : undefined;
    const { fragments, toReclassify } = merge(p, whole, clauses, embedded?.slice(0, texts.length), embedded?.[texts.length]);
    for (const i of toReclassify) {
      const f = fragments[i]!;
      fragments[i] = { ...f, classification: checkVersion(await wholeClassifier.classify(f.text)) };
    }
    return finish(p, whole, fragments, await readLearned(p, whole, fragments));
  }

  async function triageWithVault(input: TFeedbackItem | TFeedbackItemInput): Promise<TriageOutcome> {
    const p = prepare(input);
    if (p.injection.suspected) {
      const clean = sanitized(p);
      return { result: quarantined(p, clean ? await classifyAll(clean, clauseClassifier) : null), vault: p.vault };
    }
    return { result: await classifyAll(p, classifier), vault: p.vault };
  }

  const pipeline: TriagePipeline = {
    taxonomyVersion,
    modelVersion: classifier.modelVersion,
    triageWithVault,
    async triage(input) {
      return (await triageWithVault(input)).result;
    },
  };

  if (isSync(classifier) && isSync(clauseClassifier)) {
    const clauseSync = clauseClassifier;
    const classifyAllSync = (p: Prepared, wholeClassifier: SyncClassifier): TTriageResult => {
      const whole = checkVersion(wholeClassifier.classifySync(p.masked.text));
      const clauses = clauseTexts(p).map((t) => checkVersion(clauseSync.classifySync(t)));
      const { fragments, toReclassify } = merge(p, whole, clauses);
      for (const i of toReclassify) {
        const f = fragments[i]!;
        fragments[i] = { ...f, classification: checkVersion(wholeClassifier.classifySync(f.text)) };
      }
      return finish(p, whole, fragments);
    };
    const wholeSync = classifier;
    pipeline.triageSync = (input) => {
      const p = prepare(input);
      if (p.injection.suspected) {
        const clean = sanitized(p);
        return quarantined(p, clean ? classifyAllSync(clean, clauseSync) : null);
      }
      return classifyAllSync(p, wholeSync);
    };
  }
  return pipeline;
}

function mostSevere(all: TSeverity[]): TSeverity {
  let best = all[0]!;
  for (const s of all) {
    const a = SEVERITY_ORDER.indexOf(s.level);
    const b = SEVERITY_ORDER.indexOf(best.level);
    if (a > b || (a === b && s.score > best.score)) best = s;
  }
  return best;
}
