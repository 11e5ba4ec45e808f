// Detection and root-cause benchmark (issue 17): a seeded two-week stream of real support texts
// (samples/detection/texts.jsonl, sources and licences in its SOURCE.md) with injected incidents,
// driven in-process through the real triage pipeline (offline classifier, general taxonomy),
// fingerprint grouping, event-time triggers (workflows/domain/issue-stats.ts), re-page suppression
// (workflows/domain/paging.ts) and root-cause ranking (activities/context/rank.ts). Deterministic:
// one seed, no clock, no network, no Temporal. Measures only; nothing here is tuned per run.
//
// The stream: 14 days of background (~160 reports a day, diurnal, texts from the background pool
// with random segments) plus 13 incidents: releases, flag changes and regional incidents, each
// among decoy changes in other segments, and incidents with no cause at all. An incident's
// reports come from its text pool and its segment (95%); where the incident has an error code,
// 55% of its reports get a short sentence quoting it in one of three spellings ("error 4339",
// "E4339", "err-4339"), and 30% a detail sentence naming the platform ("Android 13 here.").
// Context: the causes, decoys placed near each incident in other segments, and daily churn
// (deploys, flag changes, incidents) across all segments.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../activities/triage/classifier-linear.js';
import { brainDeps, buildTriageBrain } from '../activities/triage/brain.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { createGrouper, DEFAULT_BURST, DEFAULT_RELEASE_FOLD, DEFAULT_SURGE, SURGE_DEFERRED, type TBurstRule, type TAdoptRule, type TFoldRule, type TLinkage, type TSurgeRule } from '../activities/grouping/assign.js';
import { createEvidenceJoiner, DEFAULT_COHORT_SPIKE } from '../activities/grouping/evidence-join.js';
import { isRoutable } from '../activities/routing.js';
import { applyGrouping } from '../activities/grouping/route.js';
import { createSqliteGroupingStore } from '../activities/grouping/sqlite.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { contextSearchRange, rankHypotheses } from '../activities/context/rank.js';
import { eventsInRange, type TContextEventInput, ZContextEvent } from '../activities/context/events.js';
import { addOccurrences, createIssueStats, createTriggerCursor, detectAll, type TIssueStatsState, type TIssueTrigger, type TTriggerCursor } from '../workflows/domain/issue-stats.js';
import { createPageMemory, decideRepage, type TPageMemory } from '../workflows/domain/paging.js';
import { addToSegmentProfile, createSegmentProfile, type TSegmentProfile } from '../workflows/domain/segments.js';
import { mergeSegmentProfiles, mergeStats } from '../workflows/issue/merge-split.js';
import { DEFAULT_RERANK, rerankCursor, rerankDue, ZRerankRule, type TRerankCursor, type TRerankRule } from '../workflows/domain/rerank.js';
import { NEEDS_REVIEW, type TTriageResult } from '../workflows/domain/triage.js';
import type { SentenceEncoder } from '../activities/triage/ports.js';
import { cacheDir, embedAll } from './embedding-cache.js';
import type { BenchRow, BenchSuite } from './table.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const T0 = Date.UTC(2026, 9, 5, 0, 0, 0);
/** The published seed; thresholds of the grouping's burst rule were chosen on DETECTION_SEED=20261006. */
const SEED = Number(process.env.DETECTION_SEED ?? 20_261_005);

export type Pool = 'app' | 'login' | 'payment' | 'delivery' | 'card' | 'background';
export type Platform = 'android' | 'ios' | 'web';
type Region = 'eu-west' | 'us-east' | 'ap-south';

export interface Incident {
  id: string;
  pool: Pool;
  startH: number;
  reports: number;
  durationH: number;
  platform?: Platform;
  region?: Region;
  version?: string;
  code?: string;
  /** The id of the context event that caused it; absent for incidents with no cause. */
  cause?: string;
  events: Array<Omit<TContextEventInput, 'at'> & { atMin: number }>;
}

const deploy = (id: string, atMin: number, platforms: string[], versions: string[], extra: Partial<TContextEventInput> = {}) => ({ id, kind: 'deploy' as const, title: id, atMin, segments: { platforms, versions, regions: [], tiers: [] }, ...extra });
const flag = (id: string, atMin: number, segments: Partial<Record<'platforms' | 'regions' | 'versions', string[]>>, extra: Partial<TContextEventInput> = {}) => ({ id, kind: 'feature_flag' as const, title: id, atMin, segments: { versions: [], platforms: [], regions: [], tiers: [], ...segments }, ...extra });
const incident = (id: string, atMin: number, regions: string[], categories: string[], extra: Partial<TContextEventInput> = {}) => ({ id, kind: 'incident' as const, title: id, atMin, segments: { regions, versions: [], platforms: [], tiers: [] }, categories, ...extra });

/** Minutes are relative to the incident start; decoys sit in other segments, near in time. */
export const INCIDENTS: Incident[] = [
  { id: 'i01-android-release', pool: 'app', startH: 30, reports: 60, durationH: 3, platform: 'android', version: '6.1.0', code: '4339', cause: 'deploy-android-6.1.0',
    events: [deploy('deploy-android-6.1.0', -50, ['android'], ['6.1.0'], { evidence: ['E4339'] }), deploy('deploy-ios-6.1.0', -20, ['ios'], ['6.1.0']), flag('flag-web-dark-mode', -15, { platforms: ['web'] })] },
  { id: 'i02-ios-release', pool: 'app', startH: 58, reports: 50, durationH: 3, platform: 'ios', version: '7.2.0', cause: 'deploy-ios-7.2.0',
    events: [deploy('deploy-ios-7.2.0', -40, ['ios'], ['7.2.0']), deploy('deploy-android-7.2.0', -10, ['android'], ['7.2.0']), deploy('deploy-backend-api', -5, [], [])] },
  { id: 'i03-web-login-flag', pool: 'login', startH: 80, reports: 50, durationH: 2.5, platform: 'web', cause: 'flag-new-auth-flow-web',
    events: [flag('flag-new-auth-flow-web', -25, { platforms: ['web'] }, { categories: ['login_access'] }), flag('flag-new-auth-flow-android', -10, { platforms: ['android'] }, { categories: ['login_access'] }), { id: 'rollout-enterprise-sso', kind: 'deploy', title: 'enterprise SSO rollout', atMin: -30, segments: { tiers: ['enterprise'], versions: [], platforms: [], regions: [] } }] },
  { id: 'i04-eu-psp-outage', pool: 'payment', startH: 110, reports: 60, durationH: 3, region: 'eu-west', cause: 'incident-psp-eu-west',
    events: [incident('incident-psp-eu-west', -10, ['eu-west'], ['payment_failure', 'billing']), incident('incident-psp-ap-south', -12, ['ap-south'], ['payment_failure', 'billing'])] },
  { id: 'i05-ap-card-network', pool: 'card', startH: 140, reports: 50, durationH: 3, region: 'ap-south', cause: 'incident-card-network-ap-south',
    events: [incident('incident-card-network-ap-south', -15, ['ap-south'], ['payment_failure', 'product_defect']), incident('incident-card-network-us-east', -30, ['us-east'], ['payment_failure', 'product_defect'])] },
  { id: 'i06-delivery-no-cause', pool: 'delivery', startH: 165, reports: 50, durationH: 3,
    events: [deploy('deploy-web-storefront', -30, [], []), incident('incident-carrier-ap-south', -60, ['ap-south'], ['delivery'])] },
  { id: 'i07-app-no-cause', pool: 'app', startH: 190, reports: 50, durationH: 3,
    events: [deploy('deploy-ios-8.0.0', -45, ['ios'], ['8.0.0']), flag('flag-android-video-v2', -30, { platforms: ['android'], versions: ['6.4'] })] },
  { id: 'i08-us-sso-incident', pool: 'login', startH: 215, reports: 55, durationH: 3, region: 'us-east', cause: 'incident-sso-us-east',
    events: [incident('incident-sso-us-east', -10, ['us-east'], ['login_access', 'account_security']), flag('flag-ios-biometric-login', -20, { platforms: ['ios'] }, { categories: ['login_access'] })] },
  { id: 'i09-ios-3ds-flag', pool: 'payment', startH: 240, reports: 55, durationH: 3, platform: 'ios', code: '5120', cause: 'flag-3ds-v2-ios',
    events: [flag('flag-3ds-v2-ios', -35, { platforms: ['ios'] }, { evidence: ['E5120'] }), flag('flag-3ds-v2-android', -15, { platforms: ['android'] })] },
  { id: 'i10-payment-no-cause', pool: 'payment', startH: 262, reports: 50, durationH: 3,
    events: [{ id: 'rollout-enterprise-billing', kind: 'deploy', title: 'enterprise billing rollout', atMin: -20, segments: { tiers: ['enterprise', 'premium'], versions: [], platforms: [], regions: [] } }, incident('incident-psp-us-east-minor', -40, ['us-east'], ['payment_failure'], { endedAt: undefined })] },
  { id: 'i11-android-release-2', pool: 'app', startH: 285, reports: 55, durationH: 3, platform: 'android', version: '6.3.0', code: '6021', cause: 'deploy-android-6.3.0',
    events: [deploy('deploy-android-6.3.0', -45, ['android'], ['6.3.0'], { evidence: ['E6021'] }), deploy('deploy-web-3.9', -15, ['web'], ['3.9.0'])] },
  { id: 'i12-card-no-cause', pool: 'card', startH: 305, reports: 45, durationH: 3,
    events: [flag('flag-unscoped-limits', -20, {}), deploy('deploy-ios-8.1.0', -35, ['ios'], ['8.1.0'])] },
  { id: 'i13-eu-carrier-outage', pool: 'delivery', startH: 322, reports: 50, durationH: 3, region: 'eu-west', cause: 'incident-carrier-eu-west',
    events: [incident('incident-carrier-eu-west', -20, ['eu-west'], ['delivery']), incident('incident-carrier-us-east', -25, ['us-east'], ['delivery'])] },
];

