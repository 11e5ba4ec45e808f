// Emerging themes as people read them: a name of at most five words from each theme's distinctive
// terms, by class-based TF-IDF as BERTopic does (all of a theme's texts are one document; a term's
// weight is its frequency in the theme times log(1 + A / its frequency over all themes), A the
// average number of words per theme), and counts over time with the issues' own spike detection
// (workflows/domain/issue-stats.ts detectAll over the members' event times).
// Hand-written: c-TF-IDF is a dozen lines over a tokeniser; no maintained JS library offers it.
// Must not: read anything but masked member texts, or write anything (pure).
import { createIssueStats, addOccurrences, detectAll, type TIssueTriggerInput } from '../../workflows/domain/issue-stats.js';
import { ZSeverityLevel } from '../../workflows/domain/triage.js';
import type { TGroupRow, TMemberRow } from './store.js';

export const MAX_THEME_WORDS = 5;

const STOPWORDS = new Set(
  `a about above after again against all also am an and any are aren't as at be because been before being below between both but by can can't cannot could
did do does doing don't down during each even ever every few for from further get got had has have having he her here hers him his how i i'm i've if in into
is isn't it it's its itself just know like made make many may me more most much must my myself need no nor not now of off on once one only or other our
ours out over own please really same said say says she should since so some still such than that that's the their theirs them then there these they
this those through to too under until up upon us very via was wasn't way we we're were what when where which while who whom why will with within without
would wouldn't yes yet you you're your yours also back going told tell asked another would've could've they're i'd i'll us dont im ive cant wont didnt
thanks thank hi hello dear xxxx xx xxx`.split(/\s+/),
);

