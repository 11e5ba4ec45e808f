// Versioned schema migrations for both backends, applied in order at start-up inside one
// transaction each and recorded in audit_schema_migrations. Never change what a shipped migration
// does: add a new version (the shared table text below may be reformatted, not altered). The payload column is TEXT on both backends (not jsonb) because the hash covers the
// exact stored bytes; jsonb would re-serialize them.
//
// Version 3 (keyed hashes) keeps every existing row and its unkeyed v1 hash: old rows stay
// verifiable as they were, and the chain continues from them. audit_meta records the store's
// identity (bound into every checkpoint) and the first seq signed with a key, after which an
// unkeyed row is a forgery. Both facts only move one way, guarded like the other tables.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS_TABLE = 'audit_schema_migrations';

/**
 * What differs between the backends in the shared tables: integer types, SQLite's WITHOUT ROWID
 * for the heads table, and how a random store id is made. The tables themselves are defined once
 * (tablesV1, keyingV3); the append-only triggers are each backend's own language.
 */
interface Dialect {
  int: string;
  bigint: string;
  headsTable: string;
  randomId: string;
}
const SQLITE: Dialect = { int: 'INTEGER', bigint: 'INTEGER', headsTable: ' WITHOUT ROWID', randomId: 'lower(hex(randomblob(16)))' };
const POSTGRES: Dialect = { int: 'INT', bigint: 'BIGINT', headsTable: '', randomId: "replace(gen_random_uuid()::text, '-', '')" };

function tablesV1(d: Dialect): string {
  return `
      CREATE TABLE audit_events (
        seq          ${d.bigint} PRIMARY KEY,
        workflow_id  TEXT NOT NULL,
        workflow_seq ${d.bigint} NOT NULL,
        run_id       TEXT,
        event_key    TEXT NOT NULL,
        at           TEXT NOT NULL,
        actor_type   TEXT NOT NULL,
        actor_id     TEXT NOT NULL,
        actor_name   TEXT,
        kind         TEXT NOT NULL,
        payload      TEXT NOT NULL,
        prev_hash    TEXT NOT NULL,
        hash         TEXT NOT NULL,
        UNIQUE (workflow_id, event_key),
        UNIQUE (workflow_id, workflow_seq)
      );
      CREATE INDEX audit_events_kind_at ON audit_events (kind, at);
      CREATE INDEX audit_events_actor_at ON audit_events (actor_id, at);
      CREATE INDEX audit_events_at ON audit_events (at);
      CREATE TABLE audit_chain_heads (
        workflow_id       TEXT PRIMARY KEY,
        last_workflow_seq ${d.bigint} NOT NULL,
        last_seq          ${d.bigint} NOT NULL,
        last_hash         TEXT NOT NULL
      )${d.headsTable};
      CREATE TABLE audit_counter (
        id       ${d.int} PRIMARY KEY CHECK (id = 1),
        last_seq ${d.bigint} NOT NULL
      );
      INSERT INTO audit_counter (id, last_seq) VALUES (1, 0);
    `;
}

function keyingV3(d: Dialect): string {
  return `
      ALTER TABLE audit_events ADD COLUMN hash_version ${d.int} NOT NULL DEFAULT 1;
      ALTER TABLE audit_events ADD COLUMN key_id TEXT;
      ALTER TABLE audit_events ADD COLUMN origin TEXT;
      CREATE TABLE audit_meta (
        id             ${d.int} PRIMARY KEY CHECK (id = 1),
        store_id       TEXT NOT NULL,
        keyed_from_seq ${d.bigint}
      );
      INSERT INTO audit_meta (id, store_id, keyed_from_seq) VALUES (1, ${d.randomId}, NULL);`;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, chain heads and the global counter',
    sql: tablesV1(SQLITE),
  },
  {
    version: 2,
    name: 'append-only triggers',
    sql: `
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_chain_heads_forward BEFORE UPDATE ON audit_chain_heads
        WHEN NEW.last_seq <= OLD.last_seq OR NEW.last_workflow_seq <= OLD.last_workflow_seq OR NEW.workflow_id IS NOT OLD.workflow_id
        BEGIN SELECT RAISE(ABORT, 'audit chain heads only move forward'); END;
      CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE ON audit_chain_heads
        BEGIN SELECT RAISE(ABORT, 'audit chain heads are append-only'); END;
      CREATE TRIGGER audit_counter_forward BEFORE UPDATE ON audit_counter
        WHEN NEW.last_seq < OLD.last_seq
        BEGIN SELECT RAISE(ABORT, 'the audit counter only moves forward'); END;
      CREATE TRIGGER audit_counter_no_delete BEFORE DELETE ON audit_counter
        BEGIN SELECT RAISE(ABORT, 'the audit counter cannot be deleted'); END;
    `,
  },
  {
    version: 3,
    name: 'keyed hashes (hash version, key id), unhashed origin, store identity and keying record',
    sql: `
${keyingV3(SQLITE)}
      CREATE TRIGGER audit_meta_once BEFORE UPDATE ON audit_meta
        WHEN NEW.store_id IS NOT OLD.store_id OR OLD.keyed_from_seq IS NOT NULL OR NEW.id IS NOT OLD.id
        BEGIN SELECT RAISE(ABORT, 'audit_meta changes once: keyed_from_seq is set once, store_id never'); END;
      CREATE TRIGGER audit_meta_no_delete BEFORE DELETE ON audit_meta
        BEGIN SELECT RAISE(ABORT, 'audit_meta cannot be deleted'); END;
    `,
  },
];

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, chain heads and the global counter',
    sql: tablesV1(POSTGRES),
  },
  {
    version: 2,
    name: 'append-only triggers',
    sql: `
      CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE FUNCTION audit_heads_forward() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.last_seq <= OLD.last_seq OR NEW.last_workflow_seq <= OLD.last_workflow_seq OR NEW.workflow_id <> OLD.workflow_id THEN
          RAISE EXCEPTION 'audit chain heads only move forward' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$;
      CREATE FUNCTION audit_counter_forward() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.last_seq < OLD.last_seq THEN
          RAISE EXCEPTION 'the audit counter only moves forward' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
      CREATE TRIGGER audit_chain_heads_forward BEFORE UPDATE ON audit_chain_heads
        FOR EACH ROW EXECUTE FUNCTION audit_heads_forward();
      CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE ON audit_chain_heads
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
      CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON audit_chain_heads
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
      CREATE TRIGGER audit_counter_forward BEFORE UPDATE ON audit_counter
        FOR EACH ROW EXECUTE FUNCTION audit_counter_forward();
      CREATE TRIGGER audit_counter_no_delete BEFORE DELETE ON audit_counter
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
    `,
  },
  {
    version: 3,
    name: 'keyed hashes (hash version, key id), unhashed origin, store identity and keying record',
    sql: `
${keyingV3(POSTGRES)}
      CREATE FUNCTION audit_meta_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.store_id <> OLD.store_id OR OLD.keyed_from_seq IS NOT NULL OR NEW.id <> OLD.id THEN
          RAISE EXCEPTION 'audit_meta changes once: keyed_from_seq is set once, store_id never' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_meta_once BEFORE UPDATE ON audit_meta
        FOR EACH ROW EXECUTE FUNCTION audit_meta_once();
      CREATE TRIGGER audit_meta_no_delete BEFORE DELETE ON audit_meta
        FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
      CREATE TRIGGER audit_meta_no_truncate BEFORE TRUNCATE ON audit_meta
        FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
    `,
  },
];
