/**
 * The in-memory Temporal state machine: executions, their histories, workflow and activity
 * tasks, timers, queries and visibility, all driven by one virtual clock.
 *
 * Owns Temporal semantics only. It must not touch the network: every public method takes a
 * decoded request and returns (or resolves) a plain response object, or throws RpcError.
 * Everything runs on one event loop, so each method is one atomic transition.
 */
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { VirtualClock, type TimerHandle } from './clock.js';
import { decodeJsonPayload, durationMs, toDuration, toTimestamp } from './convert.js';
import { parseVisibilityQuery, VisibilityQueryError, type IndexedFields } from './visibility.js';
import { detach, encodeMessage, invalidArgument, lookupType, notFound, payloadSize, RAW_HISTORY, RpcError, type Msg } from './wire.js';

const HistoryEvent = lookupType('temporal.api.history.v1.HistoryEvent');

export interface StoreOptions {
  timeSkipping: boolean;
  /** Namespaces that exist at start-up; RegisterNamespace adds more. */
  namespaces: string[];
  /** Custom search attributes announced on the command line (name → indexed value type). */
  searchAttributes?: Record<string, string>;
  /** How long a long poll waits before answering empty, in wall-clock ms. */
  longPollMs?: number;
  /** Largest accepted payload in bytes (Temporal's default blob size limit is 2 MiB). */
  maxPayloadBytes?: number;
  serverVersion?: string;
}

/** Hooks a long-poll handler uses to learn that its caller went away. */
export interface CallContext {
  onCancel(cb: () => void): void;
  readonly cancelled: boolean;
}

type Status =
  | 'WORKFLOW_EXECUTION_STATUS_RUNNING'
  | 'WORKFLOW_EXECUTION_STATUS_COMPLETED'
  | 'WORKFLOW_EXECUTION_STATUS_FAILED'
  | 'WORKFLOW_EXECUTION_STATUS_CANCELED'
  | 'WORKFLOW_EXECUTION_STATUS_TERMINATED'
  | 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW'
  | 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT';

const RUNNING: Status = 'WORKFLOW_EXECUTION_STATUS_RUNNING';

interface WorkflowTask {
  scheduledEventId: number;
  /** The queue the task waits on: the run's task queue, or a worker's sticky queue. */
  queue: string;
  fallback?: TimerHandle;
  attempt: number;
  scheduledTime: number;
  startedEventId?: number;
  startedTime?: number;
  token?: string;
  timeout?: TimerHandle;
}

interface Activity {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  attrs: Msg;
  attempt: number;
  phase: 'scheduled' | 'started' | 'backoff';
  firstScheduledTime: number;
  attemptScheduledTime: number;
  startedTime?: number;
  startedIdentity?: string;
  heartbeatDetails?: Msg;
  lastHeartbeatTime?: number;
  lastFailure?: Msg;
  cancelRequested: boolean;
  cancelRequestedEventId?: number;
  token?: string;
  attemptTimers: TimerHandle[];
  closeTimer?: TimerHandle;
  s2cMs: number;
  s2sMs: number;
  stcMs: number;
  hbMs: number;
  retry: { initialMs: number; coefficient: number; maxMs: number; maxAttempts: number; nonRetryable: string[] };
}

interface PendingQuery {
  id: string;
  query: Msg;
  state: 'waiting' | 'attached' | 'dispatched';
  resolve(result: Msg): void;
  reject(err: Error): void;
}

interface ChildRef {
  initiatedEventId: number;
  startedEventId?: number;
  workflowId: string;
  runId?: string;
  workflowType: string;
  namespace: string;
  parentClosePolicy: string;
}

interface Run {
  ns: Namespace;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  /** Encoded HistoryEvent messages, index = eventId - 1. */
  history: Buffer[];
  historyBytes: number;
  status: Status;
  startTime: number;
  closeTime?: number;
  memo: Record<string, Msg>;
  searchAttributes: Record<string, Msg>;
  wft: WorkflowTask | null;
  wftAttempt: number;
  /** Events that arrived while a workflow task was started, appended once it ends. */
  held: Array<() => void>;
  lastStartedEventId: number;
  activities: Map<number, Activity>;
  timers: Map<string, { startedEventId: number; handle: TimerHandle }>;
  children: Map<number, ChildRef>;
  queries: PendingQuery[];
  listeners: Set<() => void>;
  startRequestId: string;
  /** The worker's sticky queue: its next tasks go there with only the new events. */
  sticky?: { name: string; scheduleToStartMs: number };
  wftTimeoutMs: number;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  runTimer?: TimerHandle;
  parent?: { ns: string; workflowId: string; runId: string; initiatedEventId: number };
  nextRunId?: string;
  userMetadata?: Msg;
}

interface TaskQueueState {
  workflowTasks: Array<{ run: Run; scheduledEventId: number; queue: string } | { run: Run; query: PendingQuery }>;
  activityTasks: Array<{ run: Run; scheduledEventId: number; attempt: number }>;
  workflowPollers: Poller[];
  activityPollers: Poller[];
}

interface Poller {
  identity: string;
  ctx: CallContext;
  deliver(res: Msg): void;
}

interface Namespace {
  name: string;
  id: string;
  /** workflowId → runs, oldest first; the last one is the current run. */
  executions: Map<string, Run[]>;
  runs: Map<string, Run>;
  taskQueues: Map<string, TaskQueueState>;
  searchAttributes: Map<string, string>;
}

type Token =
  | { k: 'w'; ns: string; r: string; s: number; a: number }
  | { k: 'a'; ns: string; r: string; s: number; a: number }
  | { k: 'q'; id: string };

const TERMINAL_COMMANDS = new Set([
  'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
]);

const BUILTIN_SEARCH_ATTRIBUTES: Record<string, string> = {
  WorkflowId: 'INDEXED_VALUE_TYPE_KEYWORD',
  WorkflowType: 'INDEXED_VALUE_TYPE_KEYWORD',
  RunId: 'INDEXED_VALUE_TYPE_KEYWORD',
  TaskQueue: 'INDEXED_VALUE_TYPE_KEYWORD',
  ExecutionStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
  StartTime: 'INDEXED_VALUE_TYPE_DATETIME',
  CloseTime: 'INDEXED_VALUE_TYPE_DATETIME',
  TemporalChangeVersion: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
  BinaryChecksums: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
  BuildIds: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
};

const INDEXED_TYPE_BY_CLI_NAME: Record<string, string> = {
  text: 'INDEXED_VALUE_TYPE_TEXT',
  keyword: 'INDEXED_VALUE_TYPE_KEYWORD',
  int: 'INDEXED_VALUE_TYPE_INT',
  double: 'INDEXED_VALUE_TYPE_DOUBLE',
  bool: 'INDEXED_VALUE_TYPE_BOOL',
  datetime: 'INDEXED_VALUE_TYPE_DATETIME',
  keywordlist: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
};

/** Maps a CLI `--search-attribute name=Type` type to the proto enum name, or undefined. */
export function indexedValueType(cliType: string): string | undefined {
  return INDEXED_TYPE_BY_CLI_NAME[cliType.toLowerCase().replace(/_/g, '')];
}

const DEFAULT_WFT_TIMEOUT_MS = 10_000;
const MAX_WFT_TIMEOUT_MS = 120_000;

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(`${field} is not set on request.`);
  return value;
}

function encodeToken(t: Token): Buffer {
  return Buffer.from(JSON.stringify(t), 'utf8');
}

function decodeToken(raw: unknown): Token {
  if (!(raw instanceof Uint8Array) || raw.length === 0) throw invalidArgument('Task token not set on request.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw notFound('Task token is not recognised by this server.');
  }
  const t = parsed as Partial<Token> | null;
  if (!t || (t.k !== 'w' && t.k !== 'a' && t.k !== 'q')) throw notFound('Task token is not recognised by this server.');
  return t as Token;
}

export class Store {
  readonly clock: VirtualClock;
  private readonly namespaces = new Map<string, Namespace>();
  private readonly pendingQueries = new Map<string, { run: Run; q: PendingQuery }>();
  private lockCount: number;
  private sleepers = 0;
  private outstandingWft = 0;
  private outstandingActivities = 0;
  private taskSeq = 1;
  /** Parked polls by worker instance key, so ShutdownWorker can release them at once. */
  private readonly pollsByWorker = new Map<string, Set<(res: Msg) => void>>();
  private readonly longPollMs: number;
  private readonly maxPayloadBytes: number;
  private readonly serverVersion: string;

