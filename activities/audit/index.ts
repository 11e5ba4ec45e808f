// Public entry of the audit trail: pick a backend from a URL and re-export the contract. Callers
// (activities, the HTTP service, the CLI) import from here only, never from a backend module.
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { createPostgresAuditStore, type PostgresAuditStoreOptions } from './postgres.js';
import { createSqliteAuditStore, type SqliteAuditStoreOptions } from './sqlite.js';
import type { AuditStore, AuditTrustOptions } from './store.js';

export * from './events.js';
export { canonicalJson, eventHash, GENESIS_HASH, HASH_VERSION, hashPreimage, keyedEventHash, KEYED_HASH_VERSION, LEGACY_HASH_VERSION } from './canonical.js';
export { type AuditStore, type AuditTrustOptions, DEFAULT_SEARCH_LIMIT } from './store.js';
export { AuditKeyring, keyIdFor, loadOrCreateKeyFile, parseKeyring } from './keyring.js';
export { createFileCheckpointSink, ZCheckpoint, type CheckpointSink, type TCheckpoint } from './checkpoints.js';
export { createSqliteAuditStore, type SqliteAuditStoreOptions } from './sqlite.js';
export { createPostgresAuditStore, describeTarget, type PostgresAuditStoreOptions } from './postgres.js';

export type AuditBackend = 'sqlite' | 'postgres';

/**
 * `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite:/abs/file.db`, `sqlite:///abs/file.db`,
 * `sqlite:relative.db` or a plain path → SQLite. Any other scheme is a config error, not a file name.
 */
export function parseAuditUrl(url: string): { backend: 'postgres'; connectionString: string } | { backend: 'sqlite'; path: string } {
  const trimmed = url.trim();
  if (!trimmed) throw new LoopwrightError('invalid_config', 'audit database URL is empty');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { backend: 'postgres', connectionString: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    const rest = trimmed.slice('sqlite:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (!path) throw new LoopwrightError('invalid_config', `audit database URL "${trimmed}" names no file`);
    return { backend: 'sqlite', path };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  if (scheme) throw new LoopwrightError('invalid_config', `audit database URL scheme "${scheme[1]}:" is not supported (use sqlite: or postgres://)`);
  return { backend: 'sqlite', path: trimmed };
}

export async function openAuditStore(
  url: string,
  options: { sqlite?: SqliteAuditStoreOptions; postgres?: PostgresAuditStoreOptions; trust?: AuditTrustOptions } = {},
): Promise<AuditStore> {
  const target = parseAuditUrl(url);
  return target.backend === 'postgres'
    ? createPostgresAuditStore(target.connectionString, { ...options.trust, ...options.postgres })
    : createSqliteAuditStore(target.path, { ...options.trust, ...options.sqlite });
}
