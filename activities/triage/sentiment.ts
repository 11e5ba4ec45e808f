// Sentiment of a (masked) customer message: a small lexicon scored VADER-style, with negation,
// intensifiers, "but" contrast, exclamation marks, ALL-CAPS shouting and emoji. The lexicon is our
// own (written for support traffic: "refund", "broken", "still waiting" matter more here than in
// movie reviews), so there is no licence to carry.
// Must not: do I/O or depend on the classifier; it is one input to severity, not a decision.
import type { TSentiment } from '../../workflows/domain/triage.js';

/** Word valences on a -3..3 scale. Stems end in `*` and match any suffix. */
const LEXICON_SOURCE: Record<string, number> = {
  // strongly negative
  'worst': -3, 'horrible': -3, 'terrible': -3, 'awful': -3, 'disgusting': -3, 'disgraceful': -3, 'pathetic': -3,
  'useless': -2.5, 'scam*': -3, 'fraud*': -2.5, 'stole': -3, 'stolen': -2.5, 'steal*': -2.5, 'liar*': -3, 'lied': -3, 'lying': -2.5,
  'hate*': -3, 'furious': -3, 'outrage*': -3, 'appalling': -3, 'atrocious': -3, 'incompetent': -3, 'joke': -1.5,
  'nightmare': -3, 'shame*': -2, 'ridiculous': -2.5, 'unacceptable': -3, 'rubbish': -2.5, 'crap': -2.5, 'shit*': -2.5,
  'sucks': -2.5, 'suck': -2, 'hell': -2, 'ripped': -2.5, 'rip-off': -3, 'ripoff': -3, 'robbed': -3, 'cheat*': -3,
  'angry': -2.5, 'livid': -3, 'disappoint*': -2, 'frustrat*': -2, 'annoy*': -2, 'upset': -2, 'fed': -1, 'sick': -1.5,
  'rude': -2.5, 'unhelpful': -2, 'ignored': -2, 'ignoring': -2, 'ignore': -1.5, 'never': -0.5,
  // problems
  'broken': -2, 'broke': -1.5, 'fail*': -2, 'error*': -1.5, 'crash*': -2, 'bug*': -1.5, 'glitch*': -1.5, 'freez*': -1.5,
  'stuck': -1.5, 'slow': -1.5, 'problem*': -1.5, 'issue*': -1, 'wrong': -1.5, 'missing': -1.5, 'lost': -1.5, 'late': -1.5,
  'delay*': -1.5, 'damaged': -2, 'defective': -2, 'faulty': -2, 'cancelled': -1, 'canceled': -1, 'overcharg*': -2.5,
  'charged': -0.5, 'refund': -0.5, 'complain*': -1.5, 'poor': -2, 'bad': -2, 'worse': -2.5, 'mess': -2, 'messed': -2,
  'waste*': -2, 'wasting': -2, 'waiting': -1, 'unable': -1.5, 'cannot': -0.5, "can't": -0.5, 'denied': -1.5, 'declined': -1.5,
  'hack*': -2, 'unauthori*': -2, 'dispute*': -1.5, 'harass*': -2.5, 'threat*': -2, 'lawsuit': -2, 'sue': -2, 'negligen*': -2.5,
  'down': -0.5, 'outage': -2, 'unusable': -2.5, 'nonexistent': -2, 'misleading': -2.5, 'incorrect': -1.5, 'inaccurate': -1.5,
  'confus*': -1, 'difficult': -1, 'hard': -0.5, 'sad': -2, 'unhappy': -2, 'worried': -1.5, 'concern*': -1, 'scared': -2,
  'stress*': -2, 'dumb': -2, 'stupid': -2.5, 'idiot*': -3, 'fix': -0.5, 'expensive': -1, 'overpriced': -2,
  'horrif*': -3, 'recall*': -1.5, 'dirty': -2, 'filthy': -2.5, 'excuse*': -1, 'overdrawn': -2, 'nerves': -1.5, 'mistreat*': -2.5,
  'forever': -0.5, 'badservice': -2.5, 'fail': -2, 'fails': -2, 'refused': -2, 'refuse*': -1.5, 'unfair': -2, 'shocking': -2.5,
  'expired': -1.5, 'duped': -2.5, 'extortion': -3, 'misery': -2.5, 'impossible': -1.5, 'desperate': -1.5, 'sucks*': -2.5,
  'unreliable': -2, 'dead': -1.5, 'dies': -1.5, 'died': -1.5, 'fuck*': -3, 'wtf': -2.5, 'smh': -1.5, 'ugh': -2, 'meh': -1,
  // positive
  'love*': 3, 'amazing': 3, 'awesome': 3, 'excellent': 3, 'fantastic': 3, 'brilliant': 3, 'perfect*': 3, 'wonderful': 3,
  'great': 2.5, 'best': 2.5, 'superb': 3, 'outstanding': 3, 'delight*': 3, 'impressed': 2.5, 'impressive': 2.5,
  'good': 2, 'nice': 2, 'happy': 2.5, 'glad': 2, 'pleased': 2, 'enjoy*': 2, 'cool': 1.5, 'fine': 0.5, 'ok': 0.5, 'okay': 0.5,
  'thank*': 2, 'thx': 1.5, 'ty': 1, 'appreciat*': 2, 'helpful': 2, 'friendly': 2, 'quick*': 1, 'fast': 1, 'easy': 1.5,
  'smooth*': 1.5, 'recommend*': 2, 'resolved': 1.5, 'solved': 1.5, 'fixed': 1, 'works': 1, 'working': 0.5, 'win': 2,
  'congrat*': 2.5, 'excited': 2.5, 'exciting': 2.5, 'beautiful': 2.5, 'lovely': 2.5, 'kind': 1.5, 'favorite': 2.5, 'favourite': 2.5,
  'yay': 2.5, 'wow': 1.5, 'lol': 1, 'haha*': 1.5, 'cheers': 1.5, 'welcome': 1.5, 'please': 0.3, 'hope*': 1, 'fun': 2,
  'reliable': 2, 'satisf*': 2, 'success*': 2, 'stoked': 2.5, 'brill': 2.5, 'legend': 2.5, 'hero': 2.5, 'proud': 2,
};