/** Volume playbooks as an operator writes them: a spike trigger per category. */
const SPIKE = { kind: 'spike', windowMinutes: 60, baselineMinutes: 24 * 60, factor: 3, minCount: 8 } as const satisfies TIssueTrigger;
const WINDOW_MS = 60 * MIN;
/** DETECTION_RERANK=off, or a JSON TRerankRule: a round's insufficient answer asked again (the IssueWorkflow's default as shipped). */
const RERANK: TRerankRule | null = process.env.DETECTION_RERANK === 'off' ? null : process.env.DETECTION_RERANK ? ZRerankRule.parse(JSON.parse(process.env.DETECTION_RERANK)) : DEFAULT_RERANK;

export interface Report {
  id: string;
  at: number;
  text: string;
  incident: string | null;
  metadata: Record<string, string>;
  channel: 'chat' | 'email' | 'review' | 'ticket';
  tier: 'free' | 'standard' | 'premium' | 'enterprise';
}

const PLATFORM_VERSIONS: Record<Platform, string[]> = { android: ['6.0.2', '6.0.4'], ios: ['7.1.1', '7.1.3'], web: ['3.8.0'] };
const OS: Record<Platform, string[]> = { android: ['Android 13', 'Android 14'], ios: ['iOS 17.2', 'iOS 17.4'], web: [] };
const DETAIL: Record<Platform, string[]> = { android: ['Android 13 here.', 'On my Pixel 7.', 'Samsung Galaxy S23, latest app.'], ios: ['iPhone 14 here.', 'On iOS 17.', 'Using my iPad.'], web: ['In Chrome.', 'On the web app.', 'Firefox here.'] };
const SPELLINGS = [(c: string) => `Getting error ${c}.`, (c: string) => `E${c} every time.`, (c: string) => `It says err-${c}.`];

