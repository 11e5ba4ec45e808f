// The plumbing every fake upstream shares: a real HTTP server on 127.0.0.1 (ephemeral port), a log
// of every request it received (method, path, query, headers, parsed body) so tests can assert side
// effects, one-shot failure injection (`failNext`) for 429/5xx/4xx paths, and outages (`outage`).
// Test-only: product code must never import anything under tests/fakes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** JSON or form bodies parsed; undefined for an empty body. */
  body: unknown;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as-is. */
  body?: unknown;
}

export interface InjectedFailure extends FakeReply {
  /** Only requests whose `METHOD path` matches are failed; default: any. */
  match?: RegExp;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** The next matching request gets this reply instead of being handled (queued, one each). */
  failNext(status: number, headers?: Record<string, string>, body?: unknown, match?: RegExp): void;
  /** Simulates a dead connection: the next matching request's socket is destroyed without a reply. */
  dropNext(match?: RegExp): void;
  /**
   * The nasty case for idempotency: the next matching request IS processed (side effect happens), then
   * the connection dies before the reply, so the client sees a network error and will retry.
   */
  dropReplyNext(match?: RegExp): void;
  /**
   * The next matching request IS processed, then no reply is ever sent (the connection stays open
   * until the fake closes): a caller that dies while waiting, as in a worker SIGKILL, left a side
   * effect behind without learning about it.
   */
  holdReplyNext(match?: RegExp): void;
  /**
   * An outage: every matching request gets this reply until the returned function is called (or
   * the next `outage` replaces it). For "Slack answers channel_not_found for a day", "Jira 503 for an hour".
   */
  outage(reply: FakeReply, match?: RegExp): () => void;
  close(): Promise<void>;
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function startHttpFake(handler: FakeHandler, defaultFailureBody: (status: number) => unknown): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const failures: Array<InjectedFailure | { drop: 'before' | 'after' | 'hold'; match?: RegExp }> = [];
  let down: { reply: FakeReply; match?: RegExp } | null = null;

  const send = (res: ServerResponse, reply: FakeReply): void => {
    const isText = typeof reply.body === 'string';
    const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(payload === '' ? {} : { 'content-type': isText ? 'text/plain' : 'application/json; charset=utf-8' }),
      ...reply.headers,
    });
    res.end(payload);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: u.searchParams,
        headers: { ...req.headers },
        rawBody,
        body: parseBody(rawBody, req.headers['content-type']),
      };
      requests.push(recorded);
      const line = `${recorded.method} ${recorded.path}`;
      if (down && (!down.match || down.match.test(line))) {
        send(res, down.reply);
        return;
      }
      const idx = failures.findIndex((f) => !f.match || f.match.test(line));
      if (idx >= 0) {
        const [f] = failures.splice(idx, 1);
        if (f && 'drop' in f) {
          if (f.drop === 'before') {
            req.socket.destroy();
            return;
          }
          if (f.drop === 'hold') {
            void Promise.resolve(handler(recorded)).catch(() => undefined);
            return;
          }
          Promise.resolve(handler(recorded)).then(
            () => req.socket.destroy(),
            () => req.socket.destroy(),
          );
          return;
        }
        if (f) {
          send(res, { status: f.status, headers: f.headers ?? {}, body: f.body ?? defaultFailureBody(f.status) });
          return;
        }
      }
      Promise.resolve(handler(recorded))
        .then((reply) => send(res, reply))
        .catch((e: unknown) => send(res, { status: 500, body: { fakeError: e instanceof Error ? e.message : String(e) } }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, headers, body, match) {
      failures.push({ status, ...(headers ? { headers } : {}), ...(body === undefined ? {} : { body }), ...(match ? { match } : {}) });
    },
    dropNext(match) {
      failures.push({ drop: 'before', ...(match ? { match } : {}) });
    },
    dropReplyNext(match) {
      failures.push({ drop: 'after', ...(match ? { match } : {}) });
    },
    holdReplyNext(match) {
      failures.push({ drop: 'hold', ...(match ? { match } : {}) });
    },
    outage(reply, match) {
      const mine = { reply, ...(match ? { match } : {}) };
      down = mine;
      return () => {
        if (down === mine) down = null;
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