const EMOJI: Array<[RegExp, number]> = [
  [/[😀😃😄😁😆😊🙂😍🥰😘😎🤩🥳👍👏🙌💯🎉❤💕💖✨🙏☺]/gu, 2],
  [/[😂🤣😉😜]/gu, 1],
  [/[😡😠🤬👎😤💩🖕]/gu, -3],
  [/[😞😢😭😩😫😒🙄😔😕☹🙁😣😖😬🤦]/gu, -2],
  [/(?:^|\s)[:;]-?[)D](?=\s|$)/g, 2],
  [/(?:^|\s):-?\((?=\s|$)/g, -2],
];

const NEGATORS = new Set([
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'without', 'cannot', 'hardly', 'barely',
  "isn't", "wasn't", "aren't", "weren't", "don't", "doesn't", "didn't", "won't", "wouldn't", "can't", "couldn't",
  "shouldn't", "haven't", "hasn't", "hadn't", 'isnt', 'wasnt', 'dont', 'doesnt', 'didnt', 'wont', 'cant', 'couldnt',
]);
const BOOSTERS: Record<string, number> = {
  very: 0.3, really: 0.3, so: 0.25, extremely: 0.4, totally: 0.3, absolutely: 0.4, completely: 0.3, utterly: 0.4,
  incredibly: 0.4, super: 0.3, too: 0.2, most: 0.3, such: 0.2, beyond: 0.3, highly: 0.3, seriously: 0.3,
  slightly: -0.3, somewhat: -0.3, bit: -0.3, little: -0.2, kinda: -0.3, fairly: -0.2, barely: -0.3,
};

const exact = new Map<string, number>();
const stems: Array<[string, number]> = [];
for (const [k, v] of Object.entries(LEXICON_SOURCE)) {
  if (k.endsWith('*')) stems.push([k.slice(0, -1), v]);
  else exact.set(k, v);
}

function valence(word: string): number {
  const e = exact.get(word);
  if (e !== undefined) return e;
  for (const [stem, v] of stems) if (word.startsWith(stem)) return v;
  return 0;
}

/** Sum of valences at which the normalized score reaches ±0.5; VADER uses 15 on a ±4 lexicon. */
const NORMALIZATION_ALPHA = 10;
/** |score| below this is neutral; tuned on the xci sentiment column (see bench/triage.ts). */
export const SENTIMENT_NEUTRAL_BAND = 0.05;

export function scoreSentiment(text: string): TSentiment {
  const tokens = text.match(/[A-Za-z][A-Za-z'’-]*|!+|\?+/g) ?? [];
  let sum = 0;
  let butIndex = -1;
  const contributions: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const raw = tokens[i]!;
    const word = raw.toLowerCase().replace(/’/g, "'");
    if (word === 'but' || word === 'however' || word === 'although' || word === 'though') butIndex = contributions.length;
    let v = valence(word);
    if (v === 0) continue;
    // Shouting amplifies: "BROKEN" is worse than "broken" (but "OK" and "I" are not shouting).
    if (raw.length >= 3 && raw === raw.toUpperCase() && /[A-Z]/.test(raw)) v *= 1.3;
    for (let back = 1; back <= 3 && i - back >= 0; back++) {
      const prev = tokens[i - back]!.toLowerCase().replace(/’/g, "'");
      const boost = BOOSTERS[prev];
      if (boost !== undefined && back <= 2) v *= 1 + boost;
      if (NEGATORS.has(prev)) {
        // "not good" is mildly negative, "not bad" mildly positive: flip and damp, as VADER does.
        v *= -0.6;
        break;
      }
    }
    contributions.push(v);
  }
  // What follows "but" carries the message: "love the app, but checkout fails" is a complaint.
  contributions.forEach((v, idx) => {
    if (butIndex < 0) sum += v;
    else sum += idx < butIndex ? v * 0.5 : v * 1.5;
  });
  for (const [re, v] of EMOJI) sum += (text.match(re) ?? []).length * v;
  const bangs = Math.min((text.match(/!/g) ?? []).length, 4);
  if (sum !== 0) sum += Math.sign(sum) * bangs * 0.3;

  const score = sum / Math.sqrt(sum * sum + NORMALIZATION_ALPHA);
  const clamped = Math.max(-1, Math.min(1, score));
  const rounded = Math.round(clamped * 1000) / 1000;
  const label = rounded >= SENTIMENT_NEUTRAL_BAND ? 'positive' : rounded <= -SENTIMENT_NEUTRAL_BAND ? 'negative' : 'neutral';
  return { label, score: rounded === 0 ? 0 : rounded };
}