/** The stream of one seed (the published SEED by default); bench/detection-rank.ts builds several. */
export function buildStream(seed: number = SEED): { reports: Report[]; events: TContextEventInput[] } {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const texts = readFileSync(new URL('../samples/detection/texts.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { pool: Pool; text: string });
  const pools = new Map<Pool, string[]>();
  for (const t of texts) pools.set(t.pool, [...(pools.get(t.pool) ?? []), t.text]);
  const segFor = (platform: Platform, region: Region, version?: string): Record<string, string> => {
    const os = OS[platform];
    return {
      platform,
      app_version: version ?? pick(PLATFORM_VERSIONS[platform]),
      ...(os.length > 0 ? { os_version: pick(os) } : {}),
      region,
      plan: pick(['free', 'pro', 'pro', 'business']),
    };
  };
  const randomPlatform = (): Platform => { const x = r(); return x < 0.45 ? 'android' : x < 0.8 ? 'ios' : 'web'; };
  const randomRegion = (): Region => { const x = r(); return x < 0.4 ? 'eu-west' : x < 0.8 ? 'us-east' : 'ap-south'; };
  const reports: Report[] = [];
  let n = 0;
  const base = () => ({ channel: pick(['chat', 'email', 'review', 'ticket'] as const), tier: pick(['free', 'standard', 'standard', 'premium', 'enterprise'] as const) });
  // Background: Poisson arrivals at ~160/day with a diurnal cycle (thinning).
  for (let t = T0; t < T0 + 14 * DAY; ) {
    t += -Math.log(1 - r()) * (DAY / 240);
    const hour = ((t - T0) % DAY) / HOUR;
    if (r() > (1 + Math.sin(((hour - 8) / 24) * 2 * Math.PI)) / 1.5) continue;
    const p = randomPlatform();
    reports.push({ id: `bg-${++n}`, at: Math.floor(t), text: pick(pools.get('background')!), incident: null, metadata: segFor(p, randomRegion()), ...base() });
  }
  // Decoys and causes near each incident, plus daily churn everywhere.
  const events: TContextEventInput[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const inc of INCIDENTS) {
    const start = T0 + inc.startH * HOUR;
    for (const e of inc.events) {
      const { atMin, ...rest } = e;
      events.push({ ...rest, at: iso(start + atMin * MIN), ...(rest.kind === 'incident' ? { endedAt: iso(start + inc.durationH * HOUR + 30 * MIN) } : {}) } as TContextEventInput);
    }
    for (let i = 0; i < inc.reports; i++) {
      const at = start + Math.pow(r(), 1.6) * inc.durationH * HOUR;
      const platform = inc.platform && r() < 0.95 ? inc.platform : randomPlatform();
      const region = inc.region && r() < 0.95 ? inc.region : randomRegion();
      let text = pick(pools.get(inc.pool)!);
      if (inc.code && r() < 0.55) text = `${text.replace(/\s*$/, '')} ${pick(SPELLINGS)(inc.code)}`;
      if (r() < 0.3) text = `${text.replace(/\s*$/, '')} ${pick(DETAIL[platform])}`;
      const version = inc.version && platform === inc.platform ? inc.version : undefined;
      reports.push({ id: `${inc.id}-${i}`, at: Math.floor(at), text, incident: inc.id, metadata: segFor(platform, region, version), ...base() });
    }
  }
  for (let d = 0; d < 14; d++) {
    for (let k = 0; k < 3; k++) {
      const p = randomPlatform();
      const at = T0 + d * DAY + Math.floor(r() * DAY);
      const kind = pick(['deploy', 'deploy', 'feature_flag'] as const);
      events.push({ id: `churn-${kind}-${d}-${k}`, kind, title: `routine ${kind} ${p}`, at: iso(at), segments: { platforms: [p], versions: kind === 'deploy' ? [pick(PLATFORM_VERSIONS[p])] : [], regions: [], tiers: [] } });
    }
    if (d % 3 === 1) {
      const at = T0 + d * DAY + Math.floor(r() * DAY);
      events.push({ id: `churn-incident-${d}`, kind: 'incident', title: 'routine incident', at: iso(at), endedAt: iso(at + 2 * HOUR), segments: { regions: [randomRegion()], versions: [], platforms: [], tiers: [] }, categories: [pick(['performance', 'delivery', 'payment_failure', 'login_access'])] });
    }
  }
  reports.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  for (const e of events) ZContextEvent.parse(e);
  return { reports, events };
}

interface IssueSim {
  stats: TIssueStatsState;
  cursor: TTriggerCursor;
  page: TPageMemory;
  profile: TSegmentProfile;
  /** Report ids with their event time and evidence, for the window the ranking looks at. */
  recent: Array<{ at: number; incident: string | null; evidence: string[] }>;
  /** The last acted round, while its answer is "insufficient evidence" (workflows/domain/rerank.ts). */
  rerank?: { firing: Firing; cursor: TRerankCursor };
}

interface Firing {
  issue: string;
  at: number;
  decidedAt: number;
  incident: string | null;
  acted: boolean;
  ranking?: ReturnType<typeof rankHypotheses>;
  /** The round's rankings again while it verifies, once its reports doubled (the IssueWorkflow's rerankIfDue). */
  reranks: Array<{ at: number; reports: number; ranking: ReturnType<typeof rankHypotheses> }>;
  /** The window's reports by incident (background: null), for DETECTION_DEBUG. */
  window: Array<[string | null, number]>;
  /**
   * The firing's background reports alone pass the trigger (floor, and factor over the expected
   * count): it would have fired with no incident in the window. A firing labelled background
   * (`incident` null: no incident holds half the window) without it fired on an incident's reports
   * in an issue shared with background.
   */
  backgroundAlone: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** A young issue folded into a bursting one (TBurstRule.fold) while routing the report at `index`. */
interface FoldEvent {
  index: number;
  from: string;
  into: string;
}

/** A needs_review report adopted from its theme into a bursting issue (TBurstRule.adopt) while routing the report at `index`. */
interface AdoptEvent {
  index: number;
  into: string;
  reportId: string;
  start: number;
  end: number;
}

/** Where a key's reports end up after the folds so far (a folded issue forwards to its survivor). */
function follow(forward: ReadonlyMap<string, string>, key: string): string {
  let k = key;
  for (let i = 0; i < 50 && forward.has(k); i++) k = forward.get(k)!;
  return k;
}

/**
 * Runs detection over triaged reports delivered in batches of `batch` (1 = live); returns the firings.
 * Folds act as the IssueWorkflow's merge does: after the report that caused one, the survivor absorbs
 * the folded issue's statistics (merge-split.ts mergeStats) and its later reports are forwarded.
 * Adoptions act as routing's delivery of the adopted report does: after the adopting report, the
 * needs_review report joins the issue at its own event time, behind the watermark.
 */
function detect(triaged: ReadonlyArray<{ report: Report; result: TTriageResult }>, events: TContextEventInput[], batch: number, folds: readonly FoldEvent[] = [], adoptions: readonly AdoptEvent[] = []): Firing[] {
  const issues = new Map<string, IssueSim>();
  const forward = new Map<string, string>();
  const foldsAt = new Map<number, FoldEvent[]>();
  for (const f of folds) foldsAt.set(f.index, [...(foldsAt.get(f.index) ?? []), f]);
  const adoptsAt = new Map<number, AdoptEvent[]>();
  for (const a of adoptions) adoptsAt.set(a.index, [...(adoptsAt.get(a.index) ?? []), a]);
  const byId = new Map(triaged.map((t) => [t.report.id, t] as const));
  const firings: Firing[] = [];
  const pending = new Map<string, Array<{ report: Report; evidence: string[]; severity: TTriageResult['severity']['level'] }>>();
  const parsedEvents = events.map((e) => ZContextEvent.parse(e));
  // The ranking as the IssueWorkflow's investigate asks for it, anchored at `at` (event time).
  const rankAt = (sim: IssueSim, key: string, at: number) => {
    const evidence = [...new Set(sim.recent.filter((x) => x.at > at - WINDOW_MS && x.at <= at).flatMap((x) => x.evidence))];
    const range = contextSearchRange({ firstSeen: sim.stats.firstSeen ?? at, spikeAt: at });
    return rankHypotheses({ category: key.split('.')[0]!, firstSeen: new Date(sim.stats.firstSeen ?? at).toISOString(), spikeAt: new Date(at).toISOString(), evidence, profile: sim.profile }, eventsInRange(parsedEvents, range));
  };
  const flush = () => {
    for (const [key, items] of pending) {
      const sim = issues.get(key) ?? { stats: createIssueStats(), cursor: createTriggerCursor(), page: createPageMemory(), profile: createSegmentProfile(), recent: [] };
      issues.set(key, sim);
      sim.stats = addOccurrences(sim.stats, items.map((x) => ({ ticketId: x.report.id, tier: x.report.tier, severity: x.severity, at: x.report.at })));
      for (const x of items) {
        sim.profile = addToSegmentProfile(sim.profile, triageSegments(x.report), x.report.at);
        sim.recent.push({ at: x.report.at, incident: x.report.incident, evidence: x.evidence });
      }
      sim.recent.sort((a, b) => a.at - b.at);
      if (sim.recent.length > 400) sim.recent.splice(0, sim.recent.length - 400);
      // The verifying round's "insufficient evidence" asked again once its reports doubled.
      while (sim.rerank && RERANK !== null) {
        const due = rerankDue(sim.stats, sim.rerank.cursor, RERANK);
        if (due.at === null) break;
        const ranking = rankAt(sim, key, due.at);
        const { firing, cursor } = sim.rerank;
        firing.reranks.push({ at: due.at, reports: due.reports, ranking });
        sim.rerank = ranking.verdict === 'insufficient_evidence' ? { firing, cursor: rerankCursor(sim.stats, cursor.firedAt, due.at, cursor.n + 1) } : undefined;
      }
      const d = detectAll(sim.stats, SPIKE, sim.cursor);
      sim.cursor = d.cursor;
      for (const f of d.firings) {
        // The window end on the bucket grid: the same event time live and as a backfill.
        const firedAt = f.at!;
        const windowReports = sim.recent.filter((x) => x.at > firedAt - WINDOW_MS && x.at <= firedAt);
        const counts = new Map<string | null, number>();
        for (const x of windowReports) counts.set(x.incident, (counts.get(x.incident) ?? 0) + 1);
        const [top, topCount] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [null, 0];
        const incident = top !== null && topCount >= windowReports.length / 2 ? top : null;
        const page = decideRepage(sim.stats, sim.page, { trigger: SPIKE, at: firedAt, severity: 'medium' });
        sim.page = page.memory;
        const background = counts.get(null) ?? 0;
        const expected = typeof f.observed.expected === 'number' ? f.observed.expected : 0;
        const backgroundAlone = background >= SPIKE.minCount && background >= SPIKE.factor * expected;
        const firing: Firing = { issue: key, at: f.at!, decidedAt: f.decidedAt!, incident, acted: page.act, window: [...counts.entries()], backgroundAlone, reranks: [] };
        if (page.act) {
          firing.ranking = rankAt(sim, key, firedAt);
          sim.rerank = firing.ranking.verdict === 'insufficient_evidence' ? { firing, cursor: rerankCursor(sim.stats, firedAt, firedAt, 0) } : undefined;
        }
        firings.push(firing);
      }
    }
    pending.clear();
  };
  let inBatch = 0;
  for (const [index, { report, result }] of triaged.entries()) {
    const seen = new Set<string>();
    for (const f of result.fragments) {
      const key = follow(forward, f.fingerprint.key);
      if (!isRoutable(f) || seen.has(key)) continue;
      seen.add(key);
      const list = pending.get(key) ?? [];
      list.push({ report, evidence: f.evidence.map((e) => e.normalized), severity: f.severity.level });
      pending.set(key, list);
    }
    const adopted = adoptsAt.get(index);
    if (adopted) {
      // The adopting report's own batch is judged first; its adoptions arrive after it, behind the
      // watermark (up to the adopt lookback late), live and as a backfill alike.
      flush();
      inBatch = 0;
      for (const a of adopted) {
        const t = byId.get(a.reportId)!;
        const f = t.result.fragments.find((x) => x.start === a.start && x.end === a.end)!;
        const key = follow(forward, a.into);
        pending.set(key, [...(pending.get(key) ?? []), { report: t.report, evidence: f.evidence.map((e) => e.normalized), severity: f.severity.level }]);
      }
    }
    const merges = foldsAt.get(index);
    if (++inBatch >= batch || merges || adopted) {
      flush();
      inBatch = 0;
    }
    for (const m of merges ?? []) {
      const from = follow(forward, m.from);
      const into = follow(forward, m.into);
      if (from === into) continue;
      forward.set(from, into);
      const absorbed = issues.get(from);
      if (!absorbed) continue;
      issues.delete(from);
      const survivor = issues.get(into);
      if (!survivor) {
        issues.set(into, absorbed);
        continue;
      }
      survivor.stats = mergeStats(survivor.stats, absorbed.stats).stats;
      survivor.profile = mergeSegmentProfiles(survivor.profile, absorbed.profile);
      survivor.recent = [...survivor.recent, ...absorbed.recent].sort((a, b) => a.at - b.at).slice(-400);
    }
  }
  flush();
  return firings;
}

/**
 * DETECTION_DEBUG: why an incident's reports miss its main issue. Per incident, the main issue and
 * its category, then each report outside it bucketed: never routed (needs_review), or routed
 * elsewhere by which method, whether its own category was the main issue's, and how close the
 * grouping found its nearest issue; plus reports split into several fragments.
 */
function printWhereReportsWent(
  triaged: ReadonlyArray<{ report: Report; result: TTriageResult }>,
  original: Map<string, TTriageResult['fragments']>,
  decisions: Map<string, Map<string, { method: string; nearest?: { key: string; similarity: number }; threshold?: number; features: string[] }>>,
): void {
  for (const inc of INCIDENTS) {
    const mine = triaged.filter((t) => t.report.incident === inc.id);
    const counts = new Map<string, number>();
    for (const t of mine) for (const k of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) counts.set(k, (counts.get(k) ?? 0) + 1);
    const [main, mainN] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
    const mainCat = main.split('.')[0];
    const buckets = new Map<string, number>();
    const add = (b: string) => buckets.set(b, (buckets.get(b) ?? 0) + 1);
    let multi = 0;
    const examples: string[] = [];
    for (const t of mine) {
      const frags = original.get(t.report.id) ?? t.result.fragments;
      if (frags.length > 1) multi++;
      const keys = new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key));
      if (keys.has(main)) {
        if (keys.size > 1) add('in main + split fragment elsewhere');
        continue;
      }
      if (keys.size === 0) {
        add(`unrouted (${frags.map((f) => f.classification.category).join('+')})`.replace(/\((needs_review\+?)+\)/, '(needs_review)'));
        if (examples.length < 4) examples.push(`U ${JSON.stringify(t.report.text.slice(0, 90))}`);
        continue;
      }
      const ds = decisions.get(t.report.id);
      for (const k of keys) {
        const d = ds?.get(k);
        const cat = frags.find((f) => t.result.fragments.find((g) => g.fingerprint.key === k && g.start === f.start))?.classification.category ?? '?';
        const sameCat = cat === mainCat ? 'same-cat' : `other-cat(${cat})`;
        const sim = d?.nearest ? (d.nearest.key === main ? `nearest=main@${d.nearest.similarity}` : `nearest-other@${d.nearest.similarity}`) : 'no-nearest';
        const burst = d?.features.find((f) => f.startsWith('burst:')) ?? '';
        add(`${d?.method ?? 'fingerprint'} ${sameCat} ${(counts.get(k) ?? 0) >= 2 ? 'multi' : 'single'}${burst ? ' ' + burst : ''}`);
        if (examples.length < 8 || (process.env.DETECTION_DEBUG === inc.id.slice(0, 3) && examples.length < 40)) examples.push(`+${Math.round((t.report.at - (T0 + inc.startH * HOUR)) / MIN)}m ${d?.method} ${cat} -> ${k} ${sim} [${(d?.features ?? []).join(' ')}] ${JSON.stringify(t.report.metadata)} ${JSON.stringify(t.report.text.slice(0, 90))}`);
      }
    }
    console.log(`\n## ${inc.id}: ${mine.length} reports, main ${main} ${mainN} (${Math.round((mainN / mine.length) * 100)}%), ${multi} multi-fragment; issues: ${JSON.stringify([...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8))}`);
    for (const [b, n] of [...buckets.entries()].sort((a, b) => b[1] - a[1])) console.log(`   ${n}\t${b}`);
    for (const e of examples) console.log(`     e.g. ${e}`);
  }
}

/**
 * DETECTION_DEBUG: where each incident's reports outside its main issue went, by the kind of issue
 * that holds them, and what each lever could gain at most (mean main-issue share if every report
 * of that kind joined its incident's main issue). Kinds: never routed (needs_review); an issue
 * opened before the incident started (an everyday issue, shared with the background); a young
 * issue (opened after the start) whose reports are mostly this incident's (what a merge after the
 * fact could fold in; `1` when it holds one report of it) or mostly another's / the background's.
 */
function printNonMainBreakdown(triaged: ReadonlyArray<{ report: Report; result: TTriageResult }>): void {
  const firstAt = new Map<string, number>();
  const owners = new Map<string, Map<string, number>>();
  for (const t of triaged) {
    for (const k of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) {
      if (!firstAt.has(k)) firstAt.set(k, t.report.at);
      const m = owners.get(k) ?? new Map<string, number>();
      const truth = t.report.incident ?? 'background';
      m.set(truth, (m.get(truth) ?? 0) + 1);
      owners.set(k, m);
    }
  }
  const ownerOf = (k: string) => [...owners.get(k)!.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  const kinds = ['needs_review', 'everyday (background-owned)', 'everyday (incident-owned)', 'own young, >=2', 'own young, 1', 'young of background', 'young of another incident'] as const;
  const total = new Map<string, number>();
  let shareSum = 0;
  console.log('\n## non-main breakdown (reports outside the main issue, by kind of issue)');
  for (const inc of INCIDENTS) {
    const mine = triaged.filter((t) => t.report.incident === inc.id);
    const counts = new Map<string, number>();
    for (const t of mine) for (const k of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) counts.set(k, (counts.get(k) ?? 0) + 1);
    const [main, mainN] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
    shareSum += mainN / mine.length;
    const start = T0 + inc.startH * HOUR;
    const row = new Map<string, number>();
    for (const t of mine) {
      const keys = [...new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))];
      if (keys.includes(main)) continue;
      let kind: string;
      if (keys.length === 0) kind = 'needs_review';
      else {
        const k = keys.sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0))[0]!;
        const owner = ownerOf(k);
        if (firstAt.get(k)! < start) kind = owner === 'background' ? 'everyday (background-owned)' : 'everyday (incident-owned)';
        else if (owner === inc.id) kind = (counts.get(k) ?? 0) >= 2 ? 'own young, >=2' : 'own young, 1';
        else kind = owner === 'background' ? 'young of background' : 'young of another incident';
      }
      row.set(kind, (row.get(kind) ?? 0) + 1);
      total.set(kind, (total.get(kind) ?? 0) + 1 / mine.length);
    }
    console.log(`${inc.id.slice(0, 3)} main ${Math.round((mainN / mine.length) * 100)}% of ${mine.length}: ${kinds.map((k) => `${k} ${row.get(k) ?? 0}`).join(', ')}`);
  }
  const n = INCIDENTS.length;
  console.log(`mean share ${pct(shareSum / n)}; upper bound if every report of a kind joined its main issue: ${kinds.map((k) => `${k} +${(((total.get(k) ?? 0) / n) * 100).toFixed(1)}`).join(', ')}`);
}