/** Lower-case words of 3+ letters, without stopwords, masking placeholders or digits. */
export function tokens(text: string): string[] {
  return (text.toLowerCase().replace(/\[[a-z_]+(?:_\d+)?\]|<[a-z_]+>/g, ' ').match(/[a-z][a-z'-]{2,}/g) ?? [])
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length >= 3 && !STOPWORDS.has(w) && !/^x+$/.test(w));
}

/** Unigrams and adjacent-word bigrams of one text. */
function terms(text: string): string[] {
  const ws = tokens(text);
  const out = [...ws];
  for (let i = 0; i + 1 < ws.length; i++) if (ws[i] !== ws[i + 1]) out.push(`${ws[i]} ${ws[i + 1]}`);
  return out;
}

export interface TThemeName {
  name: string;
  /** The distinctive terms, best first, with their c-TF-IDF weights. */
  terms: Array<{ term: string; weight: number }>;
  size: number;
}

/**
 * Names every theme from its documents against all the others. The name takes the best terms in
 * order until five words, never repeating a word: a term whose words are already in it is skipped
 * (a bigram subsumes its words; a word already in a chosen bigram adds nothing), and a bigram that
 * shares one word with a chosen phrase extends it when they chain, else is skipped.
 */
export function nameThemes(themes: ReadonlyArray<{ id: string; docs: readonly string[] }>): Map<string, TThemeName> {
  const tf = new Map<string, Map<string, number>>();
  const total = new Map<string, number>();
  let words = 0;
  for (const t of themes) {
    const m = new Map<string, number>();
    for (const d of t.docs) {
      for (const term of terms(d)) {
        m.set(term, (m.get(term) ?? 0) + 1);
        total.set(term, (total.get(term) ?? 0) + 1);
        if (!term.includes(' ')) words++;
      }
    }
    tf.set(t.id, m);
  }
  const A = themes.length ? words / themes.length : 0;
  const out = new Map<string, TThemeName>();
  for (const t of themes) {
    const m = tf.get(t.id)!;
    const n = t.docs.length;
    const weighted = [...m]
      // A term one report used repeatedly names that report, not the theme.
      .filter(([term, c]) => n < 3 || c >= 2 || !term.includes(' '))
      .map(([term, c]) => ({ term, weight: c * Math.log(1 + A / (total.get(term) ?? 1)) * (term.includes(' ') ? 1.5 : 1) }))
      .sort((a, b) => b.weight - a.weight || a.term.localeCompare(b.term));
    const chosen: string[] = [];
    const used = new Set<string>();
    const top = weighted[0]?.weight ?? 0;
    for (const { term, weight } of weighted) {
      // Weak terms (shared with other themes) make a name longer, not clearer.
      if (weight < top * 0.4) break;
      const ws = term.split(' ');
      if (ws.every((w) => used.has(w))) continue;
      const length = chosen.join(' ').split(' ').filter(Boolean).length;
      // A bigram that shares a word with a chosen phrase extends it when they meet end to start
      // ("status remaining" + "remaining transactions" = "status remaining transactions");
      // otherwise it would repeat that word in the name, so it is left out.
      const j = ws.length === 2 ? chosen.findIndex((c) => c.includes(' ') && c.split(' ').some((w) => ws.includes(w))) : -1;
      if (j >= 0) {
        const cw = chosen[j]!.split(' ');
        const joined = cw.at(-1) === ws[0] && !cw.includes(ws[1]!) ? [...cw, ws[1]!] : cw[0] === ws[1] && !cw.includes(ws[0]!) ? [ws[0]!, ...cw] : null;
        if (!joined || length + 1 > MAX_THEME_WORDS) continue;
        const added = joined.find((w) => !cw.includes(w))!;
        const single = chosen.indexOf(added); // a chosen unigram the longer phrase now covers
        if (used.has(added) && single < 0) continue; // the word is in another phrase already
        chosen[j] = joined.join(' ');
        if (single >= 0) chosen.splice(single, 1);
        used.add(added);
        if (chosen.join(' ').split(' ').length >= Math.min(MAX_THEME_WORDS, 4)) break;
        continue;
      }
      if (length + ws.length > MAX_THEME_WORDS) continue;
      // Drop unigrams a new bigram covers, then add it.
      for (let i = chosen.length - 1; i >= 0; i--) if (!chosen[i]!.includes(' ') && ws.includes(chosen[i]!)) chosen.splice(i, 1);
      chosen.push(term);
      ws.forEach((w) => used.add(w));
      if (chosen.join(' ').split(' ').length >= Math.min(MAX_THEME_WORDS, 4)) break;
    }
    out.set(t.id, { name: chosen.join(' ') || 'unnamed theme', terms: weighted.slice(0, 10).map((w) => ({ term: w.term, weight: Math.round(w.weight * 100) / 100 })), size: n });
  }
  return out;
}

/** Spike rule for themes; the defaults mirror the app-crash playbook's spike (an hour against a day). */
export const DEFAULT_THEME_SPIKE: TIssueTriggerInput = { kind: 'spike', windowMinutes: 60, baselineMinutes: 24 * 60, factor: 3, minCount: 3 };

export interface TThemeView {
  id: string;
  name: string;
  terms: string[];
  size: number;
  open: boolean;
  /** The category a promotion made of it. */
  promotedTo: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Reports per UTC day over the last `days` days, oldest first. */
  daily: Array<{ day: string; count: number }>;
  /** Spikes found by the issues' spike detection over the members' event times. */
  spikes: Array<{ at: string; reason: string }>;
  /** Up to three masked example texts (newest first). */
  examples: string[];
}

export function describeThemes(
  groups: readonly TGroupRow[],
  members: readonly TMemberRow[],
  opts: { now: number; days?: number; spike?: TIssueTriggerInput; examples?: number; exampleChars?: number } = { now: Date.now() },
): TThemeView[] {
  const days = opts.days ?? 7;
  const byTheme = new Map<string, TMemberRow[]>();
  for (const m of members) byTheme.set(m.groupKey, [...(byTheme.get(m.groupKey) ?? []), m]);
  const names = nameThemes(groups.map((g) => ({ id: g.key, docs: (byTheme.get(g.key) ?? []).map((m) => m.text) })));
  const today = Math.floor(opts.now / 86_400_000);
  return groups
    .map((g) => {
      const ms = (byTheme.get(g.key) ?? []).slice().sort((a, b) => a.at.localeCompare(b.at));
      const stats = addOccurrences(
        createIssueStats(),
        ms.map((m) => ({ ticketId: m.memberKey, severity: ZSeverityLevel.catch('low').parse(m.severity), at: Date.parse(m.at) })),
      );
      const { firings } = detectAll(stats, opts.spike ?? DEFAULT_THEME_SPIKE);
      const daily = Array.from({ length: days }, (_, i) => {
        const d = today - (days - 1) + i;
        return { day: new Date(d * 86_400_000).toISOString().slice(0, 10), count: ms.filter((m) => Math.floor(Date.parse(m.at) / 86_400_000) === d).length };
      });
      const n = names.get(g.key);
      return {
        id: g.key,
        name: n?.name ?? 'unnamed theme',
        terms: (n?.terms ?? []).map((t) => t.term),
        size: ms.length,
        open: g.open,
        promotedTo: g.label,
        firstSeen: ms[0]?.at ?? null,
        lastSeen: ms[ms.length - 1]?.at ?? null,
        daily,
        spikes: firings.filter((f) => f.at !== null).map((f) => ({ at: new Date(f.at!).toISOString(), reason: f.reason })),
        examples: ms
          .slice(-(opts.examples ?? 3))
          .reverse()
          .map((m) => m.text.slice(0, opts.exampleChars ?? 200)),
      };
    })
    .sort((a, b) => b.size - a.size || a.id.localeCompare(b.id));
}
