// The emerging themes as the CLI (`loopwright themes`, `status`) and the HTTP API (`GET /v1/themes`)
// list them: describeThemes (themes.ts, pure) over the store's themes, without the reports a burst
// adopted into an issue (TBurstRule.adopt). An adopted report keeps its theme membership in the
// store (what it said, and when; the adoption's provenance), but it is that issue's report from
// then on: listing it in its theme too counted it twice, as the report did before it read
// `report_adopted` (worker/report/aggregate.ts). A theme every report of which was adopted is not listed.
import { describeThemes, type TThemeView } from './themes.js';
import type { GroupingStore, TMemberRow } from './store.js';

/** Theme members not adopted into an issue (an issue member of the same key placed by adoption). */
export async function unadoptedThemeMembers(
  store: Pick<GroupingStore, 'member'>,
  members: readonly TMemberRow[],
): Promise<TMemberRow[]> {
  const out: TMemberRow[] = [];
  for (const m of members) {
    const inIssue = await store.member('issue', m.memberKey);
    if (!inIssue?.info.adoptedBy) out.push(m);
  }
  return out;
}

export async function listThemes(
  store: Pick<GroupingStore, 'groups' | 'members' | 'member'>,
  opts: Parameters<typeof describeThemes>[2],
): Promise<TThemeView[]> {
  const groups = await store.groups('theme');
  const all = await store.members('theme', null);
  const members = await unadoptedThemeMembers(store, all);
  const left = new Set(members.map((m) => m.groupKey));
  const adoptedAway = new Set(all.filter((m) => !left.has(m.groupKey)).map((m) => m.groupKey));
  return describeThemes(
    groups.filter((g) => !adoptedAway.has(g.key)),
    members,
    opts,
  );
}
