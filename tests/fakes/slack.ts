// A fake Slack Web API that the real @slack/web-api WebClient talks to unmodified (point its
// `slackApiUrl` at `${url}/api/`). Documentation followed:
//   Web API basics (POST /api/<method>, form or JSON bodies, Bearer token, `{ ok, error }` envelope):
//     https://docs.slack.dev/apis/web-api/
//   chat.postMessage / chat.update / chat.delete:
//     https://docs.slack.dev/reference/methods/chat.postMessage
//     https://docs.slack.dev/reference/methods/chat.update
//     https://docs.slack.dev/reference/methods/chat.delete
//   conversations.history (latest/oldest/inclusive/limit/cursor, include_all_metadata):
//     https://docs.slack.dev/reference/methods/conversations.history
//   Message metadata (event_type + event_payload): https://docs.slack.dev/messaging/message-metadata/
//   Block Kit limits (section text 3000, button value 2000, 50 blocks):
//     https://docs.slack.dev/reference/block-kit/blocks/
//   Rate limits (HTTP 429 + Retry-After seconds): https://docs.slack.dev/apis/web-api/rate-limits
// Platform errors come back as HTTP 200 with `{ ok: false, error }`, exactly as Slack does.
// Test-only: product code must never import this file.
import { startHttpFake, type FakeReply, type FakeServer, type RecordedRequest } from './http-fake.js';

export interface FakeSlackMessage {
  type: 'message';
  ts: string;
  text: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  bot_id: string;
  edited?: { ts: string };
}

export interface FakeSlackState {
  token: string;
  /** channel id → messages, oldest first. */
  channels: Map<string, FakeSlackMessage[]>;
  /** Last ts issued, in microseconds: ts values follow the wall clock and are unique per message. */
  lastTsMicros: number;
}

export interface FakeSlack extends FakeServer {
  state: FakeSlackState;
  /** `${url}/api/`, the value for WebClient's `slackApiUrl`. */
  apiUrl: string;
  messages(channel: string): FakeSlackMessage[];
}

const ok = (body: Record<string, unknown> = {}): FakeReply => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string, extra: Record<string, unknown> = {}): FakeReply => ({ status: 200, body: { ok: false, error, ...extra } });

/** Form bodies carry objects as JSON strings (that is how WebClient serializes them). */
function field(body: Record<string, unknown>, name: string): unknown {
  const v = body[name];
  if (typeof v === 'string' && (name === 'blocks' || name === 'metadata')) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return Symbol.for('invalid-json');
    }
  }
  return v;
}
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;

function validateBlocks(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > 50) return 'invalid_blocks';
  for (const b of blocks as Array<Record<string, unknown>>) {
    if (typeof b !== 'object' || b === null || typeof b.type !== 'string') return 'invalid_blocks';
    const text = b.text as { text?: unknown } | undefined;
    if (b.type === 'section' && text && typeof text.text === 'string' && text.text.length > 3000) return 'invalid_blocks';
    if (b.type === 'header' && text && typeof text.text === 'string' && text.text.length > 150) return 'invalid_blocks';
    if (b.type === 'actions') {
      const els = b.elements as Array<Record<string, unknown>> | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 25) return 'invalid_blocks';
      for (const el of els) if (typeof el.value === 'string' && el.value.length > 2000) return 'invalid_blocks';
    }
  }
  return undefined;
}

function validateMetadata(m: unknown): string | undefined {
  if (m === undefined) return undefined;
  if (typeof m !== 'object' || m === null) return 'invalid_metadata_format';
  const { event_type, event_payload } = m as Record<string, unknown>;
  if (typeof event_type !== 'string' || typeof event_payload !== 'object' || event_payload === null) return 'invalid_metadata_format';
  return undefined;
}

