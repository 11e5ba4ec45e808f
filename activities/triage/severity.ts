// Severity of one message or fragment: low | medium | high | critical with a 0..1 score and the
// machine-readable reasons that produced it. Combines the category's criticality, the taxonomy's
// severityHints, escalation cues in the (masked) text, negative sentiment and the customer's tier
// and value. Cues put floors under the level: a legal threat is never "low", however polite.
// Must not: read unmasked text, do I/O, or decide actions; policies act on the level.
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TCustomer } from '../../workflows/domain/feedback.js';
import type { TTaxonomy } from '../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, SEVERITY_ORDER, type TSentiment, type TSeverity, type TSeverityLevel } from '../../workflows/domain/triage.js';

/**
 * The ONE mapping from the xci complaint-severity scale (Singh et al. 2023; 0 no complaint,
 * 1 complaint without explicit reproach, 2 disapproval, 3 accusation, 4 blame) to our levels.
 * 0 and 1 are "low": nothing in them asks anyone to act faster. Disapproval is a real, unhappy
 * complaint (medium); accusation names a culprit (high); blame, the strongest reproach, is the
 * one that escalates publicly (critical). Used by the benchmark and tests; never at runtime.
 */
export const XCI_SEVERITY_TO_LEVEL: Readonly<Record<0 | 1 | 2 | 3 | 4, TSeverityLevel>> = {
  0: 'low',
  1: 'low',
  2: 'medium',
  3: 'high',
  4: 'critical',
};

interface Cue {
  id: string;
  re: RegExp;
  weight: number;
  floor?: TSeverityLevel;
}