export function triageSegments(report: Report) {
  return { ...(report.metadata.platform ? { platform: report.metadata.platform as Platform } : {}), ...(report.metadata.app_version ? { appVersion: report.metadata.app_version } : {}), ...(report.metadata.region ? { region: report.metadata.region } : {}), ...(report.metadata.plan ? { plan: report.metadata.plan } : {}) };
}

export const detectionSuite: BenchSuite = {
  name: 'detection',
  async run(): Promise<BenchRow[]> {
    const { reports, events } = buildStream();
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    // The classifier the worker runs: fused TF-IDF + sentence encoder when models/ is present.
    // DETECTION_BOUNDARY=<file>: another split boundary model (e.g. an earlier one from git), for comparisons.
    const brain = await buildTriageBrain(taxonomy, process.env.DETECTION_BOUNDARY ? { boundaryFile: process.env.DETECTION_BOUNDARY } : {});
    // As worker/bootstrap.ts builds it: with the encoder, the learned severity heads and the split
    // boundary model (brainDeps). Before 2026-11-30 (session 6) the bench left brainDeps out, so it
    // split messages by the rules alone, unlike the worker.
    const pipeline = createTriagePipeline({ taxonomy, classifier: brain.classifier, clauseClassifier: brain.classifier, ...(process.env.DETECTION_PIPELINE === 'rules' ? {} : brainDeps(brain)) });
    // Triage results and fragment embeddings are cached under the bench cache dir (embedding-cache.ts),
    // keyed by the seed, the models and the source of activities/triage: iterating on grouping
    // re-runs in seconds; any change to triage code or models triages afresh.
    const triageKey = createHash('sha256').update(`${SEED}\n${process.env.DETECTION_PIPELINE ?? 'worker'}\n${brain.notice}`);
    for (const f of readdirSync(new URL('../activities/triage/', import.meta.url)).sort()) triageKey.update(readFileSync(new URL(`../activities/triage/${f}`, import.meta.url)));
    const triageFile = join(cacheDir(), `detection-triage-${triageKey.digest('hex').slice(0, 16)}.json`);
    let cachedResults: TTriageResult[] | undefined;
    try {
      cachedResults = JSON.parse(readFileSync(triageFile, 'utf8')) as TTriageResult[];
      if (cachedResults.length !== reports.length) cachedResults = undefined;
    } catch {
      // not triaged yet
    }
    const triaged: Array<{ report: Report; result: TTriageResult }> = [];
    for (const [i, report] of reports.entries()) {
      const item = { source: 'sim', externalId: report.id, text: report.text, receivedAt: new Date(report.at).toISOString(), channel: report.channel, customer: { id: `c-${report.id}`, tier: report.tier }, metadata: report.metadata };
      triaged.push({ report, result: cachedResults?.[i] ?? (pipeline.triageSync ? pipeline.triageSync(item) : await pipeline.triage(item)) });
    }
    if (!cachedResults) {
      try {
        mkdirSync(cacheDir(), { recursive: true });
        writeFileSync(triageFile, JSON.stringify(triaged.map((t) => t.result)));
      } catch {
        // a read-only temp dir only costs the next run time
      }
    }
    // Routing groups fragments before they reach an issue (activities/grouping), in event-time order
    // as live intake would: joins across categories on a code or a spiking release cohort
    // (evidence-join.ts; DETECTION_JOIN=off without), then by meaning (DETECTION_GROUPING=off, or no
    // encoder: the fingerprint keys alone).
    let useEncoder: SentenceEncoder | undefined = brain.encoder && process.env.DETECTION_GROUPING !== 'off' ? brain.encoder : undefined;
    if (useEncoder) {
      // The same vectors the encoder gives one text at a time, computed once per fragment text (cached).
      const real = useEncoder;
      const vectors = await embedAll(real, `detection-fragments-${SEED}`, triaged.flatMap((t) => t.result.fragments.map((f) => f.text)));
      useEncoder = { modelId: real.modelId, modelVersion: real.modelVersion, dimension: real.dimension, embed: async (ts) => Promise.all(ts.map(async (t) => vectors.get(t) ?? (await real.embed([t]))[0]!)) };
    }
    const useJoin = process.env.DETECTION_JOIN !== 'off';
    const methods = new Map<string, string>();
    const decisionsByReport = new Map<string, Map<string, { method: string; nearest?: { key: string; similarity: number }; threshold?: number; features: string[] }>>();
    const originalFragments = new Map<string, TTriageResult['fragments']>();
    const folds: FoldEvent[] = [];
    const adoptions: AdoptEvent[] = [];
    let groupingNote = 'fingerprint keys';
    if (useEncoder || useJoin) {
      const store = createSqliteGroupingStore(':memory:');
      // Knobs for the comparisons in docs/benchmarks.md (defaults = what routing ships):
      // DETECTION_LINKAGE=centroid|nearest, DETECTION_BURST=off or a JSON TBurstRule, DETECTION_THRESHOLD.
      // DETECTION_FOLD=off or a JSON TFoldRule: the burst rule's merge after the fact (TBurstRule.fold).
      const fold = process.env.DETECTION_FOLD === 'off' ? null : process.env.DETECTION_FOLD ? (JSON.parse(process.env.DETECTION_FOLD) as TFoldRule) : undefined;
      const baseBurst = process.env.DETECTION_BURST === 'off' ? null : process.env.DETECTION_BURST ? (JSON.parse(process.env.DETECTION_BURST) as TBurstRule) : undefined;
      // DETECTION_ADOPT=off or a JSON TAdoptRule: needs_review reports adopted from their themes (TBurstRule.adopt).
      const adopt = process.env.DETECTION_ADOPT === 'off' ? null : process.env.DETECTION_ADOPT ? (JSON.parse(process.env.DETECTION_ADOPT) as TAdoptRule) : undefined;
      const withFold = baseBurst === null || fold === undefined ? baseBurst : { ...(baseBurst ?? DEFAULT_BURST), fold };
      const burst = withFold === null || adopt === undefined ? withFold : { ...(withFold ?? DEFAULT_BURST), adopt };
      // Rule 4, a surge of unmatched reports: DEFAULT_SURGE as the worker ships it (GROUPING_SURGE on since
      // session 9), DETECTION_SURGE=off without it, or a JSON TSurgeRule.
      const baseSurge = process.env.DETECTION_SURGE === 'off' ? null : process.env.DETECTION_SURGE && process.env.DETECTION_SURGE !== 'on' ? (JSON.parse(process.env.DETECTION_SURGE) as TSurgeRule) : DEFAULT_SURGE;
      // DETECTION_SURGE_FOLD=off or a JSON TFoldRule: the surge's merge after the fact (TSurgeRule.fold).
      const surgeFold = process.env.DETECTION_SURGE_FOLD === 'off' ? null : process.env.DETECTION_SURGE_FOLD ? (JSON.parse(process.env.DETECTION_SURGE_FOLD) as TFoldRule) : undefined;
      const surge = baseSurge && surgeFold !== undefined ? { ...baseSurge, fold: surgeFold } : baseSurge;
      const grouper = createGrouper({
        store,
        ...(useEncoder ? { encoder: useEncoder } : {}),
        ...(useJoin ? { joiner: createEvidenceJoiner({ store, ...(process.env.DETECTION_LIFT_ALPHA ? { spike: { ...DEFAULT_COHORT_SPIKE, liftAlpha: Number(process.env.DETECTION_LIFT_ALPHA) } } : {}) }) } : {}),
        ...(process.env.DETECTION_LINKAGE ? { linkage: process.env.DETECTION_LINKAGE as TLinkage } : {}),
        ...(process.env.DETECTION_THRESHOLD ? { issueThreshold: Number(process.env.DETECTION_THRESHOLD) } : {}),
        ...(burst !== undefined ? { burst } : {}),
        ...(surge !== undefined ? { surge } : {}),
        ...(process.env.DETECTION_REMEMBER === 'off' ? { rememberEvidence: false } : {}),
        // DETECTION_RELEASE_FOLD=on (DEFAULT_RELEASE_FOLD) or a JSON TFoldRule: a release's merge after the fact (GroupingOptions.releaseFold, off as shipped).
        ...(process.env.DETECTION_RELEASE_FOLD && process.env.DETECTION_RELEASE_FOLD !== 'off' ? { releaseFold: process.env.DETECTION_RELEASE_FOLD === 'on' ? DEFAULT_RELEASE_FOLD : (JSON.parse(process.env.DETECTION_RELEASE_FOLD) as TFoldRule) } : {}),
      });
      groupingNote = `${useJoin ? 'evidence joins + ' : ''}${useEncoder ? `${grouper.linkage} linkage at ${grouper.issueThreshold}, burst ${grouper.burst ? JSON.stringify(grouper.burst) : 'off'}, surge ${grouper.surge ? JSON.stringify(grouper.surge) : 'off'}` : 'no similarity'}`;
      for (const [index, t] of triaged.entries()) {
        originalFragments.set(t.report.id, t.result.fragments);
        const g = await applyGrouping(t.result, null, grouper, null);
        decisionsByReport.set(t.report.id, g.decisions);
        t.result = g.result;
        for (const [key, d] of g.decisions) {
          methods.set(`${t.report.id}\u0000${key}`, d.method);
          for (const f of d.folded ?? []) folds.push({ index, from: f.key, into: key });
          for (const a of d.adopted ?? []) {
            const [start, end] = a.memberKey.slice(a.memberKey.lastIndexOf('#') + 1).split('-').map(Number);
            adoptions.push({ index, into: key, reportId: a.feedbackId.replace(/^sim:/, ''), start: start!, end: end! });
          }
        }
      }
    }
    // Segments must reach the triage result from metadata (the pipeline's own normalisation).
    const withSegments = triaged.filter((t) => t.result.segments?.platform !== undefined).length;

    const live = detect(triaged, events, 1, folds, adoptions);
    const backfill = detect(triaged, events, 500, folds, adoptions);
    // An adopted fragment is its issue's from here on, as routing delivered it.
    const adoptedTruths: Array<{ key: string; truth: string }> = [];
    for (const a of adoptions) {
      const t = triaged.find((x) => x.report.id === a.reportId)!;
      const category = a.into.slice(0, a.into.indexOf('.'));
      t.result = { ...t.result, fragments: t.result.fragments.map((f) => (f.start === a.start && f.end === a.end ? { ...f, fingerprint: { ...f.fingerprint, key: a.into, category } } : f)) };
      methods.set(`${a.reportId}\u0000${a.into}`, 'adopted');
      adoptedTruths.push({ key: a.into, truth: t.report.incident ?? 'background' });
    }
    // From here on each report counts where it ended: a folded issue's reports are its survivor's.
    const forward = new Map(folds.map((f) => [f.from, f.into] as const));
    // What the folds moved, by truth (checked against the survivor's owner below).
    const foldedTruths = new Map<string, string[]>();
    for (const t of triaged) for (const k of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) if (forward.has(k)) foldedTruths.set(k, [...(foldedTruths.get(k) ?? []), t.report.incident ?? 'background']);
    for (const t of triaged) {
      if (t.result.fragments.some((f) => forward.has(f.fingerprint.key))) {
        t.result = { ...t.result, fragments: t.result.fragments.map((f) => (forward.has(f.fingerprint.key) ? { ...f, fingerprint: { ...f.fingerprint, key: follow(forward, f.fingerprint.key) } } : f)) };
      }
    }
    for (const [id, ds] of decisionsByReport) {
      for (const [k, d] of [...ds]) {
        if (!forward.has(k)) continue;
        ds.delete(k);
        ds.set(follow(forward, k), d);
        const m = methods.get(`${id}\u0000${k}`);
        if (m) methods.set(`${id}\u0000${follow(forward, k)}`, m);
      }
    }
    // Batches flush issue by issue, so compare the firings as sets (issue, event time, acted).
    const key = (fs: Firing[]) => JSON.stringify(fs.map((f) => `${f.issue}@${f.at}:${f.acted}`).sort());
    const sameAsLive = key(live) === key(backfill);
    if (process.env.DETECTION_DEBUG) {
      const a = new Set(JSON.parse(key(live)) as string[]);
      const b = new Set(JSON.parse(key(backfill)) as string[]);
      console.log('live only', [...a].filter((x) => !b.has(x)), 'backfill only', [...b].filter((x) => !a.has(x)));
      for (const inc of INCIDENTS) {
        const cats = new Map<string, number>();
        for (const t of triaged.filter((x) => x.report.incident === inc.id)) for (const f of t.result.fragments) cats.set(f.fingerprint.key, (cats.get(f.fingerprint.key) ?? 0) + 1);
        console.log(inc.id, JSON.stringify([...cats.entries()].sort((a, b) => b[1] - a[1])));
      }
      printWhereReportsWent(triaged, originalFragments, decisionsByReport);
      printNonMainBreakdown(triaged);
      // Rule 4: which reports a surge of unmatched reports placed, by truth, and in which issues.
      const surged = new Map<string, number>();
      for (const t of triaged) for (const [k, d] of decisionsByReport.get(t.report.id) ?? []) if (d.features.includes('surge:unmatched')) surged.set(`${k} ${t.report.incident ?? 'background'}`, (surged.get(`${k} ${t.report.incident ?? 'background'}`) ?? 0) + 1);
      console.log('surge placements', JSON.stringify([...surged.entries()].sort()));
      // TSurgeRule.deferToRising: the categorised fragments rule 4 left to a rising release cohort, by truth.
      const deferred = new Map<string, number>();
      for (const t of triaged) for (const [k, d] of decisionsByReport.get(t.report.id) ?? []) if (d.features.includes(SURGE_DEFERRED)) deferred.set(`${k} ${t.report.incident ?? 'background'}`, (deferred.get(`${k} ${t.report.incident ?? 'background'}`) ?? 0) + 1);
      console.log('surge deferred to a rising release', JSON.stringify([...deferred.entries()].sort()));
      for (const f of live) console.log(f.issue, new Date(f.at).toISOString(), f.incident, JSON.stringify(f.window), f.acted, f.ranking?.verdict, JSON.stringify(f.ranking?.hypotheses.slice(0, 2).map((h) => [h.eventId, h.score])), JSON.stringify(f.ranking?.belowThreshold.slice(0, 2).map((h) => [h.eventId, h.score, h.reasons.join(' | ')])));
      for (const f of live) for (const r of f.reranks) console.log('rerank', f.issue, f.incident, new Date(f.at).toISOString(), '->', new Date(r.at).toISOString(), r.reports, r.ranking.verdict, JSON.stringify(r.ranking.hypotheses.slice(0, 2).map((h) => [h.eventId, h.score])));
    }

    const byIncident = new Map<string, Firing[]>();
    for (const f of live) if (f.incident) byIncident.set(f.incident, [...(byIncident.get(f.incident) ?? []), f]);
    const falseVolume = live.filter((f) => f.incident === null);
    const detected = INCIDENTS.filter((i) => byIncident.has(i.id));
    const ttd = detected.map((i) => (Math.min(...byIncident.get(i.id)!.map((f) => f.decidedAt)) - (T0 + i.startH * HOUR)) / MIN);
    const pagesPerIncident = detected.map((i) => byIncident.get(i.id)!.filter((f) => f.acted).length);

    let top1 = 0;
    let top3 = 0;
    let withCause = 0;
    let noCause = 0;
    let noCauseRight = 0;
    const calib: Array<{ score: number; right: boolean }> = [];
    const misses: string[] = [];
    const rootCauseOf = new Map<string, string>();
    // At the first firing, before any re-ranking: what the round's steps (Jira, Slack) were told.
    let firstTop1 = 0;
    let firstNoCauseRight = 0;
    const rerankNotes: string[] = [];
    for (const inc of detected) {
      const first = byIncident.get(inc.id)!.find((f) => f.acted && f.ranking);
      if (!first?.ranking) continue;
      // The round's answer: its last re-ranking's, else the first.
      const ranking = first.reranks.at(-1)?.ranking ?? first.ranking;
      const firstIds = first.ranking.hypotheses.map((h) => h.eventId);
      if (inc.cause && firstIds[0] === inc.cause) firstTop1++;
      if (!inc.cause && first.ranking.verdict === 'insufficient_evidence') firstNoCauseRight++;
      if (first.reranks.length) {
        const last = first.reranks.at(-1)!;
        rerankNotes.push(`${inc.id} x${first.reranks.length} (${last.reports} reports, ${((last.at - first.at) / MIN).toFixed(0)} min after the firing): ${last.ranking.hypotheses[0]?.eventId ?? 'insufficient'}`);
      }
      const ids = ranking.hypotheses.map((h) => h.eventId);
      rootCauseOf.set(inc.id, inc.cause ? (ids[0] === inc.cause ? 'top-1 right' : `top-1 ${ids[0] ?? 'insufficient evidence'}`) : ranking.verdict === 'insufficient_evidence' ? 'insufficient evidence (right)' : `named ${ids[0]}`);
      if (ranking.hypotheses[0]) calib.push({ score: ranking.hypotheses[0].score, right: ids[0] === inc.cause });
      if (inc.cause) {
        withCause++;
        if (ids[0] === inc.cause) top1++;
        else misses.push(`${inc.id}: ${ids[0] ?? 'insufficient'}`);
        if (ids.slice(0, 3).includes(inc.cause)) top3++;
      } else {
        noCause++;
        if (ranking.verdict === 'insufficient_evidence') noCauseRight++;
        else misses.push(`${inc.id}: named ${ids[0]}`);
      }
    }
    const causeIncidents = INCIDENTS.filter((i) => i.cause).length;

    // Ranking on every incident, independent of detection and grouping: anchored 30 min after the
    // injected start, over the incident's own reports so far (its evidence, segment profile and
    // most common category). This is the ranker alone on all 13 incidents.
    let allTop1 = 0;
    let allTop3 = 0;
    let allNoCauseRight = 0;
    const allMisses: string[] = [];
    for (const inc of INCIDENTS) {
      const anchor = T0 + inc.startH * HOUR + 30 * MIN;
      const mine = triaged.filter((t) => t.report.incident === inc.id && t.report.at <= anchor);
      const cats = new Map<string, number>();
      for (const t of mine) cats.set(t.result.classification.category, (cats.get(t.result.classification.category) ?? 0) + 1);
      const category = [...cats.entries()].filter(([c]) => c !== NEEDS_REVIEW).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'general_inquiry';
      const profile = mine.reduce((p, t) => addToSegmentProfile(p, triageSegments(t.report), t.report.at), createSegmentProfile());
      const evidence = [...new Set(mine.flatMap((t) => t.result.evidence.map((e) => e.normalized)))];
      const firstSeen = mine[0]?.report.at ?? anchor;
      const range = contextSearchRange({ firstSeen, spikeAt: anchor });
      const r = rankHypotheses({ category, firstSeen: new Date(firstSeen).toISOString(), spikeAt: new Date(anchor).toISOString(), evidence, profile }, eventsInRange(events.map((e) => ZContextEvent.parse(e)), range));
      const ids = r.hypotheses.map((h) => h.eventId);
      if (inc.cause) {
        if (ids[0] === inc.cause) allTop1++;
        else allMisses.push(`${inc.id}: ${ids[0] ?? 'insufficient'}`);
        if (ids.slice(0, 3).includes(inc.cause)) allTop3++;
      } else if (r.verdict === 'insufficient_evidence') allNoCauseRight++;
      else allMisses.push(`${inc.id}: named ${ids[0]}`);
    }
    const noCauseIncidents = INCIDENTS.length - causeIncidents;

    // One problem, one issue: where each incident's reports were routed.
    const perIncident = INCIDENTS.map((inc) => {
      const mine = triaged.filter((t) => t.report.incident === inc.id);
      const issueCounts = new Map<string, number>();
      for (const t of mine) {
        for (const key of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) issueCounts.set(key, (issueCounts.get(key) ?? 0) + 1);
      }
      const main = Math.max(0, ...issueCounts.values());
      const issues = [...issueCounts.values()].filter((c) => c >= Math.max(2, 0.05 * mine.length)).length;
      const routed = mine.filter((t) => t.result.fragments.some(isRoutable)).length;
      return { id: inc.id, issues, share: main / mine.length, routedShare: routed === 0 ? 0 : main / routed, unrouted: 1 - routed / mine.length, reports: mine.length };
    });
    const meanIssues = perIncident.reduce((a, b) => a + b.issues, 0) / perIncident.length;

    // Over-grouping, the worse error: each issue's owner is the incident (or the background) with
    // most of its reports; a report placed by a join (evidence or meaning) under another owner is a
    // wrong merge. Published per method, beside the reports each method placed.
    const owners = new Map<string, Map<string, number>>();
    const placed: Array<{ key: string; truth: string; method: string }> = [];
    for (const t of triaged) {
      for (const key of new Set(t.result.fragments.filter(isRoutable).map((f) => f.fingerprint.key))) {
        const truth = t.report.incident ?? 'background';
        const m = owners.get(key) ?? new Map<string, number>();
        m.set(truth, (m.get(truth) ?? 0) + 1);
        owners.set(key, m);
        placed.push({ key, truth, method: methods.get(`${t.report.id}\u0000${key}`) ?? 'fingerprint' });
      }
    }
    const ownerOf = (key: string) => [...owners.get(key)!.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
    const wrongBy = (method: string) => {
      const xs = placed.filter((p) => p.method === method);
      return { n: xs.length, wrong: xs.filter((p) => p.truth !== ownerOf(p.key)).length, bgIntoIncident: xs.filter((p) => p.truth === 'background' && ownerOf(p.key) !== 'background').length };
    };
    const joinStats = wrongBy('evidence_join');
    const foldMoved = [...foldedTruths.entries()].flatMap(([k, truths]) => truths.map((truth) => ({ truth, owner: ownerOf(follow(forward, k)) })));
    if (process.env.DETECTION_DEBUG) for (const a of adoptedTruths) console.log('adopted', a.key, '->', follow(forward, a.key), a.truth, 'owner', ownerOf(follow(forward, a.key)));
    if (process.env.DETECTION_DEBUG) for (const f of folds) console.log('fold', f.from, '->', f.into, JSON.stringify(foldedTruths.get(f.from) ?? []), 'owner', ownerOf(follow(forward, f.into)));
    const simStats = wrongBy('similarity');
    const meanShare = perIncident.reduce((a, b) => a + b.share, 0) / perIncident.length;

    const band = (lo: number, hi: number) => {
      const xs = calib.filter((c) => c.score >= lo && c.score < hi);
      return xs.length === 0 ? 'none' : `${xs.filter((c) => c.right).length}/${xs.length}`;
    };
    const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const recall = detected.length / INCIDENTS.length;
    return [
      { metric: 'stream', value: `${reports.length} reports, ${INCIDENTS.length} incidents, ${events.length} context events`, note: `seed ${SEED}; 14 days event time; ${pct(withSegments / reports.length)} with platform segment after intake; grouping: ${groupingNote}; ${brain.notice}` },
      { metric: 'detection recall', value: `${detected.length}/${INCIDENTS.length} (${pct(recall)})`, target: '>= 95%', note: mark(recall >= 0.95) + (detected.length < INCIDENTS.length ? `; missed ${INCIDENTS.filter((i) => !byIncident.has(i.id)).map((i) => i.id).join(', ')}` : '') },
      { metric: 'false volume triggers (background)', value: String(falseVolume.length), target: '0', note: `${mark(falseVolume.length === 0)}; ${falseVolume.filter((f) => f.acted).length} would have acted; no incident holds half the window` },
      { metric: '... of which background alone passes the trigger', value: String(live.filter((f) => f.backgroundAlone).length), note: `firings whose background reports alone reach the floor and x${SPIKE.factor} the expected count; the others fired on an incident's reports in an issue shared with background (window: ${falseVolume.map((f) => JSON.stringify(f.window)).join(' ') || '-'})` },
      { metric: 'median time to detect (event time)', value: `${median(ttd).toFixed(1)} min`, target: '<= 30 min', note: `${mark(median(ttd) <= 30)}; max ${Math.max(...ttd).toFixed(1)} min` },
      { metric: 'rounds per detected incident', value: (pagesPerIncident.reduce((a, b) => a + b, 0) / Math.max(1, pagesPerIncident.length)).toFixed(2), note: `re-firings suppressed by decideRepage: ${live.filter((f) => f.incident && !f.acted).length}` },
      { metric: 'root cause top-1', value: `${top1}/${withCause} (${pct(top1 / Math.max(1, withCause))})`, target: '>= 80%', note: `${mark(top1 / Math.max(1, withCause) >= 0.8)}; of ${causeIncidents} incidents with a cause` },
      { metric: 'root cause top-3', value: `${top3}/${withCause} (${pct(top3 / Math.max(1, withCause))})` },
      { metric: '... at the first firing (before re-ranking)', value: `top-1 ${firstTop1}/${withCause}, insufficient when no cause ${firstNoCauseRight}/${noCause}`, note: RERANK ? `a round whose answer was insufficient evidence ranks again once its hour's reports doubled (x${RERANK.factor}, at most ${RERANK.maxReranks}, within ${RERANK.horizonMinutes} min): ${rerankNotes.join('; ') || 'none'}` : 'DETECTION_RERANK=off' },
      { metric: 'insufficient evidence when no cause', value: `${noCauseRight}/${noCause} (${pct(noCauseRight / Math.max(1, noCause))})`, target: '>= 90%', note: `${mark(noCauseRight / Math.max(1, noCause) >= 0.9)}; of ${noCauseIncidents} incidents without a cause` },
      { metric: 'ranker alone, all incidents: top-1', value: `${allTop1}/${causeIncidents} (${pct(allTop1 / causeIncidents)})`, target: '>= 80%', note: `${mark(allTop1 / causeIncidents >= 0.8)}; top-3 ${allTop3}/${causeIncidents}; anchored 30 min after the start, the incident's own reports` },
      { metric: 'ranker alone, all incidents: insufficient evidence when no cause', value: `${allNoCauseRight}/${noCauseIncidents} (${pct(allNoCauseRight / noCauseIncidents)})`, target: '>= 90%', note: mark(allNoCauseRight / noCauseIncidents >= 0.9) + (allMisses.length ? `; misses: ${allMisses.join('; ')}` : '') },
      { metric: 'calibration: top-1 right by score', value: `0.5-0.7: ${band(0.5, 0.7)}, 0.7-0.9: ${band(0.7, 0.9)}, 0.9-1: ${band(0.9, 1.01)}` },
      { metric: 'issues per incident', value: meanIssues.toFixed(2), target: '<= 1.5', note: mark(meanIssues <= 1.5) },
      { metric: "share of an incident's reports in its main issue", value: pct(meanShare), target: '>= 90%', note: `${mark(meanShare >= 0.9)}; min ${pct(Math.min(...perIncident.map((p) => p.share)))}` },
      { metric: 'main-issue share per incident', value: perIncident.map((p) => `${p.id.slice(0, 3)} ${Math.round(p.share * 100)}%`).join(', ') },
      { metric: 'wrong merges: evidence joins (code, release, segment)', value: joinStats.n === 0 ? 'none placed' : `${joinStats.wrong}/${joinStats.n} (${pct(joinStats.wrong / joinStats.n)})`, note: `reports joined across categories under another incident's (or the background's) issue; background into an incident issue: ${joinStats.bgIntoIncident}` },
      { metric: 'wrong merges: joins by meaning (similarity)', value: simStats.n === 0 ? 'none placed' : `${simStats.wrong}/${simStats.n} (${pct(simStats.wrong / simStats.n)})`, note: `background into an incident issue: ${simStats.bgIntoIncident}` },
      { metric: 'folds (young issues merged into a burst or a surge)', value: `${folds.length} issues, ${foldMoved.length} reports`, note: `reports whose truth is not the survivor's owner: ${foldMoved.filter((m) => m.truth !== m.owner).length} (background into an incident's issue: ${foldMoved.filter((m) => m.truth === 'background' && m.owner !== 'background').length})` },
      { metric: 'adopted (needs_review reports a burst took from their themes)', value: `${adoptions.length} reports`, note: `truth not the issue's owner: ${adoptedTruths.filter((a) => a.truth !== ownerOf(follow(forward, a.key))).length} (background into an incident's issue: ${adoptedTruths.filter((a) => a.truth === 'background' && ownerOf(follow(forward, a.key)) !== 'background').length})` },
      { metric: 'of which: left needs_review (never routed)', value: pct(perIncident.reduce((a, b) => a + b.unrouted, 0) / perIncident.length), note: `main-issue share among routed reports: ${pct(perIncident.reduce((a, b) => a + b.routedShare, 0) / perIncident.length)}` },
      { metric: 'backfill (batches of 500) = live triggers', value: sameAsLive ? 'identical' : 'DIFFERENT', note: `${live.length} firings live, ${backfill.length} as backfill` },
      ...(misses.length ? [{ metric: 'root-cause misses', value: String(misses.length), note: misses.join('; ') }] : []),
      // Per incident: detected when, how many issues hold it, its main issue's share, and the first round's answer.
      ...perIncident.map((p, i) => {
        const inc = INCIDENTS[i]!;
        const fs = byIncident.get(inc.id);
        const ttdMin = fs ? (Math.min(...fs.map((f) => f.decidedAt)) - (T0 + inc.startH * HOUR)) / MIN : undefined;
        return {
          metric: `incident ${inc.id}`,
          value: `${ttdMin === undefined ? 'not detected' : `detected ${ttdMin.toFixed(1)} min`}; ${p.issues} issue(s); main ${pct(p.share)}`,
          note: `${p.reports} reports; unrouted ${pct(p.unrouted)}; ${fs ? (rootCauseOf.get(inc.id) ?? 'no acted round') : '-'}${inc.cause ? `; cause ${inc.cause}` : '; no cause'}`,
        };
      }),
    ];
  },
};
