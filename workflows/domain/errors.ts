// Errors with stable codes. Every layer throws these; one place (the HTTP service) maps codes to
// statuses, and activities turn `retryable: false` into non-retryable ApplicationFailures.
// Pure: safe to import from workflow code.

export const ERROR_CODES = [
  'invalid_input',
  'invalid_config',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'upstream_unavailable',
  'upstream_rejected',
  'tampered',
  'internal',
] as const;
export type TErrorCode = (typeof ERROR_CODES)[number];

const RETRYABLE_BY_DEFAULT: ReadonlySet<TErrorCode> = new Set(['rate_limited', 'upstream_unavailable', 'internal']);

export interface LoopwrightErrorOptions {
  /** Details safe to show a caller (field paths, row numbers); never secrets or raw PII. */
  details?: Record<string, unknown>;
  retryable?: boolean;
  /** Milliseconds the caller should wait before retrying (e.g. from Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class LoopwrightError extends Error {
  readonly code: TErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: TErrorCode, message: string, options: LoopwrightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoopwrightError';
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isLoopwrightError(e: unknown): e is LoopwrightError {
  return e instanceof LoopwrightError;
}

/** Formats zod issues as `path: message` lines; used wherever input is rejected. */
export function formatIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ');
}
