/**
 * Conversions between protobuf time/duration/payload shapes and plain numbers, shared by the
 * state machine. Pure functions only.
 */
import type { Msg } from './wire.js';

export function toTimestamp(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function toDuration(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Milliseconds of a decoded Duration; absent or zero means "not set". */
export function durationMs(d: Msg | null | undefined): number {
  if (!d) return 0;
  return Number(d['seconds'] ?? 0) * 1000 + Math.floor(Number(d['nanos'] ?? 0) / 1e6);
}

export function timestampMs(t: Msg | null | undefined): number {
  return durationMs(t);
}

/** Decodes a JSON-encoded payload (search attributes and memo are always json/plain). */
export function decodeJsonPayload(payload: Msg | undefined): unknown {
  const data: unknown = payload?.['data'];
  if (!(data instanceof Uint8Array) || data.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
