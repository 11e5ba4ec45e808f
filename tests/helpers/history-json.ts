// Workflow histories to and from the ProtoJSON files Temporal's tools write (`temporal workflow
// show --output json`, the Web UI's download), for the committed histories in tests/histories/.
//
// Hand-written around the SDK's own pieces because `historyToJSON`/`historyFromJSON` from
// @temporalio/common 1.24 throw "type must be a Type" in this install: npm gives @temporalio/common
// and @temporalio/proto separate nested copies of protobufjs 8 (the root slot holds grpc's
// protobufjs 7), and protojson's `instanceof Type` fails across copies. Here protojson is loaded
// from the copy @temporalio/proto resolves, so the reflected types and the converter always match.
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';

type THistory = temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const requireHere = createRequire(import.meta.url);
const requireFromProto = createRequire(requireHere.resolve('@temporalio/proto'));
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
const { patchProtobufRoot } = requireHere('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(p: unknown): { lookupType(name: string): unknown } };
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

/** A history (as `handle.fetchHistory()` returns it) as ProtoJSON. */
export function historyToJson(history: THistory): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

/** A ProtoJSON history file's content as a History for `Worker.runReplayHistories`. */
export function historyFromJson(json: unknown): THistory {
  const h = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as THistory | null;
  if (!h || !Array.isArray(h.events) || h.events.length === 0) throw new TypeError('not a workflow history');
  return h;
}
