/**
 * A bare gRPC client for tests that must act like a worker step by step (hold a task, send a
 * signal mid-task) or send requests the SDK would refuse to build.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { decodeMessage, describeService, encodeMessage, type Msg } from '../src/wire.js';

const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

export class RawClient {
  private readonly client: Client;
  private readonly methods = new Map(describeService(WORKFLOW_SERVICE).methods.map((m) => [m.name, m]));

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  /** Calls a WorkflowService method with a plain object; rejects with the gRPC ServiceError. */
  call(method: string, req: Msg, deadlineMs = 30_000): Promise<Msg> {
    const m = this.methods.get(method);
    if (!m) throw new Error(`unknown method ${method}`);
    return this.callBytes(method, encodeMessage(m.requestType, req), deadlineMs);
  }

  callBytes(method: string, body: Buffer, deadlineMs = 30_000): Promise<Msg> {
    const m = this.methods.get(method)!;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/${WORKFLOW_SERVICE}/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(decodeMessage(m.responseType, res ?? Buffer.alloc(0)))),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Resolves with the gRPC status code a call failed with (or -1 if it succeeded). */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: -1, details: '' };
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
}
