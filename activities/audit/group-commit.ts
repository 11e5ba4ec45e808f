// Group commit for audit appends: concurrent activities each wait for their events to be durable,
// but share one transaction (and one fsync) instead of paying one each. A durable append is still
// awaited by every caller; nothing is acknowledged before it is committed. If a shared transaction
// fails (one caller's bad payload or key conflict), every caller's batch is retried on its own so
// each gets its own result or its own error, and one bad batch never fails the others.
import type { AuditStore } from './store.js';
import type { TAuditAppend, TAuditEvent } from './events.js';

export interface GroupCommitOptions {
  /** How long the first caller of a group waits for others to join (ms). */
  maxWaitMs?: number;
  /** A group is committed at once when it reaches this many events. */
  maxEvents?: number;
}

interface Pending {
  events: readonly TAuditAppend[];
  resolve: (v: TAuditEvent[]) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitter {
  appendMany(events: readonly TAuditAppend[]): Promise<TAuditEvent[]>;
  /** Commits whatever is waiting now. */
  flush(): Promise<void>;
}

export function createGroupCommit(store: Pick<AuditStore, 'appendMany'>, opts: GroupCommitOptions = {}): GroupCommitter {
  const maxWaitMs = opts.maxWaitMs ?? 2;
  const maxEvents = opts.maxEvents ?? 2_000;
  let queue: Pending[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();

  async function commit(group: Pending[]): Promise<void> {
    if (group.length === 1) {
      const only = group[0] as Pending;
      await store.appendMany(only.events).then(only.resolve, only.reject);
      return;
    }
    try {
      const stored = await store.appendMany(group.flatMap((p) => p.events));
      let at = 0;
      for (const p of group) {
        p.resolve(stored.slice(at, at + p.events.length));
        at += p.events.length;
      }
    } catch {
      // Attribute the failure: each batch alone, in order (appends are idempotent per event key).
      for (const p of group) await store.appendMany(p.events).then(p.resolve, p.reject);
    }
  }

  function drain(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const group = queue;
    queue = [];
    queued = 0;
    if (group.length === 0) return inFlight;
    // Groups commit one after another so chains are appended in the order callers arrived.
    inFlight = inFlight.then(() => commit(group));
    return inFlight;
  }

  return {
    appendMany(events) {
      if (events.length === 0) return Promise.resolve([]);
      return new Promise<TAuditEvent[]>((resolve, reject) => {
        queue.push({ events, resolve, reject });
        queued += events.length;
        if (queued >= maxEvents) void drain();
        else timer ??= setTimeout(() => void drain(), maxWaitMs);
      });
    },
    flush: () => drain(),
  };
}
