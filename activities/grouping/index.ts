// Opens the grouping store for a URL the same way the audit store is opened: postgres://… →
// PostgreSQL, sqlite:… or a path → SQLite. Callers import from here only.
import { parseAuditUrl } from '../audit/index.js';
import { createPostgresGroupingStore } from './postgres.js';
import { createSqliteGroupingStore } from './sqlite.js';
import type { GroupingStore } from './store.js';

export * from './store.js';
export { createSqliteGroupingStore } from './sqlite.js';
export { createPostgresGroupingStore } from './postgres.js';

export async function openGroupingStore(url: string, opts: { now?: () => Date } = {}): Promise<GroupingStore> {
  const target = parseAuditUrl(url);
  return target.backend === 'postgres' ? createPostgresGroupingStore(target.connectionString, opts) : createSqliteGroupingStore(target.path, opts);
}