/** Escalation cues built into every taxonomy; taxonomy severityHints add domain-specific ones. */
const CUES: Cue[] = [
  {
    id: 'legal_threat',
    re: /\b(?:lawyers?|attorneys?|solicitors?|lawsuits?|sue|suing|legal action|take (?:you|this) to court|small claims|class action|ombudsman|cfpb|consumer protection|better business bureau|bbb|trading standards|regulators?|report(?:ing)? you to)\b/i,
    weight: 0.3,
    floor: 'high',
  },
  { id: 'chargeback', re: /\b(?:charge ?backs?|dispute (?:the|this) (?:charge|payment|transaction)|reverse the (?:charge|payment))\b/i, weight: 0.25, floor: 'high' },
  {
    id: 'fraud',
    re: /\b(?:fraud(?:ulent)?|scam(?:med|mers?)?|unauthori[sz]ed (?:charges?|transactions?|payments?|access|withdrawals?)|identity theft|stolen (?:card|identity|money|account)|hacked|phishing|someone (?:else )?(?:used|accessed) my)\b/i,
    weight: 0.3,
    floor: 'high',
  },
  {
    id: 'safety',
    re: /\b(?:fire|caught fire|smoke|smoking|burn(?:ed|t|s|ing)?|explod(?:ed|es|ing)|shock(?:ed)? me|electrocut\w*|injur(?:y|ed|ies)|hospital|choking|carbon monoxide|gas leak|unsafe|dangerous|hazard(?:ous)?|poison(?:ed|ing)?|allergic reaction|food poisoning|(?:almost|nearly|could have) (?:die|died|killed|crashed)|glass in|sliced|bleeding|(?:car|engine|brakes?) (?:failed|died|seized|shut off|turns? off))\b/i,
    weight: 0.4,
    floor: 'critical',
  },
  {
    id: 'cancellation',
    re: /\b(?:cancel(?:l?ing|l?ed)? (?:my|the|our) (?:account|subscription|membership|plan|contract|service)|close my account|switch(?:ing)? to (?:a )?(?:another|different|competitor|\w+ instead)|never (?:using|use|buy(?:ing)?|shop(?:ping)?|fly(?:ing)?|order(?:ing)?) (?:from |with )?(?:you|again)|(?:lost|losing) (?:a|me as a) customer|taking my business elsewhere|done with you)\b/i,
    weight: 0.2,
    floor: 'medium',
  },
  {
    id: 'repeated_contact',
    re: /\b(?:(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) time|(?:called|emailed|contacted|messaged|asked|tried) (?:you |them |support )?(?:\d+|two|three|four|five|six|several|many|multiple|numerous) times|still (?:not|no|haven'?t|hasn'?t|waiting|broken|nothing)|again and again|for (?:days|weeks|months)|(?:weeks|months) (?:now|later|ago)|no (?:one|body) (?:has )?(?:answered|responded|replied|got back|called back)|never (?:heard back|got a (?:reply|response)|responded|answered)|keep (?:getting|having|telling)|yet again|no (?:one|body) (?:has )?dealt with|(?:haven'?t|have not|never) (?:received|had|got(?:ten)?) (?:any|an) (?:answer|reply|response))\b/i,
    weight: 0.15,
    floor: 'medium',
  },
  {
    id: 'money_loss',
    re: /\b(?:charged (?:twice|double|me twice|two times)|double charged|overcharged|money (?:is )?(?:gone|missing|taken)|lost (?:my )?money|never (?:received|got) (?:my )?(?:refund|money)|took my money|owe me|refund (?:still )?(?:not|never))\b/i,
    weight: 0.15,
    floor: 'medium',
  },
  {
    id: 'outage',
    re: /\b(?:(?:is|are|been|went|site|app|service|system|website|server)s? (?:is |are )?(?:completely )?down|outage|can(?:no|')?t (?:log ?in|sign in|access|pay|check ?out|use (?:the|my|your))|not (?:loading|working) at all|(?:everyone|all (?:users|customers)|nobody can)|data (?:loss|lost|breach|leak))\b/i,
    weight: 0.15,
    floor: 'medium',
  },
  {
    // A concrete malfunction: raises the score without a floor, so "doesn't work :)" can stay low.
    id: 'malfunction',
    re: /\b(?:(?:not|n'?t|stopped|stop) (?:work(?:ing|s)?|load(?:ing)?|open(?:ing)?|respond(?:ing)?)|no (?:longer|more) works?|(?:server |gateway |connection )?errors?|crash(?:es|ed|ing)?|broken|broke|freez(?:es|ing)|expired|defective|faulty|damaged|impossible to|keeps? (?:crashing|failing|logging me out))\b/i,
    weight: 0.08,
  },
  {
    id: 'blame',
    re: /\b(?:your fault|you (?:people|idiots|clowns)|shame on you|(?:are|is) (?:a )?(?:joke|disgrace|scam|criminal|thieves|liars)|incompetent|disgusting|pathetic|ripped (?:me )?off|rip-?off|stole|robbed|worst (?:\w+ )?(?:ever|company|service|experience)|how dare|absolutely ridiculous|unacceptable|fed up|sick (?:and tired )?of)\b/i,
    weight: 0.2,
  },
];

const ADDRESSED_REPROACH =
  /\b(?:you|your|you're|youre|u|ur)\b[^.!?]{0,40}\b(?:never|not|no|don'?t|didn'?t|can'?t|won'?t|haven'?t|still|again|broke|ruin\w*|lost|charged|cancel\w*|fail\w*|wrong|refus\w*|ignor\w*|lie\w*|screw\w*)\b|\bthanks? (?:for nothing|a lot)\b|\bwhy (?:do|does|did|is|are|would|can'?t|won'?t)\b|\bwhat (?:the hell|a joke)\b|#(?:fail|epicfail|badservice|worst\w*|never\w*|boycott\w*)/i;

/** Names of the entries of `severityCueVector`, in order (feature names of the learned heads). */
export const SEVERITY_CUE_FEATURES: readonly string[] = [...CUES.map((c) => `cue:${c.id}`), 'cue:addressed_reproach', 'cue:shouting'];

/**
 * The rule cues as numbers, for the learned severity and sentiment heads (learned-heads.ts):
 * 1 per escalation cue that fires, addressed reproach and shouting. Pure and cheap.
 */
export function severityCueVector(text: string): Float32Array {
  const out = new Float32Array(SEVERITY_CUE_FEATURES.length);
  CUES.forEach((cue, i) => {
    if (cue.re.test(text)) out[i] = 1;
  });
  if (ADDRESSED_REPROACH.test(text)) out[CUES.length] = 1;
  if (isShouting(text)) out[CUES.length + 1] = 1;
  return out;
}

function isShouting(text: string): boolean {
  const bangs = (text.match(/!/g) ?? []).length;
  const shouted = (text.match(/\b[A-Z]{4,}\b/g) ?? []).filter((w) => !/^(?:HTTP|HTTPS|ERR|NULL|UTC|JSON|HTML|EMAIL|PHONE|CARD|IBAN|SECRET|ADDRESS|NATIONAL|ASAP)$/.test(w));
  return bangs >= 3 || shouted.length >= 2;
}

/** Score every message starts from; the signals below add to it. */
const BASE_SCORE = 0.1;
const TIER_WEIGHT: Record<TCustomer['tier'], number> = { free: 0, unknown: 0, standard: 0, premium: 0.03, enterprise: 0.06 };
/** Customers worth this much (in the tenant's currency) get a small lift and a medium floor. */
const HIGH_VALUE_LTV = 10_000;
/**
 * Cut-offs of the message-signal score between levels: [medium, high, critical]. Tuned by grid
 * search for macro-F1 on the odd rows of xci_dev and checked on the even rows (bench/triage.ts).
 */
export const SEVERITY_THRESHOLDS: readonly [number, number, number] = [0.18, 0.26, 0.32];

/** Probability of `critical` the learned head needs before its `critical` stands at runtime. */
export const LEARNED_CRITICAL_MIN_PROBABILITY = 0.6;
/** Longest text (characters) the learned head may call critical: X-CI tweets are at most ~300. */
export const LEARNED_MAX_CHARS = 400;

export interface SeverityInput {
  /** Masked text of the message or fragment. */
  text: string;
  sentiment: TSentiment;
  /** Classified category; its criticality comes from the scorer's taxonomy. */
  category?: string;
  customer?: TCustomer;
  /**
   * The learned head's reading of the text (learned-heads.ts). When given it replaces the
   * score-threshold level of the message signals, may reach `critical` on its own (X-CI's
   * "blame"), and its version is recorded in the reasons; cues, hints, tier and category still
   * put floors under it.
   */
  learned?: { level: TSeverityLevel; probabilities: readonly number[]; version: string };
}

export interface SeverityScorer {
  score(input: SeverityInput): TSeverity;
}

function levelOf(score: number): TSeverityLevel {
  const [m, h, c] = SEVERITY_THRESHOLDS;
  if (score >= c) return 'critical';
  if (score >= h) return 'high';
  if (score >= m) return 'medium';
  return 'low';
}

const rank = (l: TSeverityLevel) => SEVERITY_ORDER.indexOf(l);
export const maxLevel = (a: TSeverityLevel, b: TSeverityLevel): TSeverityLevel => (rank(a) >= rank(b) ? a : b);

export interface SeverityScorerOptions {
  /**
   * Highest level message signals alone (negativity, reproach, tier) can reach. Default `high`:
   * `critical` then needs a critical-grade cause (a safety cue, a severityHint at critical, or a
   * critical category in a non-calm message), because an angry tweet is not an incident. The
   * benchmark sets `critical` to measure the raw signal against xci's 0–4 labels.
   */
  maxSignalLevel?: TSeverityLevel;
}

/**
 * Compiles the taxonomy's severityHints once (they are operator-written regexes; a bad one fails
 * here with its index, not on the first message that reaches it).
 */
export function createSeverityScorer(taxonomy?: TTaxonomy, opts: SeverityScorerOptions = {}): SeverityScorer {
  const maxSignal = opts.maxSignalLevel ?? 'high';
  const hints = (taxonomy?.severityHints ?? []).map((h, i) => {
    try {
      return { ...h, re: new RegExp(h.pattern, 'i') };
    } catch (e) {
      throw new LoopwrightError('invalid_config', `taxonomy severityHints.${i}.pattern is not a valid regular expression: ${(e as Error).message}`, {
        details: { field: `severityHints.${i}.pattern` },
      });
    }
  });
  const criticality = new Map((taxonomy?.categories ?? []).map((c) => [c.id, c.criticality]));

  return {
    score(input: SeverityInput): TSeverity {
      const reasons: string[] = [];
      let floor: TSeverityLevel = 'low';
      const crit = input.category && input.category !== NEEDS_REVIEW ? criticality.get(input.category) : undefined;
      let score = BASE_SCORE;

      // Negativity is the main signal on its own; it never lowers a level below its floor.
      const neg = Math.max(0, -input.sentiment.score);
      if (neg > 0) {
        score += neg * 0.35;
        if (input.sentiment.label === 'negative') reasons.push('sentiment:negative');
      }

      for (const cue of CUES) {
        if (!cue.re.test(input.text)) continue;
        score += cue.weight;
        reasons.push(`cue:${cue.id}`);
        if (cue.floor) floor = maxLevel(floor, cue.floor);
      }
      for (const h of hints) {
        if (!h.re.test(input.text)) continue;
        score += 0.1;
        reasons.push(`hint:${h.cue}`);
        floor = maxLevel(floor, h.atLeast);
      }

      // Reproach aimed at the company ("you/your ... broken") is what separates an accusation from
      // a neutral problem report; only counted when the message is negative overall.
      if (neg > 0 && ADDRESSED_REPROACH.test(input.text)) {
        score += 0.08 + neg * 0.1;
        reasons.push('cue:addressed_reproach');
      }

      if (isShouting(input.text)) {
        score += 0.05;
        reasons.push('cue:shouting');
      }

      // Tier and value lift complaints, not praise: an enterprise "thanks!" stays low.
      const complaint = input.sentiment.label === 'negative' || reasons.some((r) => r.startsWith('cue:') || r.startsWith('hint:'));
      const tier = input.customer?.tier ?? 'unknown';
      if (TIER_WEIGHT[tier] > 0 && complaint) {
        score += TIER_WEIGHT[tier];
        reasons.push(`tier:${tier}`);
        if (tier === 'enterprise') floor = maxLevel(floor, 'medium');
      }
      if ((input.customer?.lifetimeValue ?? 0) >= HIGH_VALUE_LTV && complaint) {
        score += 0.03;
        reasons.push('value:high');
        floor = maxLevel(floor, 'medium');
      }

      // The category's criticality is where the level starts; a calm message (no cue, not
      // negative) in a critical category sits one step lower, so "how do I turn on 2FA?" in
      // `security` is high, not critical.
      if (crit) {
        const calm = input.sentiment.label !== 'negative' && !reasons.some((r) => r.startsWith('cue:') || r.startsWith('hint:'));
        const start = calm ? (SEVERITY_ORDER[Math.max(0, rank(crit) - 1)] ?? 'low') : crit;
        if (rank(start) > rank(floor)) {
          floor = start;
          reasons.push(`category:${crit}`);
        }
      }

      score = Math.max(0, Math.min(1, score));
      let signal = levelOf(score);
      let cap = maxSignal;
      if (input.learned) {
        signal = input.learned.level;
        // The head's decision offsets favour rare classes (tuned for macro-F1); at runtime a
        // learned `critical` also needs a confident head on a text of the length it was trained on
        // (tweets), else message signals stop at `maxSignalLevel` as the rules' do.
        const pCritical = input.learned.probabilities[SEVERITY_ORDER.indexOf('critical')] ?? 0;
        if (pCritical >= LEARNED_CRITICAL_MIN_PROBABILITY && input.text.length <= LEARNED_MAX_CHARS) cap = 'critical';
        else if (signal === 'critical') reasons.push('learned:critical_capped');
        // Expected level on the 0..1 scale, so the score orders messages the way the model does.
        score = input.learned.probabilities.reduce((s, p, i) => s + (p * i) / 3, 0);
        reasons.push(`learned:${signal}`, `model:${input.learned.version}`);
      }
      const level = maxLevel(rank(signal) > rank(cap) ? cap : signal, floor);
      // The score stays consistent with the level: a floor lifts it to the level's lower bound.
      const lower = rank(level) === 0 ? 0 : SEVERITY_THRESHOLDS[rank(level) - 1]!;
      return { level, score: Math.round(Math.max(score, lower) * 1000) / 1000, reasons };
    },
  };
}
