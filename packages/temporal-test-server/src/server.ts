/**
 * The gRPC transport: binds WorkflowService, OperatorService, TestService and Health to a
 * Store and maps thrown errors to gRPC statuses.
 *
 * Owns transport only (decode, dispatch, encode, cancellation). It must not hold Temporal state;
 * that lives in Store. Any handler failure that is not an RpcError becomes INTERNAL and is
 * logged, so a bug answers an error instead of crashing the process or hanging the caller.
 */
import { Server, ServerCredentials, status as GrpcStatus, Metadata, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { Store, type CallContext, type StoreOptions } from './store.js';
import { decodeMessage, describeService, encodeMessage, RpcError, type Msg } from './wire.js';

type Handler = (req: Msg, ctx: CallContext) => Msg | Promise<Msg>;

export interface TestServerOptions extends Omit<StoreOptions, 'namespaces'> {
  port: number;
  host?: string;
  namespaces?: string[];
  /** Receives one line per unexpected handler failure; defaults to stderr. */
  log?: (line: string) => void;
  /** Log every call (also enabled by TEMPORAL_TEST_SERVER_TRACE=1). */
  trace?: boolean;
}

export interface RunningTestServer {
  readonly port: number;
  readonly address: string;
  readonly store: Store;
  shutdown(): Promise<void>;
}

function handlersFor(store: Store): Record<string, Record<string, Handler>> {
  return {
    'temporal.api.workflowservice.v1.WorkflowService': {
      GetSystemInfo: () => store.getSystemInfo(),
      GetClusterInfo: () => store.getClusterInfo(),
      DescribeNamespace: (r) => store.describeNamespace(r),
      ListNamespaces: () => store.listNamespaces(),
      RegisterNamespace: (r) => store.registerNamespace(r),
      GetSearchAttributes: (r) => ({ keys: store.listSearchAttributes({ namespace: r['namespace'] || 'default' })['customAttributes'] }),
      StartWorkflowExecution: (r) => store.startWorkflowExecution(r),
      SignalWorkflowExecution: (r) => store.signalWorkflowExecution(r),
      SignalWithStartWorkflowExecution: (r) => store.signalWithStartWorkflowExecution(r),
      TerminateWorkflowExecution: (r) => store.terminateWorkflowExecution(r),
      RequestCancelWorkflowExecution: (r) => store.requestCancelWorkflowExecution(r),
      QueryWorkflow: (r, c) => store.queryWorkflow(r, c),
      DescribeWorkflowExecution: (r) => store.describeWorkflowExecution(r),
      GetWorkflowExecutionHistory: (r, c) => store.getWorkflowExecutionHistory(r, c),
      GetWorkflowExecutionHistoryReverse: (r) => store.getWorkflowExecutionHistoryReverse(r),
      ListWorkflowExecutions: (r) => store.listWorkflowExecutions(r),
      ScanWorkflowExecutions: (r) => store.listWorkflowExecutions(r),
      CountWorkflowExecutions: (r) => store.countWorkflowExecutions(r),
      PollWorkflowTaskQueue: (r, c) => store.pollWorkflowTaskQueue(r, c),
      RespondWorkflowTaskCompleted: (r) => store.respondWorkflowTaskCompleted(r),
      RespondWorkflowTaskFailed: (r) => store.respondWorkflowTaskFailed(r),
      RespondQueryTaskCompleted: (r) => store.respondQueryTaskCompleted(r),
      PollActivityTaskQueue: (r, c) => store.pollActivityTaskQueue(r, c),
      RecordActivityTaskHeartbeat: (r) => store.recordActivityTaskHeartbeat(r),
      RecordActivityTaskHeartbeatById: (r) => store.recordActivityTaskHeartbeatById(r),
      RespondActivityTaskCompleted: (r) => store.respondActivityTaskCompleted(r),
      RespondActivityTaskCompletedById: (r) => store.respondActivityTaskCompletedById(r),
      RespondActivityTaskFailed: (r) => store.respondActivityTaskFailed(r),
      RespondActivityTaskFailedById: (r) => store.respondActivityTaskFailedById(r),
      RespondActivityTaskCanceled: (r) => store.respondActivityTaskCanceled(r),
      RespondActivityTaskCanceledById: (r) => store.respondActivityTaskCanceledById(r),
      ShutdownWorker: (r) => store.shutdownWorker(r),
      ResetStickyTaskQueue: () => ({}),
    },
    'temporal.api.operatorservice.v1.OperatorService': {
      ListSearchAttributes: (r) => store.listSearchAttributes(r),
      AddSearchAttributes: (r) => store.addSearchAttributes(r),
    },
    'temporal.api.testservice.v1.TestService': {
      LockTimeSkipping: () => store.lockTimeSkipping(),
      UnlockTimeSkipping: () => store.unlockTimeSkipping(),
      Sleep: (r) => store.sleep(r, false),
      SleepUntil: (r) => store.sleepUntil(r),
      UnlockTimeSkippingWithSleep: (r) => store.sleep(r, true),
      GetCurrentTime: () => store.getCurrentTime(),
    },
    'grpc.health.v1.Health': {
      Check: () => ({ status: 'SERVING' }),
    },
  };
}

function callContext(call: ServerUnaryCall<Buffer, Buffer>): CallContext {
  return {
    onCancel(cb) {
      if (call.cancelled) cb();
      else call.once('cancelled', cb);
    },
    get cancelled() {
      return call.cancelled;
    },
  };
}

function errorStatus(code: GrpcStatus, message: string, details?: Buffer): Partial<Record<string, unknown>> {
  const metadata = new Metadata();
  if (details) metadata.set('grpc-status-details-bin', details);
  return { code, details: message, metadata };
}

/** Starts a test server listening on host:port (port 0 picks a free port). */
export async function startTestServer(opts: TestServerOptions): Promise<RunningTestServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // TEMPORAL_TEST_SERVER_TRACE=1 logs every call: the quickest way to see what the SDK asked.
  const trace = opts.trace ?? process.env['TEMPORAL_TEST_SERVER_TRACE'] === '1';
  const store = new Store({ ...opts, namespaces: opts.namespaces ?? ['default'] });
  const server = new Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
  });
  const handlers = handlersFor(store);
  for (const [serviceName, impl] of Object.entries(handlers)) {
    const { methods, definition } = describeService(serviceName);
    const implementation: UntypedServiceImplementation = {};
    for (const method of methods) {
      const handler = impl[method.name];
      implementation[method.name] = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        if (!handler) {
          callback(errorStatus(GrpcStatus.UNIMPLEMENTED, `${method.name} is not implemented by the in-memory test server.`));
          return;
        }
        let req: Msg;
        try {
          req = decodeMessage(method.requestType, call.request);
        } catch (e) {
          callback(errorStatus(GrpcStatus.INVALID_ARGUMENT, `Malformed ${method.name} request: ${(e as Error).message}`));
          return;
        }
        if (trace) log(`rpc ${method.name} ${JSON.stringify(req, (_k, v: unknown) => ((v as { type?: unknown })?.type === 'Buffer' ? '<bytes>' : v)).slice(0, 300)}`);
        const respond = (res: Msg): void => {
          if (call.cancelled) return;
          let buf: Buffer;
          try {
            buf = encodeMessage(method.responseType, res);
          } catch (e) {
            log(`temporal-test-server: cannot encode ${method.name} response: ${(e as Error).stack ?? String(e)}`);
            callback(errorStatus(GrpcStatus.INTERNAL, `cannot encode ${method.name} response`));
            return;
          }
          callback(null, buf);
        };
        const fail = (e: unknown): void => {
          if (e instanceof RpcError) {
            callback(errorStatus(e.code, e.message, e.details));
            return;
          }
          log(`temporal-test-server: ${method.name} failed: ${(e as Error)?.stack ?? String(e)}`);
          callback(errorStatus(GrpcStatus.INTERNAL, `${method.name} failed: ${(e as Error)?.message ?? String(e)}`));
        };
        try {
          const out = handler(req, callContext(call));
          if (out instanceof Promise) out.then(respond, fail);
          else respond(out);
        } catch (e) {
          fail(e);
        }
      };
    }
    server.addService(definition, implementation);
  }
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port,
    address: `${host}:${port}`,
    store,
    shutdown: () =>
      new Promise<void>((resolve) => {
        store.close();
        server.tryShutdown(() => resolve());
        // Long polls would otherwise hold a graceful shutdown for their full duration.
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}
