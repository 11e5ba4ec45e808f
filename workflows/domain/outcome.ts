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
export function outcomeProbability(p: Pick<TOutcomePrediction, 'probabilities' | 'reliefProbability'>, what: TOutcomeCondition): number {
  return what === 'relief' ? p.reliefProbability : p.probabilities[what];
}

const PRETTY: Record<TOutcomeLabel, string> = {
  explanation: 'closed with explanation',
  non_monetary_relief: 'non-monetary relief',
  monetary_relief: 'monetary relief (refund)',
};

/**
 * One line for people (the Slack approval message, the issue console, `status`):
 * `Likely outcome: monetary relief (refund) 41% · relief 63% · untimely risk 3% (outcome@ab12…)`.
 */
export function describeOutcome(p: TOutcomePrediction | undefined | null): string {
  if (!p) return 'Likely outcome: no prediction';
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `Likely outcome: ${PRETTY[p.label]} ${pct(p.probabilities[p.label])} · relief ${pct(p.reliefProbability)} · untimely risk ${pct(p.timelinessRisk)} (${p.modelVersion})`;
}
