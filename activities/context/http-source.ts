// A ContextSource over an HTTP endpoint answering `GET <url>?from=<iso>&to=<iso>` with
// `{ "events": [...] }`. The fetch implementation and token are injected; the token is sent as a
// bearer header and never appears in errors or logs. Failures are classified where they happen:
// 5xx, timeouts and network errors retry; 4xx and malformed bodies do not.
import { z } from 'zod';
import { formatIssues, LoopwrightError } from '../../workflows/domain/errors.js';
import { eventsInRange, ZContextDocument, type TContextEvent, type TTimeRange } from './events.js';
import type { ContextSource } from './ports.js';

export const ZHttpContextSourceOptions = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  fetch: z.custom<typeof fetch>((f) => typeof f === 'function', 'fetch must be a function'),
  token: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(1).default(10_000),
  /** Larger answers are refused rather than parsed: a context feed is small. */
  maxBytes: z.number().int().min(1).default(5_000_000),
});
export type THttpContextSourceOptions = z.input<typeof ZHttpContextSourceOptions>;

export function createHttpContextSource(options: THttpContextSourceOptions): ContextSource {
  const parsed = ZHttpContextSourceOptions.safeParse(options);
  if (!parsed.success) {
    // Only field paths and zod's messages, which do not quote input values: the options hold the token.
    throw new LoopwrightError('invalid_config', `http context source: ${formatIssues(parsed.error.issues)}`, { retryable: false });
  }
  const { url, fetch: doFetch, token, timeoutMs, maxBytes } = parsed.data;
  const host = new URL(url).host;
  const name = parsed.data.name ?? `http:${host}`;

  return {
    name,
    async listEvents(range: TTimeRange): Promise<TContextEvent[]> {
      const target = new URL(url);
      target.searchParams.set('from', range.from);
      target.searchParams.set('to', range.to);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await doFetch(target, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        throw new LoopwrightError('upstream_unavailable', `context source ${name}: ${timedOut ? `no answer within ${timeoutMs} ms` : 'request failed'}`, {
          details: { source: name },
          cause: e,
        });
      }
      if (!res.ok) throw statusError(name, res);
      const text = await res.text();
      if (Buffer.byteLength(text, 'utf8') > maxBytes) {
        throw new LoopwrightError('upstream_rejected', `context source ${name}: answer larger than ${maxBytes} bytes`, { retryable: false, details: { source: name } });
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new LoopwrightError('upstream_rejected', `context source ${name}: malformed JSON body`, { retryable: false, details: { source: name }, cause: e });
      }
      const doc = ZContextDocument.safeParse(body);
      if (!doc.success) {
        throw new LoopwrightError('upstream_rejected', `context source ${name}: invalid body: ${formatIssues(doc.error.issues)}`, {
          retryable: false,
          details: { source: name },
        });
      }
      // The endpoint may ignore the range; filtering again keeps the contract the same as files.
      return eventsInRange(doc.data.events, range);
    },
  };
}

function statusError(name: string, res: Response): LoopwrightError {
  const details = { source: name, status: res.status };
  const msg = `context source ${name}: HTTP ${res.status}`;
  if (res.status === 429) {
    const retryAfter = Number(res.headers.get('retry-after'));
    return new LoopwrightError('rate_limited', msg, { details, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined });
  }
  if (res.status >= 500) return new LoopwrightError('upstream_unavailable', msg, { details });
  if (res.status === 401) return new LoopwrightError('unauthorized', msg, { details, retryable: false });
  if (res.status === 403) return new LoopwrightError('forbidden', msg, { details, retryable: false });
  return new LoopwrightError('upstream_rejected', msg, { details, retryable: false });
}