export async function startFakeSlack(opts: { token?: string; channels?: string[] } = {}): Promise<FakeSlack> {
  const state: FakeSlackState = {
    token: opts.token ?? 'xoxb-test-token',
    channels: new Map((opts.channels ?? ['C0APPROVALS', 'C0INCIDENTS']).map((c) => [c, []])),
    lastTsMicros: 0,
  };
  const newTs = (): string => {
    state.lastTsMicros = Math.max(Date.now() * 1000, state.lastTsMicros + 1);
    const s = String(state.lastTsMicros);
    return `${s.slice(0, 10)}.${s.slice(10)}`;
  };

  const view = (m: FakeSlackMessage, withMetadata: boolean): Record<string, unknown> => {
    const { metadata, ...rest } = m;
    return withMetadata && metadata ? { ...rest, metadata } : rest;
  };

  const methods: Record<string, (b: Record<string, unknown>) => FakeReply> = {
    'auth.test': () => ok({ url: 'https://fake.slack.test/', team: 'Fake', user: 'loopwright', team_id: 'T0FAKE', user_id: 'U0BOT', bot_id: 'B0BOT' }),

    'chat.postMessage': (b) => {
      const channel = b.channel;
      if (typeof channel !== 'string' || channel === '') return fail('channel_not_found');
      const msgs = state.channels.get(channel);
      if (!msgs) return fail('channel_not_found');
      const blocks = field(b, 'blocks');
      const metadata = field(b, 'metadata');
      const text = typeof b.text === 'string' ? b.text : '';
      if (text === '' && blocks === undefined) return fail('no_text');
      if (text.length > 40_000) return fail('msg_too_long');
      if (blocks !== undefined) {
        const e = validateBlocks(blocks);
        if (e) return fail(e);
      }
      const me = validateMetadata(metadata);
      if (me) return fail(me);
      const msg: FakeSlackMessage = {
        type: 'message',
        ts: newTs(),
        text,
        bot_id: 'B0BOT',
        ...(blocks === undefined ? {} : { blocks: blocks as unknown[] }),
        ...(metadata === undefined ? {} : { metadata: metadata as FakeSlackMessage['metadata'] & object }),
      };
      msgs.push(msg);
      return ok({ channel, ts: msg.ts, message: view(msg, false) });
    },

    'chat.update': (b) => {
      const msgs = typeof b.channel === 'string' ? state.channels.get(b.channel) : undefined;
      if (!msgs) return fail('channel_not_found');
      const msg = msgs.find((m) => m.ts === b.ts);
      if (!msg) return fail('message_not_found');
      const blocks = field(b, 'blocks');
      const metadata = field(b, 'metadata');
      if (blocks !== undefined) {
        const e = validateBlocks(blocks);
        if (e) return fail(e);
      }
      const me = validateMetadata(metadata);
      if (me) return fail(me);
      // Documented: without `blocks`, old blocks survive only if `text` is not given either.
      if (blocks !== undefined) msg.blocks = blocks as unknown[];
      else if (typeof b.text === 'string') delete msg.blocks;
      // Undocumented in Slack's reference: metadata omitted from an update is kept here; the adapter
      // re-sends it anyway (see updateMessage/recordDecision) so it does not rely on either behaviour.
      if (metadata !== undefined) msg.metadata = metadata as FakeSlackMessage['metadata'] & object;
      if (typeof b.text === 'string') msg.text = b.text;
      msg.edited = { ts: newTs() };
      return ok({ channel: b.channel, ts: msg.ts, text: msg.text, message: view(msg, false) });
    },

    'chat.delete': (b) => {
      const msgs = typeof b.channel === 'string' ? state.channels.get(b.channel) : undefined;
      if (!msgs) return fail('channel_not_found');
      const i = msgs.findIndex((m) => m.ts === b.ts);
      if (i < 0) return fail('message_not_found');
      msgs.splice(i, 1);
      return ok({ channel: b.channel, ts: b.ts });
    },

    'conversations.history': (b) => {
      const msgs = typeof b.channel === 'string' ? state.channels.get(b.channel) : undefined;
      if (!msgs) return fail('channel_not_found');
      const inclusive = truthy(b.inclusive);
      const latest = b.latest === undefined ? Infinity : Number(b.latest);
      const oldest = b.oldest === undefined ? 0 : Number(b.oldest);
      const limit = Math.min(Math.max(Number(b.limit ?? 100) || 100, 1), 999);
      const offset = typeof b.cursor === 'string' && b.cursor !== '' ? Number(Buffer.from(b.cursor, 'base64').toString().replace('offset:', '')) : 0;
      const inRange = [...msgs]
        .reverse()
        .filter((m) => {
          const t = Number(m.ts);
          return (inclusive ? t <= latest : t < latest) && (inclusive ? t >= oldest : t > oldest);
        });
      const page = inRange.slice(offset, offset + limit);
      const hasMore = offset + limit < inRange.length;
      return ok({
        messages: page.map((m) => view(m, truthy(b.include_all_metadata))),
        has_more: hasMore,
        response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
      });
    },
  };

  const handle = (req: RecordedRequest): FakeReply => {
    const m = /^\/api\/([a-zA-Z.]+)$/.exec(req.path);
    if (req.method !== 'POST' || !m?.[1]) return { status: 404, body: 'Not Found' };
    const impl = methods[m[1]];
    if (!impl) return fail('unknown_method');
    const auth = req.headers.authorization;
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const token = typeof auth === 'string' ? auth.replace(/^Bearer /, '') : body.token;
    if (token === undefined || token === '') return fail('not_authed');
    if (token !== state.token) return fail('invalid_auth');
    return impl(body);
  };

  const server = await startHttpFake(handle, (status) => (status === 429 ? { ok: false, error: 'ratelimited' } : `<html>${status}</html>`));
  return {
    ...server,
    state,
    apiUrl: `${server.url}/api/`,
    messages: (channel) => state.channels.get(channel) ?? [],
  };
}