  constructor(private readonly opts: StoreOptions) {
    this.lockCount = opts.timeSkipping ? 1 : 0;
    this.longPollMs = opts.longPollMs ?? 20_000;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 2 * 1024 * 1024;
    this.serverVersion = opts.serverVersion ?? '1.24.0-loopwright-inmemory';
    this.clock = new VirtualClock({ timeSkipping: opts.timeSkipping, canSkip: () => this.canSkip() });
    for (const name of opts.namespaces) this.addNamespace(name);
    for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) {
      for (const ns of this.namespaces.values()) ns.searchAttributes.set(name, type);
    }
  }

  close(): void {
    this.clock.stop();
  }

  // ------------------------------------------------------------------ time skipping

  private canSkip(): boolean {
    if (this.lockCount > 0 || this.outstandingWft > 0) return false;
    // A test that sleeps inside an activity asks for time to pass while that activity runs.
    return this.outstandingActivities === 0 || this.sleepers > 0;
  }

  lockTimeSkipping(): Msg {
    this.lockCount++;
    return {};
  }

  unlockTimeSkipping(): Msg {
    this.lockCount--;
    this.clock.poke();
    return {};
  }

  async sleep(req: Msg, unlock: boolean): Promise<Msg> {
    const ms = durationMs(req['duration']);
    return this.sleepUntilMs(this.clock.now() + ms, unlock);
  }

  async sleepUntil(req: Msg): Promise<Msg> {
    return this.sleepUntilMs(durationMs(req['timestamp']), false);
  }

  private sleepUntilMs(atMs: number, unlock: boolean): Promise<Msg> {
    return new Promise((resolve) => {
      this.sleepers++;
      if (unlock) this.lockCount--;
      this.clock.at(atMs, () => {
        this.sleepers--;
        if (unlock) this.lockCount++;
        resolve({});
      });
    });
  }

  getCurrentTime(): Msg {
    return { time: toTimestamp(this.clock.now()) };
  }

  // ------------------------------------------------------------------ namespaces & system

  private addNamespace(name: string): Namespace {
    const ns: Namespace = {
      name,
      id: randomUUID(),
      executions: new Map(),
      runs: new Map(),
      taskQueues: new Map(),
      searchAttributes: new Map(),
    };
    this.namespaces.set(name, ns);
    return ns;
  }

  private ns(name: unknown): Namespace {
    const n = requireString(name, 'Namespace');
    const ns = this.namespaces.get(n);
    if (!ns) throw notFound(`Namespace ${n} is not found.`);
    return ns;
  }

  getSystemInfo(): Msg {
    return {
      serverVersion: this.serverVersion,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: false,
        nexus: false,
      },
    };
  }

  private namespaceInfo(ns: Namespace): Msg {
    return {
      namespaceInfo: {
        name: ns.name,
        state: 'NAMESPACE_STATE_REGISTERED',
        id: ns.id,
        description: 'in-memory test namespace',
        capabilities: { eagerWorkflowStart: false, syncUpdate: false, asyncUpdate: false, workerHeartbeats: false },
      },
      config: { workflowExecutionRetentionTtl: toDuration(24 * 3600 * 1000) },
      isGlobalNamespace: false,
    };
  }

  describeNamespace(req: Msg): Msg {
    if (!req['namespace'] && req['id']) {
      const ns = [...this.namespaces.values()].find((n) => n.id === req['id']);
      if (!ns) throw notFound(`Namespace ${String(req['id'])} is not found.`);
      return this.namespaceInfo(ns);
    }
    return this.namespaceInfo(this.ns(req['namespace']));
  }

  listNamespaces(): Msg {
    return { namespaces: [...this.namespaces.values()].map((ns) => this.namespaceInfo(ns)) };
  }

  registerNamespace(req: Msg): Msg {
    const name = requireString(req['namespace'], 'Namespace');
    if (this.namespaces.has(name)) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `Namespace ${name} already exists.`);
    const ns = this.addNamespace(name);
    for (const [k, v] of Object.entries(this.opts.searchAttributes ?? {})) ns.searchAttributes.set(k, v);
    return {};
  }

  getClusterInfo(): Msg {
    return {
      supportedClients: {},
      serverVersion: this.serverVersion,
      clusterId: 'in-memory',
      clusterName: 'in-memory',
      historyShardCount: 1,
      persistenceStore: 'memory',
      visibilityStore: 'memory',
    };
  }

  listSearchAttributes(req: Msg): Msg {
    const ns = this.ns(req['namespace'] || 'default');
    return {
      customAttributes: Object.fromEntries(ns.searchAttributes),
      systemAttributes: BUILTIN_SEARCH_ATTRIBUTES,
      storageSchema: {},
    };
  }

  addSearchAttributes(req: Msg): Msg {
    const ns = this.ns(req['namespace'] || 'default');
    const attrs = (req['searchAttributes'] ?? {}) as Record<string, string>;
    for (const [name, type] of Object.entries(attrs)) {
      if (BUILTIN_SEARCH_ATTRIBUTES[name]) throw invalidArgument(`Search attribute ${name} is reserved by system.`);
      const existing = ns.searchAttributes.get(name);
      if (existing && existing !== type) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `Search attribute ${name} already exists with type ${existing}.`);
      ns.searchAttributes.set(name, type);
    }
    return {};
  }

  // ------------------------------------------------------------------ validation helpers

  private checkPayloads(payloads: Msg | undefined, field: string): void {
    for (const p of (payloads?.['payloads'] ?? []) as Msg[]) {
      if (payloadSize(p) > this.maxPayloadBytes) throw invalidArgument(`${field}: Blob data size exceeds limit.`);
    }
  }

  private checkSearchAttributes(ns: Namespace, sa: Msg | undefined): void {
    for (const [name, payload] of Object.entries((sa?.['indexedFields'] ?? {}) as Record<string, Msg>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalidArgument(`Search attribute name ${name} is not valid.`);
      if (decodeJsonPayload(payload) === undefined) throw invalidArgument(`Search attribute ${name} value is not valid JSON.`);
      // Unregistered attributes are accepted (and registered from their payload type) so a
      // time-skipping test needs no registration step; the README documents the difference.
      if (!ns.searchAttributes.has(name) && !BUILTIN_SEARCH_ATTRIBUTES[name]) {
        const typeMeta: unknown = (payload['metadata'] as Record<string, unknown> | undefined)?.['type'];
        const cliType = typeMeta instanceof Uint8Array ? Buffer.from(typeMeta).toString('utf8') : 'Keyword';
        ns.searchAttributes.set(name, indexedValueType(cliType) ?? 'INDEXED_VALUE_TYPE_KEYWORD');
      }
    }
  }

  private taskQueue(ns: Namespace, name: string): TaskQueueState {
    let tq = ns.taskQueues.get(name);
    if (!tq) {
      tq = { workflowTasks: [], activityTasks: [], workflowPollers: [], activityPollers: [] };
      ns.taskQueues.set(name, tq);
    }
    return tq;
  }

  private currentRun(ns: Namespace, workflowId: string): Run | undefined {
    const runs = ns.executions.get(workflowId);
    return runs?.[runs.length - 1];
  }

  private findRun(ns: Namespace, execution: Msg | undefined): Run {
    const workflowId = requireString(execution?.['workflowId'], 'WorkflowId');
    const runId = execution?.['runId'] as string | undefined;
    if (runId) {
      const run = ns.runs.get(runId);
      if (!run || run.workflowId !== workflowId) throw notFound(`Workflow execution not found: ${workflowId}/${runId}.`);
      return run;
    }
    const run = this.currentRun(ns, workflowId);
    if (!run) throw notFound(`Workflow execution not found. WorkflowId: ${workflowId}`);
    return run;
  }

  private openRun(ns: Namespace, execution: Msg | undefined): Run {
    const run = this.findRun(ns, execution);
    if (run.status !== RUNNING) throw notFound('workflow execution already completed');
    return run;
  }

  // ------------------------------------------------------------------ history

  private appendEvent(run: Run, type: string, attrsField: string, attrs: Msg, extra?: Msg): number {
    const eventId = run.history.length + 1;
    const event: Msg = {
      eventId,
      eventTime: toTimestamp(this.clock.now()),
      eventType: `EVENT_TYPE_${type}`,
      taskId: this.taskSeq++,
      [attrsField]: attrs,
      ...extra,
    };
    // An unpooled copy: a pooled slice would pin an 8 KiB slab shared with short-lived buffers.
    const pooled = encodeMessage(HistoryEvent, event);
    const encoded = Buffer.allocUnsafeSlow(pooled.length);
    pooled.copy(encoded);
    run.history.push(encoded);
    run.historyBytes += encoded.length;
    for (const l of [...run.listeners]) l();
    return eventId;
  }

  /**
   * Adds an event caused by the outside world. While a workflow task is started the event is
   * held and appended after the task ends, because the core rejects events in between.
   */
  private addExternal(run: Run, append: () => void): void {
    if (run.status !== RUNNING) return;
    if (run.wft?.startedEventId !== undefined) {
      run.held.push(append);
      return;
    }
    append();
    this.scheduleWft(run);
  }

  private scheduleWft(run: Run): void {
    if (run.status !== RUNNING || run.wft) return;
    const sticky = run.sticky;
    const queue = sticky?.name ?? run.taskQueue;
    const scheduledEventId = this.appendEvent(run, 'WORKFLOW_TASK_SCHEDULED', 'workflowTaskScheduledEventAttributes', {
      taskQueue: sticky ? { name: sticky.name, kind: 'TASK_QUEUE_KIND_STICKY', normalName: run.taskQueue } : { name: run.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      startToCloseTimeout: toDuration(run.wftTimeoutMs),
      attempt: run.wftAttempt,
    });
    const wft: WorkflowTask = { scheduledEventId, queue, attempt: run.wftAttempt, scheduledTime: this.clock.now() };
    this.setWft(run, wft);
    if (sticky) {
      // A sticky worker that died or stalled must not strand the task: after its
      // schedule-to-start timeout the task moves to the normal queue with full history.
      wft.fallback = this.clock.after(sticky.scheduleToStartMs, () => {
        if (run.wft === wft && wft.startedEventId === undefined) this.moveToNormalQueue(run);
      });
    }
    this.enqueueWft(run, wft);
  }

  private enqueueWft(run: Run, wft: WorkflowTask): void {
    const tq = this.taskQueue(run.ns, wft.queue);
    tq.workflowTasks.push({ run, scheduledEventId: wft.scheduledEventId, queue: wft.queue });
    this.dispatchWorkflowTasks(tq);
  }

  private moveToNormalQueue(run: Run): void {
    run.sticky = undefined;
    const wft = run.wft;
    if (!wft || wft.startedEventId !== undefined || wft.queue === run.taskQueue) return;
    wft.fallback?.cancel();
    wft.queue = run.taskQueue;
    this.enqueueWft(run, wft);
  }

  private setWft(run: Run, wft: WorkflowTask | null): void {
    if (run.wft && !wft) this.outstandingWft--;
    if (!run.wft && wft) this.outstandingWft++;
    if (run.wft && run.wft !== wft) {
      run.wft.timeout?.cancel();
      run.wft.fallback?.cancel();
    }
    run.wft = wft;
    this.clock.poke();
  }

  /** Ends the started workflow task: appends held events and schedules the next task if any. */
  private finishWft(run: Run, forceNew: boolean): void {
    this.setWft(run, null);
    const held = run.held;
    run.held = [];
    for (const q of run.queries) if (q.state === 'attached') q.state = 'waiting';
    if (run.status !== RUNNING) return;
    for (const append of held) append();
    if (held.length > 0 || forceNew) this.scheduleWft(run);
    this.flushQueries(run);
  }

  // ------------------------------------------------------------------ start

  private newRun(
    ns: Namespace,
    p: {
      workflowId: string;
      workflowType: string;
      taskQueue: string;
      input?: Msg;
      header?: Msg;
      memo?: Msg;
      searchAttributes?: Msg;
      identity?: string;
      requestId: string;
      runTimeoutMs: number;
      executionTimeoutMs: number;
      wftTimeoutMs: number;
      retryPolicy?: Msg;
      firstRunId?: string;
      continuedFromRunId?: string;
      initiator?: string;
      lastCompletionResult?: Msg;
      continuedFailure?: Msg;
      parent?: Run['parent'];
      userMetadata?: Msg;
      signal?: Msg;
      runId?: string;
    },
  ): Run {
    const runId = p.runId ?? randomUUID();
    const now = this.clock.now();
    const run: Run = {
      ns,
      workflowId: p.workflowId,
      runId,
      firstRunId: p.firstRunId ?? runId,
      workflowType: p.workflowType,
      taskQueue: p.taskQueue,
      history: [],
      historyBytes: 0,
      status: RUNNING,
      startTime: now,
      memo: detach({ ...((p.memo?.['fields'] ?? {}) as Record<string, Msg>) }),
      searchAttributes: detach({ ...((p.searchAttributes?.['indexedFields'] ?? {}) as Record<string, Msg>) }),
      wft: null,
      wftAttempt: 1,
      held: [],
      lastStartedEventId: 0,
      activities: new Map(),
      timers: new Map(),
      children: new Map(),
      queries: [],
      listeners: new Set(),
      startRequestId: p.requestId,
      wftTimeoutMs: Math.min(p.wftTimeoutMs || DEFAULT_WFT_TIMEOUT_MS, MAX_WFT_TIMEOUT_MS),
      runTimeoutMs: p.runTimeoutMs,
      executionTimeoutMs: p.executionTimeoutMs,
      ...(p.parent ? { parent: p.parent } : {}),
      ...(p.userMetadata ? { userMetadata: detach(p.userMetadata) } : {}),
    };
    const attrs: Msg = {
      workflowType: { name: p.workflowType },
      taskQueue: { name: p.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      input: p.input,
      workflowExecutionTimeout: toDuration(p.executionTimeoutMs),
      workflowRunTimeout: toDuration(p.runTimeoutMs),
      workflowTaskTimeout: toDuration(run.wftTimeoutMs),
      identity: p.identity ?? '',
      originalExecutionRunId: runId,
      firstExecutionRunId: run.firstRunId,
      attempt: 1,
      header: p.header,
      memo: p.memo,
      searchAttributes: p.searchAttributes,
      retryPolicy: p.retryPolicy,
      continuedExecutionRunId: p.continuedFromRunId ?? '',
      initiator: p.initiator ?? 'CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED',
      lastCompletionResult: p.lastCompletionResult,
      continuedFailure: p.continuedFailure,
      workflowId: p.workflowId,
      ...(p.executionTimeoutMs > 0 ? { workflowExecutionExpirationTime: toTimestamp(now + p.executionTimeoutMs) } : {}),
      ...(p.parent
        ? {
            parentWorkflowNamespace: p.parent.ns,
            parentWorkflowExecution: { workflowId: p.parent.workflowId, runId: p.parent.runId },
            parentInitiatedEventId: p.parent.initiatedEventId,
          }
        : {}),
    };
    let runs = ns.executions.get(p.workflowId);
    if (!runs) {
      runs = [];
      ns.executions.set(p.workflowId, runs);
    }
    runs.push(run);
    ns.runs.set(runId, run);
    this.appendEvent(run, 'WORKFLOW_EXECUTION_STARTED', 'workflowExecutionStartedEventAttributes', attrs, p.userMetadata ? { userMetadata: p.userMetadata } : undefined);
    if (p.signal) this.appendSignal(run, p.signal);
    const timeout = p.runTimeoutMs || p.executionTimeoutMs;
    if (timeout > 0) run.runTimer = this.clock.after(timeout, () => this.timeOutRun(run));
    this.scheduleWft(run);
    return run;
  }

  private appendSignal(run: Run, s: Msg): void {
    this.appendEvent(run, 'WORKFLOW_EXECUTION_SIGNALED', 'workflowExecutionSignaledEventAttributes', {
      signalName: s['signalName'],
      input: s['input'],
      identity: s['identity'] ?? '',
      header: s['header'],
    });
  }

  private validateStart(req: Msg): void {
    requireString(req['workflowId'], 'WorkflowId');
    requireString(req['workflowType']?.['name'], 'WorkflowType');
    requireString(req['taskQueue']?.['name'], 'TaskQueue');
    if (String(req['workflowId']).length > 1000) throw invalidArgument('WorkflowId length exceeds limit.');
    for (const f of ['workflowExecutionTimeout', 'workflowRunTimeout', 'workflowTaskTimeout'] as const) {
      if (durationMs(req[f] as Msg | undefined) < 0) throw invalidArgument(`Invalid ${f}.`);
    }
    this.checkPayloads(req['input'] as Msg | undefined, 'input');
    if (req['cronSchedule']) throw invalidArgument('cronSchedule is not supported by the in-memory test server.');
  }

  /**
   * Applies workflow-id reuse and conflict policies. Returns the run to reuse when the
   * request must not start a new one.
   */
  private resolveConflict(ns: Namespace, req: Msg, allowUseExisting: boolean): Run | undefined {
    const workflowId = String(req['workflowId']);
    const existing = this.currentRun(ns, workflowId);
    if (!existing) return undefined;
    const reuse = (req['workflowIdReusePolicy'] as string | undefined) ?? 'WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED';
    if (existing.status === RUNNING) {
      if (req['requestId'] && req['requestId'] === existing.startRequestId) return existing;
      let conflict = (req['workflowIdConflictPolicy'] as string | undefined) ?? 'WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED';
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED') {
        conflict = reuse === 'WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING' ? 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING' : 'WORKFLOW_ID_CONFLICT_POLICY_FAIL';
      }
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING' && allowUseExisting) return existing;
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING') {
        this.terminateRun(existing, 'TerminateIfRunning WorkflowIdReusePolicy', undefined, String(req['identity'] ?? ''));
        return undefined;
      }
      throw this.alreadyStarted(existing, workflowId);
    }
    const failedLike = existing.status !== 'WORKFLOW_EXECUTION_STATUS_COMPLETED' && existing.status !== 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW';
    if (reuse === 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE' || (reuse === 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY' && !failedLike)) {
      throw this.alreadyStarted(existing, workflowId);
    }
    return undefined;
  }

  private alreadyStarted(existing: Run, workflowId: string): RpcError {
    return new RpcError(
      GrpcStatus.ALREADY_EXISTS,
      `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${existing.runId}.`,
    );
  }

  startWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    this.validateStart(req);
    this.checkSearchAttributes(ns, req['searchAttributes'] as Msg | undefined);
    const existing = this.resolveConflict(ns, req, true);
    if (existing) return { runId: existing.runId, started: false };
    const run = this.startFromRequest(ns, req);
    return { runId: run.runId, started: true };
  }

  private startFromRequest(ns: Namespace, req: Msg, signal?: Msg): Run {
    if (durationMs(req['workflowStartDelay'] as Msg | undefined) > 0) {
      throw invalidArgument('workflowStartDelay is not supported by the in-memory test server.');
    }
    return this.newRun(ns, {
      workflowId: String(req['workflowId']),
      workflowType: String(req['workflowType']['name']),
      taskQueue: String(req['taskQueue']['name']),
      input: req['input'] as Msg | undefined,
      header: req['header'] as Msg | undefined,
      memo: req['memo'] as Msg | undefined,
      searchAttributes: req['searchAttributes'] as Msg | undefined,
      identity: req['identity'] as string | undefined,
      requestId: (req['requestId'] as string | undefined) || randomUUID(),
      runTimeoutMs: durationMs(req['workflowRunTimeout'] as Msg | undefined),
      executionTimeoutMs: durationMs(req['workflowExecutionTimeout'] as Msg | undefined),
      wftTimeoutMs: durationMs(req['workflowTaskTimeout'] as Msg | undefined),
      retryPolicy: req['retryPolicy'] as Msg | undefined,
      userMetadata: req['userMetadata'] as Msg | undefined,
      ...(signal ? { signal } : {}),
    });
  }

  signalWithStartWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    this.validateStart(req);
    requireString(req['signalName'], 'SignalName');
    this.checkPayloads(req['signalInput'] as Msg | undefined, 'signalInput');
    this.checkSearchAttributes(ns, req['searchAttributes'] as Msg | undefined);
    const current = this.currentRun(ns, String(req['workflowId']));
    const signal = { signalName: req['signalName'], input: req['signalInput'], identity: req['identity'], header: req['header'] };
    if (current && current.status === RUNNING) {
      const conflict = req['workflowIdConflictPolicy'] as string | undefined;
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_FAIL') throw this.alreadyStarted(current, current.workflowId);
      if (conflict !== 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING') {
        this.addExternal(current, () => this.appendSignal(current, signal));
        return { runId: current.runId, started: false };
      }
    }
    const reused = this.resolveConflict(ns, { ...req, workflowIdConflictPolicy: 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING' }, false);
    if (reused) throw this.alreadyStarted(reused, reused.workflowId);
    const run = this.startFromRequest(ns, req, signal);
    return { runId: run.runId, started: true };
  }

  signalWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    requireString(req['signalName'], 'SignalName');
    this.checkPayloads(req['input'] as Msg | undefined, 'input');
    const run = this.openRun(ns, req['workflowExecution'] as Msg | undefined);
    const signal = { signalName: req['signalName'], input: req['input'], identity: req['identity'], header: req['header'] };
    this.addExternal(run, () => this.appendSignal(run, signal));
    return {};
  }

  terminateWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    const run = this.openRun(ns, req['workflowExecution'] as Msg | undefined);
    const firstRunId = req['firstExecutionRunId'] as string | undefined;
    if (firstRunId && run.firstRunId !== firstRunId) throw notFound('workflow execution not found for the given first run id');
    this.terminateRun(run, String(req['reason'] ?? ''), req['details'] as Msg | undefined, String(req['identity'] ?? ''));
    return {};
  }

  private terminateRun(run: Run, reason: string, details: Msg | undefined, identity: string): void {
    if (run.status !== RUNNING) return;
    run.held = [];
    this.appendEvent(run, 'WORKFLOW_EXECUTION_TERMINATED', 'workflowExecutionTerminatedEventAttributes', { reason, details, identity });
    this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_TERMINATED', { reason, details });
  }

  requestCancelWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    const run = this.openRun(ns, req['workflowExecution'] as Msg | undefined);
    const firstRunId = req['firstExecutionRunId'] as string | undefined;
    if (firstRunId && run.firstRunId !== firstRunId) throw notFound('workflow execution not found for the given first run id');
    this.requestCancel(run, String(req['reason'] ?? ''), String(req['identity'] ?? ''));
    return {};
  }

  private requestCancel(run: Run, cause: string, identity: string, external?: Msg): void {
    this.addExternal(run, () =>
      this.appendEvent(run, 'WORKFLOW_EXECUTION_CANCEL_REQUESTED', 'workflowExecutionCancelRequestedEventAttributes', {
        cause,
        identity,
        ...external,
      }),
    );
  }

  private timeOutRun(run: Run): void {
    if (run.status !== RUNNING) return;
    run.held = [];
    this.appendEvent(run, 'WORKFLOW_EXECUTION_TIMED_OUT', 'workflowExecutionTimedOutEventAttributes', { retryState: 'RETRY_STATE_TIMEOUT' });
    this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT', { retryState: 'RETRY_STATE_TIMEOUT' });
  }

  /** Everything that happens when a run leaves RUNNING, whatever the reason. */
  private closeRun(run: Run, status: Status, outcome: Msg): void {
    run.status = status;
    compactHistory(run);
    run.closeTime = this.clock.now();
    run.runTimer?.cancel();
    this.setWft(run, null);
    run.held = [];
    for (const t of run.timers.values()) t.handle.cancel();
    run.timers.clear();
    for (const a of run.activities.values()) this.dropActivity(run, a);
    run.activities.clear();
    for (const q of run.queries) if (q.state === 'attached') q.state = 'waiting';
    this.flushQueries(run);
    for (const l of [...run.listeners]) l();
    this.applyParentClosePolicy(run);
    if (run.parent && status !== 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW') this.notifyParent(run, status, outcome);
  }

  // ------------------------------------------------------------------ workflow tasks

  pollWorkflowTaskQueue(req: Msg, ctx: CallContext): Promise<Msg> | Msg {
    const ns = this.ns(req['namespace']);
    const tqName = requireString(req['taskQueue']?.['name'], 'TaskQueue');
    const identity = String(req['identity'] ?? '');
    const workerKey = String(req['workerInstanceKey'] || identity);
    const tq = this.taskQueue(ns, tqName);
    const immediate = this.takeWorkflowTask(tq, identity);
    if (immediate) return immediate;
    return this.park(ctx, workerKey, (deliver) => {
      tq.workflowPollers.push({ identity, ctx, deliver });
      return () => removeFrom(tq.workflowPollers, deliver);
    });
  }

  pollActivityTaskQueue(req: Msg, ctx: CallContext): Promise<Msg> | Msg {
    const ns = this.ns(req['namespace']);
    const tqName = requireString(req['taskQueue']?.['name'], 'TaskQueue');
    const identity = String(req['identity'] ?? '');
    const tq = this.taskQueue(ns, tqName);
    const immediate = this.takeActivityTask(tq, identity);
    if (immediate) return immediate;
    return this.park(ctx, String(req['workerInstanceKey'] || identity), (deliver) => {
      tq.activityPollers.push({ identity, ctx, deliver });
      return () => removeFrom(tq.activityPollers, deliver);
    });
  }

  /** Holds a long poll until a task is delivered, the caller cancels, or the poll expires. */
  private park(ctx: CallContext, workerKey: string, register: (deliver: (res: Msg) => void) => (() => void) | undefined): Promise<Msg> {
    return new Promise((resolve) => {
      let done = false;
      let polls = this.pollsByWorker.get(workerKey);
      if (!polls) {
        polls = new Set();
        this.pollsByWorker.set(workerKey, polls);
      }
      const finish = (res: Msg): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unregister?.();
        polls.delete(finish);
        if (polls.size === 0 && this.pollsByWorker.get(workerKey) === polls) this.pollsByWorker.delete(workerKey);
        resolve(res);
      };
      polls.add(finish);
      const timer = setTimeout(() => finish({}), this.longPollMs);
      const unregister = register(finish);
      ctx.onCancel(() => finish({}));
    });
  }

  private dispatchWorkflowTasks(tq: TaskQueueState): void {
    while (tq.workflowTasks.length > 0 && tq.workflowPollers.length > 0) {
      const poller = tq.workflowPollers.shift()!;
      if (poller.ctx.cancelled) continue;
      const res = this.takeWorkflowTask(tq, poller.identity);
      if (!res) {
        tq.workflowPollers.unshift(poller);
        return;
      }
      poller.deliver(res);
    }
  }

  private dispatchActivityTasks(tq: TaskQueueState): void {
    while (tq.activityTasks.length > 0 && tq.activityPollers.length > 0) {
      const poller = tq.activityPollers.shift()!;
      if (poller.ctx.cancelled) continue;
      const res = this.takeActivityTask(tq, poller.identity);
      if (!res) {
        tq.activityPollers.unshift(poller);
        return;
      }
      poller.deliver(res);
    }
  }

  private takeWorkflowTask(tq: TaskQueueState, identity: string): Msg | undefined {
    for (;;) {
      const item = tq.workflowTasks.shift();
      if (!item) return undefined;
      const run = item.run;
      if ('query' in item) {
        if (item.query.state !== 'dispatched' || !this.pendingQueries.has(item.query.id)) continue;
        return this.legacyQueryResponse(run, item.query);
      }
      const wft = run.wft;
      if (run.status !== RUNNING || !wft || wft.scheduledEventId !== item.scheduledEventId || wft.startedEventId !== undefined || wft.queue !== item.queue) continue;
      return this.startWorkflowTask(run, identity);
    }
  }

  private startWorkflowTask(run: Run, identity: string): Msg {
    const wft = run.wft!;
    const startedEventId = this.appendEvent(run, 'WORKFLOW_TASK_STARTED', 'workflowTaskStartedEventAttributes', {
      scheduledEventId: wft.scheduledEventId,
      identity,
      requestId: randomUUID(),
      historySizeBytes: run.historyBytes,
    });
    wft.startedEventId = startedEventId;
    wft.startedTime = this.clock.now();
    wft.fallback?.cancel();
    // A sticky worker has the run cached: it gets only the events after its last task.
    const events = wft.queue !== run.taskQueue && run.lastStartedEventId > 0 ? run.history.slice(run.lastStartedEventId) : run.history;
    const token: Token = { k: 'w', ns: run.ns.name, r: run.runId, s: wft.scheduledEventId, a: wft.attempt };
    wft.token = JSON.stringify(token);
    wft.timeout = this.clock.after(run.wftTimeoutMs, () => this.timeOutWorkflowTask(run, wft));
    const queries: Record<string, Msg> = {};
    for (const q of run.queries) {
      if (q.state === 'waiting') {
        q.state = 'attached';
        queries[q.id] = q.query;
      }
    }
    return {
      taskToken: encodeToken(token),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.lastStartedEventId,
      startedEventId,
      attempt: wft.attempt,
      [RAW_HISTORY]: events,
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      scheduledTime: toTimestamp(wft.scheduledTime),
      startedTime: toTimestamp(wft.startedTime),
      queries,
      messages: [],
    };
  }

  private timeOutWorkflowTask(run: Run, wft: WorkflowTask): void {
    if (run.wft !== wft || run.status !== RUNNING) return;
    this.appendEvent(run, 'WORKFLOW_TASK_TIMED_OUT', 'workflowTaskTimedOutEventAttributes', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE',
    });
    run.wftAttempt = wft.attempt + 1;
    run.sticky = undefined;
    this.finishWft(run, true);
  }

  private workflowTaskFor(token: Token): { run: Run; wft: WorkflowTask } {
    if (token.k !== 'w') throw notFound('Task token does not belong to a workflow task.');
    const ns = this.ns(token.ns);
    const run = ns.runs.get(token.r);
    if (!run || run.status !== RUNNING) throw notFound('Workflow execution already completed.');
    const wft = run.wft;
    if (!wft || wft.startedEventId === undefined || wft.scheduledEventId !== token.s || wft.attempt !== token.a) {
      throw notFound('Workflow task not found.');
    }
    return { run, wft };
  }

  respondWorkflowTaskFailed(req: Msg): Msg {
    const { run, wft } = this.workflowTaskFor(decodeToken(req['taskToken']));
    this.appendEvent(run, 'WORKFLOW_TASK_FAILED', 'workflowTaskFailedEventAttributes', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      cause: req['cause'] ?? 'WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED',
      failure: req['failure'],
      identity: req['identity'] ?? '',
      binaryChecksum: req['binaryChecksum'] ?? '',
    });
    run.wftAttempt = wft.attempt + 1;
    run.sticky = undefined;
    this.finishWft(run, true);
    return {};
  }

  respondWorkflowTaskCompleted(req: Msg): Msg {
    const { run, wft } = this.workflowTaskFor(decodeToken(req['taskToken']));
    const commands = (req['commands'] ?? []) as Msg[];
    this.answerAttachedQueries(run, (req['queryResults'] ?? {}) as Record<string, Msg>);
    for (const [i, c] of commands.entries()) this.validateCommand(run, c, i);
    if (run.held.length > 0 && commands.some((c) => this.conflictsWithHeld(run, c))) {
      this.appendEvent(run, 'WORKFLOW_TASK_FAILED', 'workflowTaskFailedEventAttributes', {
        scheduledEventId: wft.scheduledEventId,
        startedEventId: wft.startedEventId,
        cause: 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND',
        failure: { message: 'UnhandledCommand', applicationFailureInfo: { type: 'UnhandledCommand' } },
        identity: req['identity'] ?? '',
      });
      run.wftAttempt = 1;
      // The core evicts the run on this answer, so its sticky cache no longer has it.
      run.sticky = undefined;
      this.finishWft(run, true);
      throw invalidArgument('UnhandledCommand');
    }
    const completedEventId = this.appendEvent(run, 'WORKFLOW_TASK_COMPLETED', 'workflowTaskCompletedEventAttributes', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      identity: req['identity'] ?? '',
      binaryChecksum: req['binaryChecksum'] ?? '',
      sdkMetadata: req['sdkMetadata'],
      meteringMetadata: req['meteringMetadata'],
      workerVersion: req['workerVersionStamp'],
    });
    run.lastStartedEventId = wft.startedEventId!;
    run.wftAttempt = 1;
    const stickyQueue = req['stickyAttributes']?.['workerTaskQueue']?.['name'] as string | undefined;
    run.sticky = stickyQueue
      ? { name: stickyQueue, scheduleToStartMs: durationMs(req['stickyAttributes']['scheduleToStartTimeout'] as Msg | undefined) || 5000 }
      : undefined;
    const after: Array<() => void> = [];
    let forceNew = req['forceCreateNewWorkflowTask'] === true;
    for (const command of commands) {
      if (run.status !== RUNNING) break;
      if (this.applyCommand(run, command, completedEventId, after)) forceNew = true;
    }
    if (run.status === RUNNING) this.finishWft(run, forceNew);
    for (const fn of after) fn();
    return {};
  }

  private validateCommand(run: Run, c: Msg, index: number): void {
    const type = c['commandType'] as string | undefined;
    const where = `commands[${index}]`;
    if (!type || type === 'COMMAND_TYPE_UNSPECIFIED') throw invalidArgument(`${where}: commandType is not set.`);
    if (type === 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK') {
      const a = c['scheduleActivityTaskCommandAttributes'] as Msg | undefined;
      requireString(a?.['activityId'], `${where}.activityId`);
      requireString(a?.['activityType']?.['name'], `${where}.activityType`);
      if (durationMs(a?.['startToCloseTimeout']) <= 0 && durationMs(a?.['scheduleToCloseTimeout']) <= 0) {
        throw invalidArgument(`${where}: A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.`);
      }
      this.checkPayloads(a?.['input'] as Msg | undefined, `${where}.input`);
    } else if (type === 'COMMAND_TYPE_START_TIMER') {
      const a = c['startTimerCommandAttributes'] as Msg | undefined;
      const timerId = requireString(a?.['timerId'], `${where}.timerId`);
      if (run.timers.has(timerId)) throw invalidArgument(`${where}: timer ${timerId} is already started.`);
    } else if (type === 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION') {
      this.checkPayloads(c['completeWorkflowExecutionCommandAttributes']?.['result'] as Msg | undefined, `${where}.result`);
    } else if (type === 'COMMAND_TYPE_PROTOCOL_MESSAGE') {
      throw invalidArgument(`${where}: workflow updates are not supported by the in-memory test server.`);
    } else if (type === 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES') {
      this.checkSearchAttributes(run.ns, c['upsertWorkflowSearchAttributesCommandAttributes']?.['searchAttributes'] as Msg | undefined);
    }
  }

  /**
   * True when a command cannot be applied on top of events held during the task: closing the
   * run would lose them, and cancelling something that already finished has nothing to act on.
   */
  private conflictsWithHeld(run: Run, c: Msg): boolean {
    const type = c['commandType'] as string;
    if (TERMINAL_COMMANDS.has(type)) return true;
    if (type === 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK') {
      return !run.activities.has(Number(c['requestCancelActivityTaskCommandAttributes']?.['scheduledEventId']));
    }
    if (type === 'COMMAND_TYPE_CANCEL_TIMER') return !run.timers.has(String(c['cancelTimerCommandAttributes']?.['timerId']));
    return false;
  }

  /** Applies one command; returns true when it requires a new workflow task right away. */
  private applyCommand(run: Run, c: Msg, wftCompletedId: number, after: Array<() => void>): boolean {
    const type = c['commandType'] as string;
    const meta = c['userMetadata'] ? { userMetadata: c['userMetadata'] } : undefined;
    switch (type) {
      case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK':
        this.scheduleActivity(run, c['scheduleActivityTaskCommandAttributes'] as Msg, wftCompletedId, meta, after);
        return false;
      case 'COMMAND_TYPE_START_TIMER': {
        const a = c['startTimerCommandAttributes'] as Msg;
        const timerId = String(a['timerId']);
        const startedEventId = this.appendEvent(run, 'TIMER_STARTED', 'timerStartedEventAttributes', {
          timerId,
          startToFireTimeout: a['startToFireTimeout'],
          workflowTaskCompletedEventId: wftCompletedId,
        }, meta);
        const handle = this.clock.after(durationMs(a['startToFireTimeout'] as Msg), () => {
          if (!run.timers.delete(timerId)) return;
          this.addExternal(run, () => this.appendEvent(run, 'TIMER_FIRED', 'timerFiredEventAttributes', { timerId, startedEventId }));
        });
        run.timers.set(timerId, { startedEventId, handle });
        return false;
      }
      case 'COMMAND_TYPE_CANCEL_TIMER': {
        const timerId = String(c['cancelTimerCommandAttributes']?.['timerId']);
        const timer = run.timers.get(timerId);
        if (!timer) return false;
        timer.handle.cancel();
        run.timers.delete(timerId);
        this.appendEvent(run, 'TIMER_CANCELED', 'timerCanceledEventAttributes', {
          timerId,
          startedEventId: timer.startedEventId,
          workflowTaskCompletedEventId: wftCompletedId,
          identity: '',
        });
        return false;
      }
      case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
        return this.requestCancelActivity(run, Number(c['requestCancelActivityTaskCommandAttributes']?.['scheduledEventId']), wftCompletedId);
      case 'COMMAND_TYPE_RECORD_MARKER': {
        const a = c['recordMarkerCommandAttributes'] as Msg;
        this.appendEvent(run, 'MARKER_RECORDED', 'markerRecordedEventAttributes', {
          markerName: a['markerName'],
          details: a['details'],
          header: a['header'],
          failure: a['failure'],
          workflowTaskCompletedEventId: wftCompletedId,
        }, meta);
        return false;
      }
      case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        const sa = c['upsertWorkflowSearchAttributesCommandAttributes']?.['searchAttributes'] as Msg | undefined;
        this.appendEvent(run, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'upsertWorkflowSearchAttributesEventAttributes', {
          searchAttributes: sa,
          workflowTaskCompletedEventId: wftCompletedId,
        });
        for (const [k, v] of Object.entries((sa?.['indexedFields'] ?? {}) as Record<string, Msg>)) {
          const decoded = decodeJsonPayload(v);
          if (decoded === null || (Array.isArray(decoded) && decoded.length === 0)) delete run.searchAttributes[k];
          else run.searchAttributes[k] = detach(v);
        }
        return false;
      }
      case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES': {
        const memo = c['modifyWorkflowPropertiesCommandAttributes']?.['upsertedMemo'] as Msg | undefined;
        this.appendEvent(run, 'WORKFLOW_PROPERTIES_MODIFIED', 'workflowPropertiesModifiedEventAttributes', {
          upsertedMemo: memo,
          workflowTaskCompletedEventId: wftCompletedId,
        });
        for (const [k, v] of Object.entries((memo?.['fields'] ?? {}) as Record<string, Msg>)) {
          if (decodeJsonPayload(v) === null) delete run.memo[k];
          else run.memo[k] = detach(v);
        }
        return false;
      }
      case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION': {
        const result = c['completeWorkflowExecutionCommandAttributes']?.['result'] as Msg | undefined;
        this.appendEvent(run, 'WORKFLOW_EXECUTION_COMPLETED', 'workflowExecutionCompletedEventAttributes', { result, workflowTaskCompletedEventId: wftCompletedId });
        this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_COMPLETED', { result });
        return false;
      }
      case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION': {
        const failure = c['failWorkflowExecutionCommandAttributes']?.['failure'] as Msg | undefined;
        this.appendEvent(run, 'WORKFLOW_EXECUTION_FAILED', 'workflowExecutionFailedEventAttributes', {
          failure,
          retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET',
          workflowTaskCompletedEventId: wftCompletedId,
        });
        this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_FAILED', { failure, retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET' });
        return false;
      }
      case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION': {
        const details = c['cancelWorkflowExecutionCommandAttributes']?.['details'] as Msg | undefined;
        this.appendEvent(run, 'WORKFLOW_EXECUTION_CANCELED', 'workflowExecutionCanceledEventAttributes', { details, workflowTaskCompletedEventId: wftCompletedId });
        this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_CANCELED', { details });
        return false;
      }
      case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
        this.continueAsNew(run, c['continueAsNewWorkflowExecutionCommandAttributes'] as Msg, wftCompletedId);
        return false;
      case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION':
        this.initiateChild(run, c['startChildWorkflowExecutionCommandAttributes'] as Msg, wftCompletedId, meta, after);
        return false;
      case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
        this.signalExternal(run, c['signalExternalWorkflowExecutionCommandAttributes'] as Msg, wftCompletedId, after);
        return false;
      case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
        this.cancelExternal(run, c['requestCancelExternalWorkflowExecutionCommandAttributes'] as Msg, wftCompletedId, after);
        return false;
      default:
        throw invalidArgument(`${type} is not supported by the in-memory test server.`);
    }
  }

  private continueAsNew(run: Run, a: Msg, wftCompletedId: number): void {
    const newRunId = randomUUID();
    const workflowType = String(a['workflowType']?.['name'] || run.workflowType);
    const taskQueue = String(a['taskQueue']?.['name'] || run.taskQueue);
    const runTimeoutMs = durationMs(a['workflowRunTimeout'] as Msg | undefined) || run.runTimeoutMs;
    const wftTimeoutMs = durationMs(a['workflowTaskTimeout'] as Msg | undefined) || run.wftTimeoutMs;
    this.appendEvent(run, 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW', 'workflowExecutionContinuedAsNewEventAttributes', {
      newExecutionRunId: newRunId,
      workflowType: { name: workflowType },
      taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      input: a['input'],
      workflowRunTimeout: toDuration(runTimeoutMs),
      workflowTaskTimeout: toDuration(wftTimeoutMs),
      workflowTaskCompletedEventId: wftCompletedId,
      backoffStartInterval: a['backoffStartInterval'],
      initiator: a['initiator'] ?? 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
      failure: a['failure'],
      lastCompletionResult: a['lastCompletionResult'],
      header: a['header'],
      memo: a['memo'],
      searchAttributes: a['searchAttributes'],
    });
    run.nextRunId = newRunId;
    const parent = run.parent;
    const memo = a['memo'] ?? { fields: run.memo };
    const searchAttributes = a['searchAttributes'] ?? { indexedFields: run.searchAttributes };
    this.closeRun(run, 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW', {});
    this.newRun(run.ns, {
      workflowId: run.workflowId,
      workflowType,
      taskQueue,
      input: a['input'] as Msg | undefined,
      header: a['header'] as Msg | undefined,
      memo: memo as Msg,
      searchAttributes: searchAttributes as Msg,
      requestId: randomUUID(),
      runTimeoutMs,
      executionTimeoutMs: run.executionTimeoutMs,
      wftTimeoutMs,
      firstRunId: run.firstRunId,
      continuedFromRunId: run.runId,
      initiator: (a['initiator'] as string | undefined) ?? 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
      lastCompletionResult: a['lastCompletionResult'] as Msg | undefined,
      continuedFailure: a['failure'] as Msg | undefined,
      ...(parent ? { parent } : {}),
      runId: newRunId,
    });
    if (parent) {
      const parentRun = this.namespaces.get(parent.ns)?.runs.get(parent.runId);
      const ref = parentRun?.children.get(parent.initiatedEventId);
      if (ref) ref.runId = newRunId;
    }
  }

  // ------------------------------------------------------------------ activities

  private scheduleActivity(run: Run, a: Msg, wftCompletedId: number, meta: Msg | undefined, after: Array<() => void>): void {
    const runTimeout = run.runTimeoutMs || run.executionTimeoutMs;
    let s2c = durationMs(a['scheduleToCloseTimeout'] as Msg | undefined);
    let s2s = durationMs(a['scheduleToStartTimeout'] as Msg | undefined);
    let stc = durationMs(a['startToCloseTimeout'] as Msg | undefined);
    const hb = durationMs(a['heartbeatTimeout'] as Msg | undefined);
    if (s2c <= 0 || (runTimeout > 0 && s2c > runTimeout)) s2c = runTimeout;
    if (stc <= 0) stc = s2c;
    if (s2c > 0) {
      if (s2s <= 0 || s2s > s2c) s2s = s2c;
      if (stc > s2c) stc = s2c;
    }
    const rp = (a['retryPolicy'] ?? {}) as Msg;
    const initialMs = durationMs(rp['initialInterval'] as Msg | undefined) || 1000;
    const retry = {
      initialMs,
      coefficient: Number(rp['backoffCoefficient'] ?? 0) || 2,
      maxMs: durationMs(rp['maximumInterval'] as Msg | undefined) || initialMs * 100,
      maxAttempts: Number(rp['maximumAttempts'] ?? 0),
      nonRetryable: (rp['nonRetryableErrorTypes'] ?? []) as string[],
    };
    const taskQueue = String(a['taskQueue']?.['name'] || run.taskQueue);
    const attrs: Msg = {
      activityId: a['activityId'],
      activityType: a['activityType'],
      taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      header: a['header'],
      input: a['input'],
      scheduleToCloseTimeout: toDuration(s2c),
      scheduleToStartTimeout: toDuration(s2s),
      startToCloseTimeout: toDuration(stc),
      heartbeatTimeout: toDuration(hb),
      workflowTaskCompletedEventId: wftCompletedId,
      retryPolicy: {
        initialInterval: toDuration(retry.initialMs),
        backoffCoefficient: retry.coefficient,
        maximumInterval: toDuration(retry.maxMs),
        maximumAttempts: retry.maxAttempts,
        nonRetryableErrorTypes: retry.nonRetryable,
      },
      priority: a['priority'],
    };
    const scheduledEventId = this.appendEvent(run, 'ACTIVITY_TASK_SCHEDULED', 'activityTaskScheduledEventAttributes', attrs, meta);
    const now = this.clock.now();
    const act: Activity = {
      scheduledEventId,
      activityId: String(a['activityId']),
      activityType: String(a['activityType']['name']),
      taskQueue,
      attrs,
      attempt: 1,
      phase: 'backoff',
      firstScheduledTime: now,
      attemptScheduledTime: now,
      cancelRequested: false,
      attemptTimers: [],
      s2cMs: s2c,
      s2sMs: s2s,
      stcMs: stc,
      hbMs: hb,
      retry,
    };
    run.activities.set(scheduledEventId, act);
    if (s2c > 0) act.closeTimer = this.clock.after(s2c, () => this.timeOutActivity(run, act, 'TIMEOUT_TYPE_SCHEDULE_TO_CLOSE'));
    // Enqueued after the task completes, so a fast worker never sees an activity whose
    // scheduling task has not been recorded yet.
    after.push(() => this.enqueueActivityAttempt(run, act));
  }

  private setPhase(act: Activity, phase: Activity['phase'] | 'gone'): void {
    const busy = (p: string): boolean => p === 'scheduled' || p === 'started';
    if (busy(act.phase) && !busy(phase)) this.outstandingActivities--;
    if (!busy(act.phase) && busy(phase)) this.outstandingActivities++;
    act.phase = phase === 'gone' ? 'backoff' : phase;
    this.clock.poke();
  }

  private enqueueActivityAttempt(run: Run, act: Activity): void {
    if (run.status !== RUNNING || run.activities.get(act.scheduledEventId) !== act) return;
    this.setPhase(act, 'scheduled');
    act.attemptScheduledTime = this.clock.now();
    for (const t of act.attemptTimers) t.cancel();
    act.attemptTimers = [];
    if (act.s2sMs > 0) {
      const attempt = act.attempt;
      act.attemptTimers.push(
        this.clock.after(act.s2sMs, () => {
          if (act.phase === 'scheduled' && act.attempt === attempt) this.timeOutActivity(run, act, 'TIMEOUT_TYPE_SCHEDULE_TO_START');
        }),
      );
    }
    const tq = this.taskQueue(run.ns, act.taskQueue);
    tq.activityTasks.push({ run, scheduledEventId: act.scheduledEventId, attempt: act.attempt });
    this.dispatchActivityTasks(tq);
  }

  private takeActivityTask(tq: TaskQueueState, identity: string): Msg | undefined {
    for (;;) {
      const item = tq.activityTasks.shift();
      if (!item) return undefined;
      const run = item.run;
      const act = run.activities.get(item.scheduledEventId);
      if (run.status !== RUNNING || !act || act.phase !== 'scheduled' || act.attempt !== item.attempt) continue;
      return this.startActivity(run, act, identity);
    }
  }

  private startActivity(run: Run, act: Activity, identity: string): Msg {
    this.setPhase(act, 'started');
    const now = this.clock.now();
    act.startedTime = now;
    act.startedIdentity = identity;
    const token: Token = { k: 'a', ns: run.ns.name, r: run.runId, s: act.scheduledEventId, a: act.attempt };
    act.token = JSON.stringify(token);
    for (const t of act.attemptTimers) t.cancel();
    act.attemptTimers = [];
    const attempt = act.attempt;
    if (act.stcMs > 0) {
      act.attemptTimers.push(
        this.clock.after(act.stcMs, () => {
          if (act.phase === 'started' && act.attempt === attempt) this.timeOutActivity(run, act, 'TIMEOUT_TYPE_START_TO_CLOSE');
        }),
      );
    }
    this.armHeartbeatTimer(run, act);
    return {
      taskToken: encodeToken(token),
      workflowNamespace: run.ns.name,
      workflowType: { name: run.workflowType },
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      activityType: act.attrs['activityType'],
      activityId: act.activityId,
      header: act.attrs['header'],
      input: act.attrs['input'],
      heartbeatDetails: act.heartbeatDetails,
      scheduledTime: toTimestamp(act.firstScheduledTime),
      currentAttemptScheduledTime: toTimestamp(act.attemptScheduledTime),
      startedTime: toTimestamp(now),
      attempt: act.attempt,
      scheduleToCloseTimeout: act.attrs['scheduleToCloseTimeout'],
      startToCloseTimeout: act.attrs['startToCloseTimeout'],
      heartbeatTimeout: act.attrs['heartbeatTimeout'],
      retryPolicy: act.attrs['retryPolicy'],
      priority: act.attrs['priority'],
    };
  }

  private heartbeatTimer: WeakMap<Activity, TimerHandle> = new WeakMap();

  private armHeartbeatTimer(run: Run, act: Activity): void {
    this.heartbeatTimer.get(act)?.cancel();
    if (act.hbMs <= 0) return;
    const attempt = act.attempt;
    this.heartbeatTimer.set(
      act,
      this.clock.after(act.hbMs, () => {
        if (act.phase === 'started' && act.attempt === attempt) this.timeOutActivity(run, act, 'TIMEOUT_TYPE_HEARTBEAT');
      }),
    );
  }

  private activityFor(token: Token): { run: Run; act: Activity } {
    if (token.k !== 'a') throw notFound('Task token does not belong to an activity task.');
    const ns = this.ns(token.ns);
    const run = ns.runs.get(token.r);
    if (!run || run.status !== RUNNING) throw notFound('Workflow execution already completed.');
    const act = run.activities.get(token.s);
    if (!act || act.phase !== 'started' || act.attempt !== token.a) throw notFound('Activity task not found.');
    return { run, act };
  }

  private activityById(req: Msg): { run: Run; act: Activity } {
    const ns = this.ns(req['namespace']);
    const run = this.openRun(ns, { workflowId: req['workflowId'], runId: req['runId'] });
    const activityId = requireString(req['activityId'], 'ActivityId');
    const act = [...run.activities.values()].find((a) => a.activityId === activityId);
    if (!act || act.phase !== 'started') throw notFound('Activity task not found.');
    return { run, act };
  }

  private dropActivity(run: Run, act: Activity): void {
    for (const t of act.attemptTimers) t.cancel();
    act.attemptTimers = [];
    act.closeTimer?.cancel();
    this.heartbeatTimer.get(act)?.cancel();
    this.setPhase(act, 'gone');
    run.activities.delete(act.scheduledEventId);
  }

  /** Records the activity's final outcome: ActivityTaskStarted (if it ran) then `type`. */
  private closeActivity(run: Run, act: Activity, type: string, field: string, attrs: Msg): void {
    const wasStarted = act.phase === 'started';
    const identity = act.startedIdentity ?? '';
    const attempt = act.attempt;
    const lastFailure = act.lastFailure;
    this.dropActivity(run, act);
    this.addExternal(run, () => {
      let startedEventId = 0;
      if (wasStarted) {
        startedEventId = this.appendEvent(run, 'ACTIVITY_TASK_STARTED', 'activityTaskStartedEventAttributes', {
          scheduledEventId: act.scheduledEventId,
          identity,
          requestId: randomUUID(),
          attempt,
          lastFailure,
        });
      }
      this.appendEvent(run, type, field, { ...attrs, scheduledEventId: act.scheduledEventId, startedEventId });
    });
  }

  /** Either schedules the next attempt (returning true) or leaves the decision to the caller. */
  private retryActivity(run: Run, act: Activity, failure: Msg): { retried: true } | { retried: false; retryState: string } {
    const info = failure['applicationFailureInfo'] as Msg | undefined;
    if (info?.['nonRetryable'] || (info && act.retry.nonRetryable.includes(String(info['type'])))) {
      return { retried: false, retryState: 'RETRY_STATE_NON_RETRYABLE_FAILURE' };
    }
    if (act.retry.maxAttempts > 0 && act.attempt >= act.retry.maxAttempts) {
      return { retried: false, retryState: 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' };
    }
    const explicit = durationMs(info?.['nextRetryDelay'] as Msg | undefined);
    const delay = explicit || Math.min(act.retry.initialMs * Math.pow(act.retry.coefficient, act.attempt - 1), act.retry.maxMs);
    const now = this.clock.now();
    if (act.s2cMs > 0 && now + delay >= act.firstScheduledTime + act.s2cMs) return { retried: false, retryState: 'RETRY_STATE_TIMEOUT' };
    if (act.cancelRequested) return { retried: false, retryState: 'RETRY_STATE_CANCEL_REQUESTED' };
    act.lastFailure = failure;
    act.attempt++;
    for (const t of act.attemptTimers) t.cancel();
    this.heartbeatTimer.get(act)?.cancel();
    this.setPhase(act, 'backoff');
    act.attemptTimers = [this.clock.after(delay, () => this.enqueueActivityAttempt(run, act))];
    return { retried: true };
  }

  private timeOutActivity(run: Run, act: Activity, timeoutType: string): void {
    if (run.status !== RUNNING || run.activities.get(act.scheduledEventId) !== act) return;
    const failure: Msg = {
      message: `activity ${timeoutType.replace('TIMEOUT_TYPE_', '').replace(/_/g, '').toLowerCase()} timeout`,
      timeoutFailureInfo: { timeoutType, lastHeartbeatDetails: act.heartbeatDetails },
    };
    if (timeoutType === 'TIMEOUT_TYPE_START_TO_CLOSE' || timeoutType === 'TIMEOUT_TYPE_HEARTBEAT') {
      if (this.retryActivity(run, act, failure).retried) return;
    }
    const retryState = timeoutType === 'TIMEOUT_TYPE_SCHEDULE_TO_CLOSE' || timeoutType === 'TIMEOUT_TYPE_SCHEDULE_TO_START' ? 'RETRY_STATE_NON_RETRYABLE_FAILURE' : 'RETRY_STATE_TIMEOUT';
    const withCause = act.lastFailure ? { ...failure, cause: act.lastFailure } : failure;
    this.closeActivity(run, act, 'ACTIVITY_TASK_TIMED_OUT', 'activityTaskTimedOutEventAttributes', { failure: withCause, retryState });
  }

  recordActivityTaskHeartbeat(req: Msg): Msg {
    return this.heartbeat(this.activityFor(decodeToken(req['taskToken'])), req);
  }

  recordActivityTaskHeartbeatById(req: Msg): Msg {
    return this.heartbeat(this.activityById(req), req);
  }

  private heartbeat({ run, act }: { run: Run; act: Activity }, req: Msg): Msg {
    this.checkPayloads(req['details'] as Msg | undefined, 'details');
    if (req['details']) act.heartbeatDetails = req['details'] as Msg;
    act.lastHeartbeatTime = this.clock.now();
    this.armHeartbeatTimer(run, act);
    return { cancelRequested: act.cancelRequested, activityPaused: false, activityReset: false };
  }

  respondActivityTaskCompleted(req: Msg): Msg {
    return this.activityCompleted(this.activityFor(decodeToken(req['taskToken'])), req);
  }

  respondActivityTaskCompletedById(req: Msg): Msg {
    return this.activityCompleted(this.activityById(req), req);
  }

  private activityCompleted({ run, act }: { run: Run; act: Activity }, req: Msg): Msg {
    this.checkPayloads(req['result'] as Msg | undefined, 'result');
    this.closeActivity(run, act, 'ACTIVITY_TASK_COMPLETED', 'activityTaskCompletedEventAttributes', {
      result: req['result'],
      identity: req['identity'] ?? act.startedIdentity ?? '',
    });
    return {};
  }

  respondActivityTaskFailed(req: Msg): Msg {
    return this.activityFailed(this.activityFor(decodeToken(req['taskToken'])), req);
  }

  respondActivityTaskFailedById(req: Msg): Msg {
    return this.activityFailed(this.activityById(req), req);
  }

  private activityFailed({ run, act }: { run: Run; act: Activity }, req: Msg): Msg {
    const failure = (req['failure'] ?? { message: 'activity failed' }) as Msg;
    if (req['lastHeartbeatDetails']) act.heartbeatDetails = req['lastHeartbeatDetails'] as Msg;
    const decision = this.retryActivity(run, act, failure);
    if (!decision.retried) {
      this.closeActivity(run, act, 'ACTIVITY_TASK_FAILED', 'activityTaskFailedEventAttributes', {
        failure,
        identity: req['identity'] ?? '',
        retryState: decision.retryState,
      });
    }
    return { failures: [] };
  }

  respondActivityTaskCanceled(req: Msg): Msg {
    return this.activityCanceled(this.activityFor(decodeToken(req['taskToken'])), req);
  }

  respondActivityTaskCanceledById(req: Msg): Msg {
    return this.activityCanceled(this.activityById(req), req);
  }

  private activityCanceled({ run, act }: { run: Run; act: Activity }, req: Msg): Msg {
    this.closeActivity(run, act, 'ACTIVITY_TASK_CANCELED', 'activityTaskCanceledEventAttributes', {
      details: req['details'],
      latestCancelRequestedEventId: act.cancelRequestedEventId ?? 0,
      identity: req['identity'] ?? '',
    });
    return {};
  }

  private requestCancelActivity(run: Run, scheduledEventId: number, wftCompletedId: number): boolean {
    const act = run.activities.get(scheduledEventId);
    if (!act) return false;
    act.cancelRequestedEventId = this.appendEvent(run, 'ACTIVITY_TASK_CANCEL_REQUESTED', 'activityTaskCancelRequestedEventAttributes', {
      scheduledEventId,
      workflowTaskCompletedEventId: wftCompletedId,
    });
    act.cancelRequested = true;
    if (act.phase === 'started') return false;
    // Never handed to a worker: nothing to wait for, the cancellation is immediate.
    this.dropActivity(run, act);
    this.appendEvent(run, 'ACTIVITY_TASK_CANCELED', 'activityTaskCanceledEventAttributes', {
      latestCancelRequestedEventId: act.cancelRequestedEventId,
      scheduledEventId,
      startedEventId: 0,
      identity: '',
    });
    return true;
  }

  // ------------------------------------------------------------------ children & external

  private initiateChild(run: Run, a: Msg, wftCompletedId: number, meta: Msg | undefined, after: Array<() => void>): void {
    const namespace = String(a['namespace'] || run.ns.name);
    const workflowId = String(a['workflowId']);
    const workflowType = String(a['workflowType']?.['name']);
    const parentClosePolicy = String(a['parentClosePolicy'] ?? 'PARENT_CLOSE_POLICY_TERMINATE');
    const initiatedEventId = this.appendEvent(run, 'START_CHILD_WORKFLOW_EXECUTION_INITIATED', 'startChildWorkflowExecutionInitiatedEventAttributes', {
      ...a,
      namespace,
      workflowTaskCompletedEventId: wftCompletedId,
    }, meta);
    const ref: ChildRef = { initiatedEventId, workflowId, workflowType, namespace, parentClosePolicy };
    run.children.set(initiatedEventId, ref);
    after.push(() => {
      if (run.status !== RUNNING) return;
      const ns = this.namespaces.get(namespace);
      const existing = ns ? this.currentRun(ns, workflowId) : undefined;
      if (!ns || existing?.status === RUNNING) {
        run.children.delete(initiatedEventId);
        this.addExternal(run, () =>
          this.appendEvent(run, 'START_CHILD_WORKFLOW_EXECUTION_FAILED', 'startChildWorkflowExecutionFailedEventAttributes', {
            namespace,
            workflowId,
            workflowType: { name: workflowType },
            cause: 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS',
            control: a['control'] ?? '',
            initiatedEventId,
            workflowTaskCompletedEventId: wftCompletedId,
          }),
        );
        return;
      }
      const child = this.newRun(ns, {
        workflowId,
        workflowType,
        taskQueue: String(a['taskQueue']?.['name'] || run.taskQueue),
        input: a['input'] as Msg | undefined,
        header: a['header'] as Msg | undefined,
        memo: a['memo'] as Msg | undefined,
        searchAttributes: a['searchAttributes'] as Msg | undefined,
        requestId: randomUUID(),
        runTimeoutMs: durationMs(a['workflowRunTimeout'] as Msg | undefined),
        executionTimeoutMs: durationMs(a['workflowExecutionTimeout'] as Msg | undefined),
        wftTimeoutMs: durationMs(a['workflowTaskTimeout'] as Msg | undefined),
        retryPolicy: a['retryPolicy'] as Msg | undefined,
        parent: { ns: run.ns.name, workflowId: run.workflowId, runId: run.runId, initiatedEventId },
      });
      ref.runId = child.runId;
      this.addExternal(run, () => {
        ref.startedEventId = this.appendEvent(run, 'CHILD_WORKFLOW_EXECUTION_STARTED', 'childWorkflowExecutionStartedEventAttributes', {
          namespace,
          initiatedEventId,
          workflowExecution: { workflowId, runId: child.runId },
          workflowType: { name: workflowType },
          header: a['header'],
        });
      });
    });
  }

  private notifyParent(child: Run, status: Status, outcome: Msg): void {
    const p = child.parent!;
    const parent = this.namespaces.get(p.ns)?.runs.get(p.runId);
    if (!parent || parent.status !== RUNNING) return;
    const ref = parent.children.get(p.initiatedEventId);
    if (!ref) return;
    parent.children.delete(p.initiatedEventId);
    const base = {
      namespace: child.ns.name,
      workflowExecution: { workflowId: child.workflowId, runId: child.runId },
      workflowType: { name: child.workflowType },
      initiatedEventId: ref.initiatedEventId,
    };
    const kinds: Partial<Record<Status, [string, string, Msg]>> = {
      WORKFLOW_EXECUTION_STATUS_COMPLETED: ['CHILD_WORKFLOW_EXECUTION_COMPLETED', 'childWorkflowExecutionCompletedEventAttributes', { result: outcome['result'] }],
      WORKFLOW_EXECUTION_STATUS_FAILED: ['CHILD_WORKFLOW_EXECUTION_FAILED', 'childWorkflowExecutionFailedEventAttributes', { failure: outcome['failure'], retryState: outcome['retryState'] }],
      WORKFLOW_EXECUTION_STATUS_CANCELED: ['CHILD_WORKFLOW_EXECUTION_CANCELED', 'childWorkflowExecutionCanceledEventAttributes', { details: outcome['details'] }],
      WORKFLOW_EXECUTION_STATUS_TERMINATED: ['CHILD_WORKFLOW_EXECUTION_TERMINATED', 'childWorkflowExecutionTerminatedEventAttributes', {}],
      WORKFLOW_EXECUTION_STATUS_TIMED_OUT: ['CHILD_WORKFLOW_EXECUTION_TIMED_OUT', 'childWorkflowExecutionTimedOutEventAttributes', { retryState: outcome['retryState'] }],
    };
    const kind = kinds[status];
    if (!kind) return;
    this.addExternal(parent, () => this.appendEvent(parent, kind[0], kind[1], { ...kind[2], ...base, startedEventId: ref.startedEventId ?? 0 }));
  }

  private applyParentClosePolicy(run: Run): void {
    for (const ref of run.children.values()) {
      const ns = this.namespaces.get(ref.namespace);
      const child = ns && ref.runId ? ns.runs.get(ref.runId) : undefined;
      if (!child || child.status !== RUNNING) continue;
      if (ref.parentClosePolicy === 'PARENT_CLOSE_POLICY_ABANDON') continue;
      if (ref.parentClosePolicy === 'PARENT_CLOSE_POLICY_REQUEST_CANCEL') this.requestCancel(child, 'parent closed', '');
      else this.terminateRun(child, 'by parent close policy', undefined, '');
    }
    run.children.clear();
  }

  private signalExternal(run: Run, a: Msg, wftCompletedId: number, after: Array<() => void>): void {
    const namespace = String(a['namespace'] || run.ns.name);
    const execution = (a['execution'] ?? {}) as Msg;
    const initiatedEventId = this.appendEvent(run, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED', 'signalExternalWorkflowExecutionInitiatedEventAttributes', {
      workflowTaskCompletedEventId: wftCompletedId,
      namespace,
      workflowExecution: execution,
      signalName: a['signalName'],
      input: a['input'],
      control: a['control'] ?? '',
      childWorkflowOnly: a['childWorkflowOnly'] ?? false,
      header: a['header'],
    });
    after.push(() => {
      const target = this.tryFindOpenRun(namespace, execution);
      if (target) {
        this.addExternal(target, () => this.appendSignal(target, { signalName: a['signalName'], input: a['input'], header: a['header'], identity: '' }));
        this.addExternal(run, () =>
          this.appendEvent(run, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED', 'externalWorkflowExecutionSignaledEventAttributes', {
            initiatedEventId,
            namespace,
            workflowExecution: { workflowId: target.workflowId, runId: target.runId },
            control: a['control'] ?? '',
          }),
        );
      } else {
        this.addExternal(run, () =>
          this.appendEvent(run, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED', 'signalExternalWorkflowExecutionFailedEventAttributes', {
            cause: 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
            workflowTaskCompletedEventId: wftCompletedId,
            namespace,
            workflowExecution: execution,
            initiatedEventId,
            control: a['control'] ?? '',
          }),
        );
      }
    });
  }

  private cancelExternal(run: Run, a: Msg, wftCompletedId: number, after: Array<() => void>): void {
    const namespace = String(a['namespace'] || run.ns.name);
    const execution = { workflowId: a['workflowId'], runId: a['runId'] ?? '' };
    const initiatedEventId = this.appendEvent(run, 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED', 'requestCancelExternalWorkflowExecutionInitiatedEventAttributes', {
      workflowTaskCompletedEventId: wftCompletedId,
      namespace,
      workflowExecution: execution,
      control: a['control'] ?? '',
      childWorkflowOnly: a['childWorkflowOnly'] ?? false,
      reason: a['reason'] ?? '',
    });
    after.push(() => {
      const target = this.tryFindOpenRun(namespace, execution);
      if (target) {
        this.requestCancel(target, String(a['reason'] ?? ''), '', {
          externalInitiatedEventId: initiatedEventId,
          externalWorkflowExecution: { workflowId: run.workflowId, runId: run.runId },
        });
        this.addExternal(run, () =>
          this.appendEvent(run, 'EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED', 'externalWorkflowExecutionCancelRequestedEventAttributes', {
            initiatedEventId,
            namespace,
            workflowExecution: { workflowId: target.workflowId, runId: target.runId },
          }),
        );
      } else {
        this.addExternal(run, () =>
          this.appendEvent(run, 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED', 'requestCancelExternalWorkflowExecutionFailedEventAttributes', {
            cause: 'CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
            workflowTaskCompletedEventId: wftCompletedId,
            namespace,
            workflowExecution: execution,
            initiatedEventId,
            control: a['control'] ?? '',
          }),
        );
      }
    });
  }

  private tryFindOpenRun(namespace: string, execution: Msg): Run | undefined {
    const ns = this.namespaces.get(namespace);
    if (!ns) return undefined;
    try {
      const run = this.findRun(ns, execution);
      return run.status === RUNNING ? run : undefined;
    } catch {
      return undefined;
    }
  }

  // ------------------------------------------------------------------ queries

  queryWorkflow(req: Msg, ctx: CallContext): Promise<Msg> | Msg {
    const ns = this.ns(req['namespace']);
    const run = this.findRun(ns, req['execution'] as Msg | undefined);
    const query = req['query'] as Msg | undefined;
    requireString(query?.['queryType'], 'QueryType');
    this.checkPayloads(query?.['queryArgs'] as Msg | undefined, 'queryArgs');
    const reject = req['queryRejectCondition'] as string | undefined;
    if (run.status !== RUNNING) {
      const notOpen = reject === 'QUERY_REJECT_CONDITION_NOT_OPEN';
      const notClean = reject === 'QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY' && run.status !== 'WORKFLOW_EXECUTION_STATUS_COMPLETED';
      if (notOpen || notClean) return { queryRejected: { status: run.status } };
    }
    return new Promise((resolve, reject) => {
      const q: PendingQuery = {
        id: randomUUID(),
        query: { queryType: query!['queryType'], queryArgs: query!['queryArgs'], header: query!['header'] },
        state: 'waiting',
        resolve,
        reject,
      };
      run.queries.push(q);
      this.pendingQueries.set(q.id, { run, q });
      ctx.onCancel(() => this.dropQuery(run, q));
      this.flushQueries(run);
    });
  }

  private dropQuery(run: Run, q: PendingQuery): void {
    this.pendingQueries.delete(q.id);
    removeFrom(run.queries, q);
  }

  /**
   * Sends waiting queries as legacy query tasks when no workflow task will carry them: the
   * run is idle or closed. Otherwise they ride on the next workflow task.
   */
  private flushQueries(run: Run): void {
    if (run.wft && run.status === RUNNING) return;
    const tq = this.taskQueue(run.ns, run.taskQueue);
    let added = false;
    for (const q of run.queries) {
      if (q.state !== 'waiting') continue;
      q.state = 'dispatched';
      tq.workflowTasks.push({ run, query: q });
      added = true;
    }
    if (added) this.dispatchWorkflowTasks(tq);
  }

  private legacyQueryResponse(run: Run, q: PendingQuery): Msg {
    const last = run.history.length;
    return {
      taskToken: encodeToken({ k: 'q', id: q.id }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.lastStartedEventId,
      startedEventId: last,
      attempt: 1,
      [RAW_HISTORY]: run.history,
      query: q.query,
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      scheduledTime: toTimestamp(this.clock.now()),
      startedTime: toTimestamp(this.clock.now()),
    };
  }

  private settleQuery(q: PendingQuery, result: Msg): void {
    if (result['resultType'] === 'QUERY_RESULT_TYPE_FAILED' || result['completedType'] === 'QUERY_RESULT_TYPE_FAILED') {
      q.reject(invalidArgument(String(result['errorMessage'] || result['failure']?.['message'] || 'query failed')));
    } else {
      q.resolve({ queryResult: result['answer'] ?? result['queryResult'] });
    }
  }

  private answerAttachedQueries(run: Run, results: Record<string, Msg>): void {
    for (const [id, result] of Object.entries(results)) {
      const entry = this.pendingQueries.get(id);
      if (!entry || entry.run !== run) continue;
      this.dropQuery(run, entry.q);
      this.settleQuery(entry.q, result);
    }
  }

  respondQueryTaskCompleted(req: Msg): Msg {
    const token = decodeToken(req['taskToken']);
    if (token.k !== 'q') throw notFound('Task token does not belong to a query task.');
    const entry = this.pendingQueries.get(token.id);
    if (!entry) throw notFound('Query task not found, or its caller has gone away.');
    this.dropQuery(entry.run, entry.q);
    this.settleQuery(entry.q, req);
    return {};
  }

  // ------------------------------------------------------------------ history & describe

  getWorkflowExecutionHistory(req: Msg, ctx: CallContext): Promise<Msg> | Msg {
    const ns = this.ns(req['namespace']);
    const run = this.findRun(ns, req['execution'] as Msg | undefined);
    const closeOnly = req['historyEventFilterType'] === 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT';
    const pageSize = Number(req['maximumPageSize'] ?? 0) || 1000;
    const tokenRaw: unknown = req['nextPageToken'];
    let from = 0;
    if (tokenRaw instanceof Uint8Array && tokenRaw.length > 0) {
      from = Number(Buffer.from(tokenRaw).toString('utf8'));
      if (!Number.isInteger(from) || from < 0 || from > run.history.length) throw invalidArgument('Invalid NextPageToken.');
    }
    const answer = (): Msg | undefined => {
      if (closeOnly) {
        if (run.status === RUNNING) return undefined;
        return { [RAW_HISTORY]: run.history.slice(-1) };
      }
      if (from >= run.history.length && req['waitNewEvent'] && run.status === RUNNING) return undefined;
      const events = run.history.slice(from, from + pageSize);
      const end = from + events.length;
      const more = end < run.history.length || (req['waitNewEvent'] === true && run.status === RUNNING);
      return { [RAW_HISTORY]: events, nextPageToken: more ? Buffer.from(String(end)) : Buffer.alloc(0) };
    };
    const immediate = answer();
    if (immediate || !req['waitNewEvent']) return immediate ?? { history: { events: [] } };
    return new Promise((resolve) => {
      const listener = (): void => {
        const a = answer();
        if (a) finish(a);
      };
      const finish = (res: Msg): void => {
        run.listeners.delete(listener);
        clearTimeout(timer);
        resolve(res);
      };
      const timer = setTimeout(() => finish({ history: { events: [] }, nextPageToken: closeOnly ? Buffer.alloc(0) : Buffer.from(String(from)) }), this.longPollMs);
      run.listeners.add(listener);
      ctx.onCancel(() => finish({}));
    });
  }

  getWorkflowExecutionHistoryReverse(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    const run = this.findRun(ns, req['execution'] as Msg | undefined);
    return { [RAW_HISTORY]: [...run.history].reverse(), nextPageToken: Buffer.alloc(0) };
  }

  private executionInfo(run: Run): Msg {
    return {
      execution: { workflowId: run.workflowId, runId: run.runId },
      type: { name: run.workflowType },
      startTime: toTimestamp(run.startTime),
      ...(run.closeTime !== undefined ? { closeTime: toTimestamp(run.closeTime), executionDuration: toDuration(run.closeTime - run.startTime) } : {}),
      status: run.status,
      historyLength: run.history.length,
      executionTime: toTimestamp(run.startTime),
      memo: { fields: run.memo },
      searchAttributes: { indexedFields: run.searchAttributes },
      taskQueue: run.taskQueue,
      stateTransitionCount: run.history.length,
      historySizeBytes: run.historyBytes,
      firstRunId: run.firstRunId,
      rootExecution: { workflowId: run.workflowId, runId: run.runId },
      ...(run.parent
        ? { parentNamespaceId: this.namespaces.get(run.parent.ns)?.id ?? '', parentExecution: { workflowId: run.parent.workflowId, runId: run.parent.runId } }
        : {}),
    };
  }

  describeWorkflowExecution(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    const run = this.findRun(ns, req['execution'] as Msg | undefined);
    const pendingActivities = [...run.activities.values()].map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state: a.cancelRequested ? 'PENDING_ACTIVITY_STATE_CANCEL_REQUESTED' : a.phase === 'started' ? 'PENDING_ACTIVITY_STATE_STARTED' : 'PENDING_ACTIVITY_STATE_SCHEDULED',
      heartbeatDetails: a.heartbeatDetails,
      ...(a.lastHeartbeatTime !== undefined ? { lastHeartbeatTime: toTimestamp(a.lastHeartbeatTime) } : {}),
      ...(a.startedTime !== undefined ? { lastStartedTime: toTimestamp(a.startedTime) } : {}),
      attempt: a.attempt,
      maximumAttempts: a.retry.maxAttempts,
      scheduledTime: toTimestamp(a.attemptScheduledTime),
      lastFailure: a.lastFailure,
      lastWorkerIdentity: a.startedIdentity ?? '',
    }));
    const pendingChildren = [...run.children.values()].map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId ?? '',
      workflowTypeName: c.workflowType,
      initiatedId: c.initiatedEventId,
      parentClosePolicy: c.parentClosePolicy,
    }));
    return {
      executionConfig: {
        taskQueue: { name: run.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
        workflowExecutionTimeout: toDuration(run.executionTimeoutMs),
        workflowRunTimeout: toDuration(run.runTimeoutMs),
        defaultWorkflowTaskTimeout: toDuration(run.wftTimeoutMs),
        ...(run.userMetadata ? { userMetadata: run.userMetadata } : {}),
      },
      workflowExecutionInfo: this.executionInfo(run),
      pendingActivities,
      pendingChildren,
      ...(run.wft
        ? {
            pendingWorkflowTask: {
              state: run.wft.startedEventId !== undefined ? 'PENDING_WORKFLOW_TASK_STATE_STARTED' : 'PENDING_WORKFLOW_TASK_STATE_SCHEDULED',
              scheduledTime: toTimestamp(run.wft.scheduledTime),
              ...(run.wft.startedTime !== undefined ? { startedTime: toTimestamp(run.wft.startedTime) } : {}),
              attempt: run.wft.attempt,
            },
          }
        : {}),
    };
  }

  // ------------------------------------------------------------------ visibility

  private matching(req: Msg): Run[] {
    const ns = this.ns(req['namespace']);
    let filter;
    try {
      filter = parseVisibilityQuery(String(req['query'] ?? ''));
    } catch (e) {
      if (e instanceof VisibilityQueryError) throw invalidArgument(`Invalid query: ${e.message}`);
      throw e;
    }
    const out: Run[] = [];
    for (const run of ns.runs.values()) {
      const fields: IndexedFields = {
        builtin: {
          WorkflowId: run.workflowId,
          WorkflowType: run.workflowType,
          RunId: run.runId,
          TaskQueue: run.taskQueue,
          ExecutionStatus: run.status,
        },
        custom: Object.fromEntries(Object.entries(run.searchAttributes).map(([k, v]) => [k, decodeJsonPayload(v)])),
      };
      try {
        if (filter(fields)) out.push(run);
      } catch (e) {
        if (e instanceof VisibilityQueryError) throw invalidArgument(`Invalid query: ${e.message}`);
        throw e;
      }
    }
    // Newest first, like the real server's default ordering.
    return out.sort((a, b) => b.startTime - a.startTime);
  }

  listWorkflowExecutions(req: Msg): Msg {
    const runs = this.matching(req);
    const pageSize = Number(req['pageSize'] ?? 0) || 1000;
    const tokenRaw: unknown = req['nextPageToken'];
    const from = tokenRaw instanceof Uint8Array && tokenRaw.length > 0 ? Number(Buffer.from(tokenRaw).toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) throw invalidArgument('Invalid NextPageToken.');
    const page = runs.slice(from, from + pageSize);
    const end = from + page.length;
    return {
      executions: page.map((r) => this.executionInfo(r)),
      nextPageToken: end < runs.length ? Buffer.from(String(end)) : Buffer.alloc(0),
    };
  }

  countWorkflowExecutions(req: Msg): Msg {
    return { count: this.matching(req).length };
  }

  // ------------------------------------------------------------------ misc

  /** Releases the worker's parked polls with empty answers so its shutdown does not wait them out. */
  shutdownWorker(req: Msg): Msg {
    const ns = this.ns(req['namespace']);
    const key = String(req['workerInstanceKey'] || req['identity'] || '');
    for (const finish of [...(this.pollsByWorker.get(key) ?? [])]) finish({});
    const stickyQueue = req['stickyTaskQueue'] as string | undefined;
    if (stickyQueue) {
      // Nobody will poll that queue again: its runs go back to the normal queue now.
      for (const run of ns.runs.values()) {
        if (run.status === RUNNING && run.sticky?.name === stickyQueue) this.moveToNormalQueue(run);
      }
      ns.taskQueues.delete(stickyQueue);
    }
    return {};
  }

  /** Counts for the benchmark and for tests that check nothing leaks. */
  stats(): { runs: number; openRuns: number; events: number } {
    let runs = 0;
    let openRuns = 0;
    let events = 0;
    for (const ns of this.namespaces.values()) {
      for (const run of ns.runs.values()) {
        runs++;
        if (run.status === RUNNING) openRuns++;
        events += run.history.length;
      }
    }
    return { runs, openRuns, events };
  }
}

/** A closed run's history never grows again: one backing buffer holds all its events. */
function compactHistory(run: Run): void {
  const whole = Buffer.allocUnsafeSlow(run.history.reduce((n, e) => n + e.length, 0));
  let offset = 0;
  run.history = run.history.map((e) => {
    e.copy(whole, offset);
    const view = whole.subarray(offset, offset + e.length);
    offset += e.length;
    return view;
  });
}

function removeFrom<T>(list: T[], item: T | ((x: never) => void)): void {
  const i = list.findIndex((x) => x === item || (x as { deliver?: unknown }).deliver === item);
  if (i >= 0) list.splice(i, 1);
}
