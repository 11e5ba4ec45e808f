// One mapping from "what the upstream said" to a coded LoopwrightError, shared by every adapter
// (Jira, Slack, Zendesk, OpenAI), plus the small retry helper that honours Retry-After.
// The split that matters downstream: permanent failures (400, 401, 403, 404, 409, 422, validation)
// are `retryable: false` so activities fail fast; 429, 5xx and network errors are retryable and carry
// `retryAfterMs` when the upstream said how long to wait.
// Must not log, and must never copy request headers (they hold credentials) into error details.
import { LoopwrightError, isLoopwrightError, type TErrorCode } from '../../workflows/domain/errors.js';

export type TUpstreamSystem = 'jira' | 'slack' | 'zendesk' | 'openai';

export interface HttpFailure {
  system: TUpstreamSystem;
  /** Verb-first name of what we were doing, e.g. `createIssue`; appears in the message. */
  operation: string;
  status: number;
  /** Raw `Retry-After` header value, if any (seconds or an HTTP date). */
  retryAfter?: string | null | undefined;
  /** Short upstream explanation (error code or message), already free of secrets. */
  upstreamMessage?: string | undefined;
  now?: () => number;
}

/** Parses Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or junk. */
export function parseRetryAfterMs(value: string | null | undefined, now: () => number = Date.now): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now());
}

export function codeForStatus(status: number): TErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status >= 500 || status === 408) return 'upstream_unavailable';
  return 'upstream_rejected';
}

export function errorFromHttpStatus(f: HttpFailure): LoopwrightError {
  const code = codeForStatus(f.status);
  const retryAfterMs = parseRetryAfterMs(f.retryAfter, f.now);
  const detail = f.upstreamMessage ? `: ${truncate(f.upstreamMessage, 300)}` : '';
  return new LoopwrightError(code, `${f.system} ${f.operation} failed with HTTP ${f.status}${detail}`, {
    details: { system: f.system, operation: f.operation, status: f.status, ...(f.upstreamMessage ? { upstream: truncate(f.upstreamMessage, 300) } : {}) },
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

export function networkError(system: TUpstreamSystem, operation: string, cause: unknown): LoopwrightError {
  const reason = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
  return new LoopwrightError('upstream_unavailable', `${system} ${operation} could not reach the server (${truncate(reason, 200)})`, {
    details: { system, operation },
    cause,
  });
}

/** Something that is neither an HTTP answer nor a network failure: most likely a bug on our side. */
export function unexpectedError(system: TUpstreamSystem, operation: string, cause: unknown): LoopwrightError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new LoopwrightError('internal', `${system} ${operation} failed unexpectedly (${truncate(reason, 200)})`, { details: { system, operation }, cause });
}

/** A response that parsed but does not have the shape we rely on: permanent, a retry would get the same. */
export function malformedResponse(system: TUpstreamSystem, operation: string, what: string): LoopwrightError {
  return new LoopwrightError('upstream_rejected', `${system} ${operation} returned an unexpected response: ${what}`, {
    details: { system, operation },
    retryable: false,
  });
}

export interface RetryOptions {
  /** Total attempts including the first; 1 means "no retry here, let the activity's retry policy decide". */
  maxAttempts: number;
  /** Used when a retryable error gives no Retry-After: base * 2^(attempt-1). */
  baseDelayMs?: number;
  /** A Retry-After longer than this is not waited for in-process: the error is rethrown for Temporal to schedule. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `op`, retrying only retryable LoopwrightErrors, waiting what Retry-After asked for.
 * Safe only because every adapter operation is idempotent (see the idempotency keys in each adapter).
 */
export async function withRetries<T>(op: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const base = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!isLoopwrightError(e) || !e.retryable || attempt >= options.maxAttempts) throw e;
      const delay = e.retryAfterMs ?? base * 2 ** (attempt - 1);
      if (delay > maxDelay) throw e;
      await sleep(delay);
    }
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
