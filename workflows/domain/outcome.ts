// What the outcome model predicts for one message: how the complaint is likely to be resolved
// (calibrated probability per outcome), the risk of an untimely response, the model version, and
// the features that drove it. Pure zod, shared by the activity that predicts, the HTTP endpoint,
// policies (which may condition on it) and the Slack message / issue console (which show it).
// Must not: hold message text (drivers name features such as `company=acme` or `word:refund`,
// never quotes) or anything a policy could read as an instruction.
import { z } from 'zod';

/** The resolution outcomes, in model order. CFPB's "Company response to consumer" maps onto them. */
export const OUTCOME_LABELS = ['explanation', 'non_monetary_relief', 'monetary_relief'] as const;
export const ZOutcomeLabel = z.enum(OUTCOME_LABELS);
export type TOutcomeLabel = z.infer<typeof ZOutcomeLabel>;

export const ZOutcomeDriver = z.strictObject({
  /** Feature group and value, e.g. `product=Mortgage`, `word:refund`, `narrative meaning`, `severity:high`. */
  feature: z.string().min(1).max(200),
  /** Contribution to the log-odds of relief (non-monetary or monetary) vs explanation; > 0 pushes towards relief. */
  weight: z.number().finite(),
});
export type TOutcomeDriver = z.infer<typeof ZOutcomeDriver>;

export const ZOutcomePrediction = z.strictObject({
  /** The decided outcome (per-outcome thresholds tuned for macro-F1; see activities/outcome/model.ts). */
  label: ZOutcomeLabel,
  /** Calibrated probabilities; they sum to 1. */
  probabilities: z.strictObject({
    explanation: z.number().min(0).max(1),
    non_monetary_relief: z.number().min(0).max(1),
    monetary_relief: z.number().min(0).max(1),
  }),
  /** P(relief of any kind) = non-monetary + monetary: the figure policies usually want. */
  reliefProbability: z.number().min(0).max(1),
  /** Calibrated probability that the response will be untimely. */
  timelinessRisk: z.number().min(0).max(1),
  /** `outcome@<12 hex>`: a hash of the model file; recorded with every prediction. */
  modelVersion: z.string().min(1).max(200),
  /** Strongest contributions first (at most 5). */
  drivers: z.array(ZOutcomeDriver).max(5),
});
export type TOutcomePrediction = z.infer<typeof ZOutcomePrediction>;

/** The outcome a policy condition asks about; `relief` is either kind of relief. */
export const ZOutcomeCondition = z.enum(['relief', ...OUTCOME_LABELS]);
export type TOutcomeCondition = z.infer<typeof ZOutcomeCondition>;

/** Probability of `what` in a prediction (`relief` sums the two relief outcomes). */
export function outcomeProbability(
  p: Pick<TOutcomePrediction, 'probabilities' | 'reliefProbability'>,
  what: TOutcomeCondition,
): number {
  return what === 'relief' ? p.reliefProbability : p.probabilities[what];
}

const PRETTY: Record<TOutcomeLabel, string> = {
  explanation: 'closed with explanation',
  non_monetary_relief: 'non-monetary relief',
  monetary_relief: 'monetary relief (refund)',
};

type TDescribable = Pick<
  TOutcomePrediction,
  'probabilities' | 'reliefProbability' | 'timelinessRisk' | 'modelVersion'
> & { label?: TOutcomeLabel };

/**
 * The outcome in words, without a prefix: `monetary relief (refund) 41% · relief 63% · untimely risk 3% (outcome@ab12…)`.
 * A message's prediction names its decided label; an issue's (the mean of its reports', no label)
 * names its likeliest outcome.
 */
export function outcomeInWords(p: TDescribable): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const label =
    p.label ??
    OUTCOME_LABELS.reduce((best, l) => (p.probabilities[l] > p.probabilities[best] ? l : best), OUTCOME_LABELS[0]);
  return `${PRETTY[label]} ${pct(p.probabilities[label])} · relief ${pct(p.reliefProbability)} · untimely risk ${pct(p.timelinessRisk)} (${p.modelVersion})`;
}

/**
 * One line for people (the Slack approval message, the issue console, `status`):
 * `Likely outcome: monetary relief (refund) 41% · relief 63% · untimely risk 3% (outcome@ab12…)`.
 */
export function describeOutcome(p: TDescribable | undefined | null): string {
  return p ? `Likely outcome: ${outcomeInWords(p)}` : 'Likely outcome: no prediction';
}

/** What an occurrence carries to its IssueWorkflow: the probabilities, not the drivers. */
export const ZOccurrenceOutcome = z.strictObject({
  probabilities: ZOutcomePrediction.shape.probabilities,
  reliefProbability: z.number().min(0).max(1),
  timelinessRisk: z.number().min(0).max(1),
  modelVersion: z.string().min(1).max(200),
});
export type TOccurrenceOutcome = z.infer<typeof ZOccurrenceOutcome>;

export function occurrenceOutcome(p: TOutcomePrediction): TOccurrenceOutcome {
  return {
    probabilities: p.probabilities,
    reliefProbability: p.reliefProbability,
    timelinessRisk: p.timelinessRisk,
    modelVersion: p.modelVersion,
  };
}

/** Running sums of an issue's predictions (bounded: four numbers and a count, whatever the issue's size). */
export interface TOutcomeSums {
  n: number;
  explanation: number;
  non_monetary_relief: number;
  monetary_relief: number;
  timelinessRisk: number;
  /** Version of the latest prediction folded in. */
  modelVersion: string;
}

export function addOutcome(s: TOutcomeSums | undefined, o: TOccurrenceOutcome): TOutcomeSums {
  const base = s ?? {
    n: 0,
    explanation: 0,
    non_monetary_relief: 0,
    monetary_relief: 0,
    timelinessRisk: 0,
    modelVersion: o.modelVersion,
  };
  return {
    n: base.n + 1,
    explanation: base.explanation + o.probabilities.explanation,
    non_monetary_relief: base.non_monetary_relief + o.probabilities.non_monetary_relief,
    monetary_relief: base.monetary_relief + o.probabilities.monetary_relief,
    timelinessRisk: base.timelinessRisk + o.timelinessRisk,
    modelVersion: o.modelVersion,
  };
}

/** The issue's predicted outcome: the mean over its reports' predictions; null without any (policies fail closed). */
export function issueOutcome(s: TOutcomeSums | undefined | null): TOccurrenceOutcome | null {
  if (!s || s.n === 0) return null;
  const r = (x: number) => Math.round((x / s.n) * 10_000) / 10_000;
  const probabilities = {
    explanation: r(s.explanation),
    non_monetary_relief: r(s.non_monetary_relief),
    monetary_relief: r(s.monetary_relief),
  };
  return {
    probabilities,
    reliefProbability: r(s.non_monetary_relief + s.monetary_relief),
    timelinessRisk: r(s.timelinessRisk),
    modelVersion: s.modelVersion,
  };
}
