/**
 * Wire layer: turns the protobuf descriptors shipped in @temporalio/proto into grpc-js service
 * definitions, and defines the one error type handlers throw to answer with a gRPC status.
 *
 * Owns decoding/encoding only. It must not know any Temporal semantics: every handler receives a
 * plain decoded object and returns a plain object.
 */
import { createRequire } from 'node:module';
import { status as GrpcStatus, type ServiceDefinition, type MethodDefinition } from '@grpc/grpc-js';

/**
 * A decoded protobuf message. The proto schema, not TypeScript, defines its shape; handlers
 * validate the fields they rely on and answer INVALID_ARGUMENT when one is missing.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded protobuf objects are schema-typed at runtime
export type Msg = Record<string, any>;

interface ProtoType {
  fields: Record<string, { id: number }>;
  encode(message: unknown): { finish(): Uint8Array };
  decode(buf: Uint8Array): unknown;
  toObject(message: unknown, opts: Record<string, unknown>): Msg;
  fromObject(obj: Msg): unknown;
  verify(obj: Msg): string | null;
}
interface ProtoMethod {
  name: string;
  requestType: string;
  responseType: string;
  resolvedRequestType: ProtoType | null;
  resolvedResponseType: ProtoType | null;
  requestStream?: boolean;
  responseStream?: boolean;
}
interface ProtoService {
  fullName: string;
  methods: Record<string, ProtoMethod>;
  resolveAll(): ProtoService;
}
interface ProtoRoot {
  lookupService(name: string): ProtoService;
  lookupType(name: string): ProtoType;
}

const require = createRequire(import.meta.url);
// The JSON root is the only descriptor set that ships with the SDK; loading it once per
// process is cheap (~50 ms) and avoids a protoc build step.
const root = require('@temporalio/proto/protos/json-module.js') as ProtoRoot;

/** An error that a handler throws to end the call with a specific gRPC status. */
export class RpcError extends Error {
  readonly code: GrpcStatus;
  readonly details: Buffer | undefined;
  constructor(code: GrpcStatus, message: string, details?: Buffer) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.details = details;
  }
}

export const invalidArgument = (message: string): RpcError => new RpcError(GrpcStatus.INVALID_ARGUMENT, message);
export const notFound = (message: string): RpcError => new RpcError(GrpcStatus.NOT_FOUND, message);

const decodeOptions = { enums: String, longs: Number, defaults: false };

export function lookupType(name: string): ProtoType {
  return root.lookupType(name);
}

/** Decodes bytes into a plain object with enums as their names and int64 as numbers. */
export function decodeMessage(type: ProtoType, buf: Uint8Array): Msg {
  return type.toObject(type.decode(buf), decodeOptions);
}

/**
 * Key under which a response carries its `history` as already-encoded HistoryEvent messages.
 * Histories are stored encoded (compact, and detached from request buffers) and are spliced
 * into responses as bytes instead of being re-encoded on every poll.
 */
export const RAW_HISTORY = Symbol('rawHistory');

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** Encodes a plain object; unknown enum names or malformed fields throw. */
export function encodeMessage(type: ProtoType, obj: Msg): Buffer {
  const base = Buffer.from(type.encode(type.fromObject(obj)).finish());
  const raw = obj[RAW_HISTORY as unknown as string] as Buffer[] | undefined;
  if (!raw) return base;
  const field = type.fields['history'];
  if (!field) throw new Error('RAW_HISTORY on a message without a history field');
  // History { repeated HistoryEvent events = 1; }: each event is tag 0x0a, length, bytes.
  const parts: Buffer[] = [];
  for (const e of raw) parts.push(Buffer.from([0x0a]), varint(e.length), e);
  const history = Buffer.concat(parts);
  // Protobuf allows a field after the others; decoders merge it like any other.
  return Buffer.concat([base, varint((field.id << 3) | 2), varint(history.length), history]);
}

/** Copies every byte field so the result no longer pins the request buffer it was decoded from. */
export function detach<T>(value: T): T {
  if (value instanceof Uint8Array) return Buffer.from(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => detach(v)) as T;
  if (value && typeof value === 'object') {
    const out: Msg = {};
    for (const [k, v] of Object.entries(value as Msg)) out[k] = detach(v);
    return out as T;
  }
  return value;
}

/** Size in bytes of a payload message once encoded, used to enforce the blob size limit. */
export function payloadSize(payload: Msg): number {
  let size = 0;
  const data: unknown = payload['data'];
  if (data instanceof Uint8Array) size += data.length;
  const metadata = payload['metadata'] as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(metadata ?? {})) size += k.length + (v instanceof Uint8Array ? v.length : 0);
  return size;
}

export interface MethodInfo {
  service: string;
  name: string;
  requestType: ProtoType;
  responseType: ProtoType;
}

/**
 * Lists the unary methods of a service. Requests are passed through as raw buffers so that
 * a malformed request becomes INVALID_ARGUMENT inside the handler instead of grpc-js's
 * generic INTERNAL deserialization error.
 */
export function describeService(fullName: string): { methods: MethodInfo[]; definition: ServiceDefinition } {
  const service = root.lookupService(fullName).resolveAll();
  const methods: MethodInfo[] = [];
  const definition: Record<string, MethodDefinition<Buffer, Buffer>> = {};
  for (const method of Object.values(service.methods)) {
    if (method.requestStream || method.responseStream) continue;
    const requestType = method.resolvedRequestType;
    const responseType = method.resolvedResponseType;
    if (!requestType || !responseType) throw new Error(`unresolved types for ${fullName}.${method.name}`);
    methods.push({ service: fullName, name: method.name, requestType, responseType });
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
  }
  return { methods, definition: definition as ServiceDefinition };
}
