// The deployment gate of a shadow replay: `--fail-on` conditions a CI pipeline sets so a risky
// configuration change is refused (non-zero exit) before it goes live. Pure: parses the conditions
// and checks them against the diff's counts.
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TShadowCounts } from './diff.js';

/** Gate metrics: name → the count it reads (ratio-capable metrics accept a percentage). */
const METRICS = {
  reclassified: (c: TShadowCounts) => c.reclassified,
  merges: (c: TShadowCounts) => c.merges,
  splits: (c: TShadowCounts) => c.splits,
  'trigger-changes': (c: TShadowCounts) => c.triggerChanges,
  'new-triggers': (c: TShadowCounts) => c.newlyFiring,
  'lost-triggers': (c: TShadowCounts) => c.noLongerFiring,
  'verdict-changes': (c: TShadowCounts) => c.verdictChanges,
  'new-auto': (c: TShadowCounts) => c.newlyAutomatic,
  'auto-customer-facing': (c: TShadowCounts) => c.newlyAutomaticCustomerFacing,
  failed: (c: TShadowCounts) => c.failed,
} as const;
type TMetric = keyof typeof METRICS;

export const GATE_METRICS = Object.keys(METRICS) as TMetric[];

export interface TGateCondition {
  metric: TMetric;
  /** Fails when the value is greater than this. */
  threshold: number;
  /** Threshold is a percentage of the messages replayed (reclassified only). */
  percent: boolean;
  text: string;
}

export interface TGateResult {
  condition: string;
  value: string;
  failed: boolean;
}

const CONDITION = /^([a-z-]+)(?:\s*>\s*(\d+(?:\.\d+)?)(%)?)?$/;

/**
 * `reclassified>5%`, `reclassified>20`, `auto-customer-facing` (same as `>0`), `new-auto>2`, ...;
 * comma-separated or repeated. An unknown metric or a malformed threshold is an error, never ignored.
 */
export function parseGate(specs: readonly string[]): TGateCondition[] {
  const out: TGateCondition[] = [];
  for (const raw of specs.flatMap((s) => s.split(','))) {
    const text = raw.trim();
    if (!text) continue;
    const m = CONDITION.exec(text);
    if (!m || !(m[1]! in METRICS)) {
      throw new LoopwrightError('invalid_input', `--fail-on "${text}": expected METRIC or METRIC>N or reclassified>N% with METRIC one of ${GATE_METRICS.join(', ')}`, { retryable: false });
    }
    const metric = m[1] as TMetric;
    const percent = m[3] === '%';
    if (percent && metric !== 'reclassified') throw new LoopwrightError('invalid_input', `--fail-on "${text}": only reclassified takes a percentage`, { retryable: false });
    out.push({ metric, threshold: m[2] === undefined ? 0 : Number(m[2]), percent, text });
  }
  return out;
}

export function checkGate(conditions: readonly TGateCondition[], counts: TShadowCounts): TGateResult[] {
  return conditions.map((c) => {
    if (c.percent) {
      const pct = counts.reclassifiedRatio * 100;
      return { condition: c.text, value: `${pct.toFixed(1)}% (${counts.reclassified} of ${counts.messages - counts.failed})`, failed: pct > c.threshold };
    }
    const v = METRICS[c.metric](counts);
    return { condition: c.text, value: String(v), failed: v > c.threshold };
  });
}
