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
//   Threads (chat.postMessage thread_ts; conversations.replies ts/limit/cursor/include_all_metadata,
//   parent first; replies are not in conversations.history): https://docs.slack.dev/messaging/#threading
//     https://docs.slack.dev/reference/methods/conversations.replies
//   views.open (trigger_id, view; expired_trigger_id: a trigger id is good for one view within 3 s):
//     https://docs.slack.dev/reference/methods/views.open
//   Message shortcuts (payload type message_action: callback_id, trigger_id, user, channel, message,
//     message_ts, response_url): https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload
//   view_submission (view.id, callback_id, private_metadata, state.values[block_id][action_id] with
//     `value` for plain_text_input and `selected_option` for static_select):
//     https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
//   static_select (options ≤ 100, option text ≤ 75, value ≤ 150, placeholder ≤ 150):
//     https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element
//   views.update (view_id or external_id, view; not_found): https://docs.slack.dev/reference/methods/views.update
//   chat.postEphemeral (channel, user, text): https://docs.slack.dev/reference/methods/chat.postEphemeral
//   Block Kit element limits: header 150, section text 3000, fields ≤ 10 of ≤ 2000, context ≤ 10
//     elements, button text 75 / value 2000 / url 3000 / action_id 255, confirmation dialog title 100
//     / text 300 / confirm 30 / deny 30, modal title/submit/close 24, 100 blocks, private_metadata 3000,
//     plain_text_input max_length ≤ 3000: https://docs.slack.dev/reference/block-kit/
//   Message metadata (event_type + event_payload): https://docs.slack.dev/messaging/message-metadata/
//   Block Kit limits (section text 3000, button value 2000, 50 blocks):
//     https://docs.slack.dev/reference/block-kit/blocks/
//   Rate limits (HTTP 429 + Retry-After seconds): https://docs.slack.dev/apis/web-api/rate-limits
//   response_url of slash commands and interactions (POST JSON with text/blocks, response_type
//     ephemeral|in_channel, replace_original, delete_original; answers 200 "ok"; up to 5 uses in 30 min):
//     https://docs.slack.dev/interactivity/handling-user-interaction/#message_responses
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
  /** Set on thread replies: the parent's ts. */
  thread_ts?: string;
  reply_count?: number;
}

export interface FakeSlackView {
  id: string;
  trigger_id: string;
  /** The view as last opened or updated (views.update replaces it). */
  view: Record<string, unknown>;
  /** How many times views.update replaced it. */
  updates?: number;
}

export interface FakeSlackState {
  token: string;
  /** channel id → messages, oldest first. */
  channels: Map<string, FakeSlackMessage[]>;
  /** Last ts issued, in microseconds: ts values follow the wall clock and are unique per message. */
  lastTsMicros: number;
  /** Thread replies by channel, then parent ts, oldest first (kept apart: history does not list them). */
  replies: Map<string, Map<string, FakeSlackMessage[]>>;
  /** Modals opened with views.open. */
  views: FakeSlackView[];
  /** Ephemeral messages (channel, user, text). */
  ephemeral: Array<{ channel: string; user: string; text: string }>;
  /** Trigger ids views.open accepts (each once); empty: any trigger id not used before is accepted. */
  validTriggers: Set<string>;
  /** When issueTrigger() handed out each trigger id (epoch ms): views.open refuses it after triggerTtlMs. */
  triggersIssuedAt: Map<string, number>;
  /** Slack's 3 s. */
  triggerTtlMs: number;
  /** Messages posted to response_url hooks (`responseUrl(id)`), oldest first. */
  responses: Array<{ path: string; body: { text?: string; response_type?: string; replace_original?: boolean; blocks?: unknown[] } }>;
}

export interface FakeSlack extends FakeServer {
  state: FakeSlackState;
  /** `${url}/api/`, the value for WebClient's `slackApiUrl`. */
  apiUrl: string;
  messages(channel: string): FakeSlackMessage[];
  /** The replies in a message's thread, oldest first. */
  thread(channel: string, ts: string): FakeSlackMessage[];
  /** A response_url as Slack sends with a slash command (`…/commands/<team>/<id>/<secret>`). */
  responseUrl(id: string): string;
  /** A fresh trigger id, as Slack puts in an interaction payload (good for one views.open within triggerTtlMs). */
  issueTrigger(): string;
  /**
   * The `payload` of a message shortcut on a message of `channel`, as Slack sends it to the
   * interactivity URL (with a fresh trigger id and an `…/actions/…` response_url).
   */
  messageShortcut(opts: { callbackId: string; user: { id: string; name: string }; channel: string; message: FakeSlackMessage }): TMessageShortcutPayload;
  /**
   * The `payload` of a view_submission of an opened modal, as Slack builds it from what the person
   * entered: `inputs` maps block_id → the typed text (plain_text_input) or the chosen option's value
   * (static_select). A block or option the view does not have throws: Slack could not send it.
   */
  viewSubmission(viewId: string, user: { id: string; name: string }, inputs: Record<string, string>): Record<string, unknown>;
}

export interface TMessageShortcutPayload {
  type: 'message_action';
  token: string;
  action_ts: string;
  team: { id: string; domain: string };
  user: { id: string; name: string };
  channel: { id: string; name: string };
  callback_id: string;
  trigger_id: string;
  message_ts: string;
  message: FakeSlackMessage;
  response_url: string;
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

type TObj = Record<string, unknown>;
const textOf = (o: unknown): string | undefined => (typeof o === 'object' && o !== null && typeof (o as TObj).text === 'string' ? ((o as TObj).text as string) : undefined);
const tooLong = (o: unknown, max: number): boolean => (textOf(o)?.length ?? 0) > max;
const isPlain = (o: unknown): boolean => typeof o === 'object' && o !== null && (o as TObj).type === 'plain_text' && typeof (o as TObj).text === 'string';

function validateElement(el: TObj): boolean {
  if (typeof el.action_id === 'string' && el.action_id.length > 255) return false;
  if (el.type === 'button') {
    if (!isPlain(el.text) || tooLong(el.text, 75)) return false;
    if (typeof el.value === 'string' && el.value.length > 2000) return false;
    if (typeof el.url === 'string' && el.url.length > 3000) return false;
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') return false;
    const c = el.confirm as TObj | undefined;
    if (c !== undefined) {
      if (!isPlain(c.title) || tooLong(c.title, 100) || textOf(c.text) === undefined || tooLong(c.text, 300)) return false;
      if (!isPlain(c.confirm) || tooLong(c.confirm, 30) || !isPlain(c.deny) || tooLong(c.deny, 30)) return false;
    }
  }
  if (el.type === 'plain_text_input' && typeof el.max_length === 'number' && el.max_length > 3000) return false;
  if (el.placeholder !== undefined && (!isPlain(el.placeholder) || tooLong(el.placeholder, 150))) return false;
  if (el.type === 'static_select') {
    const options = el.options as TObj[] | undefined;
    if (!Array.isArray(options) || options.length === 0 || options.length > 100) return false;
    if (!options.every((o) => isPlain(o.text) && !tooLong(o.text, 75) && typeof o.value === 'string' && o.value.length <= 150)) return false;
  }
  return true;
}

function validateBlocks(blocks: unknown, max = 50): string | undefined {
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > max) return 'invalid_blocks';
  const ids = new Set<string>();
  for (const b of blocks as TObj[]) {
    if (typeof b !== 'object' || b === null || typeof b.type !== 'string') return 'invalid_blocks';
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > 255 || ids.has(b.block_id)) return 'invalid_blocks';
      ids.add(b.block_id);
    }
    if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined) return 'invalid_blocks';
      if (tooLong(b.text, 3000)) return 'invalid_blocks';
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) return 'invalid_blocks';
        if ((b.fields as unknown[]).some((f) => textOf(f) === undefined || tooLong(f, 2000))) return 'invalid_blocks';
      }
      if (b.expand !== undefined && typeof b.expand !== 'boolean') return 'invalid_blocks';
    }
    if (b.type === 'header' && (!isPlain(b.text) || tooLong(b.text, 150))) return 'invalid_blocks';
    if (b.type === 'context') {
      const els = b.elements;
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) return 'invalid_blocks';
    }
    if (b.type === 'actions') {
      const els = b.elements as TObj[] | undefined;
      if (!Array.isArray(els) || els.length === 0 || els.length > 25) return 'invalid_blocks';
      if (!els.every(validateElement)) return 'invalid_blocks';
    }
    if (b.type === 'input') {
      if (!isPlain(b.label) || tooLong(b.label, 2000)) return 'invalid_blocks';
      if (b.hint !== undefined && (!isPlain(b.hint) || tooLong(b.hint, 2000))) return 'invalid_blocks';
      if (b.optional !== undefined && typeof b.optional !== 'boolean') return 'invalid_blocks';
      const el = b.element as TObj | undefined;
      if (!el || typeof el.type !== 'string' || !validateElement(el)) return 'invalid_blocks';
    }
  }
  return undefined;
}

/** A modal view object (docs.slack.dev/reference/views/modal-views), as views.open checks it. */
function validateModal(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'invalid_arguments';
  const view = v as TObj;
  if (view.type !== 'modal' || !isPlain(view.title) || tooLong(view.title, 24)) return 'invalid_arguments';
  for (const k of ['submit', 'close'] as const) if (view[k] !== undefined && (!isPlain(view[k]) || tooLong(view[k], 24))) return 'invalid_arguments';
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) return 'invalid_arguments';
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) return 'invalid_arguments';
  const blocks = view.blocks as TObj[] | undefined;
  if (validateBlocks(blocks, 100)) return 'invalid_arguments';
  // `submit` is required when the view has an input block.
  if (blocks?.some((b) => b.type === 'input') && view.submit === undefined) return 'invalid_arguments';
  return undefined;
}

/** The `view` argument (form bodies carry it as a JSON string); undefined when it is not valid JSON. */
function viewOf(b: Record<string, unknown>): unknown {
  if (typeof b.view !== 'string') return b.view;
  try {
    return JSON.parse(b.view) as unknown;
  } catch {
    return undefined;
  }
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
    replies: new Map(),
    views: [],
    ephemeral: [],
    validTriggers: new Set(),
    triggersIssuedAt: new Map(),
    triggerTtlMs: 3_000,
    responses: [],
  };
  const usedTriggers = new Set<string>();
  let hooks = 0;
  let triggers = 0;
  const issueTrigger = (): string => {
    const id = `${++triggers}.${Date.now()}.fake${triggers.toString(16).padStart(8, '0')}`;
    state.triggersIssuedAt.set(id, Date.now());
    return id;
  };
  const threadOf = (channel: string, ts: string): FakeSlackMessage[] => {
    let byParent = state.replies.get(channel);
    if (!byParent) state.replies.set(channel, (byParent = new Map()));
    let list = byParent.get(ts);
    if (!list) byParent.set(ts, (list = []));
    return list;
  };
  const findAnywhere = (channel: string, ts: unknown): FakeSlackMessage | undefined =>
    state.channels.get(channel)?.find((m) => m.ts === ts) ?? [...(state.replies.get(channel)?.values() ?? [])].flat().find((m) => m.ts === ts);
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
      const threadTs = typeof b.thread_ts === 'string' && b.thread_ts !== '' ? b.thread_ts : undefined;
      const parent = threadTs ? msgs.find((m) => m.ts === threadTs) : undefined;
      if (threadTs && !parent) return fail('thread_not_found');
      const msg: FakeSlackMessage = {
        type: 'message',
        ts: newTs(),
        text,
        bot_id: 'B0BOT',
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(blocks === undefined ? {} : { blocks: blocks as unknown[] }),
        ...(metadata === undefined ? {} : { metadata: metadata as FakeSlackMessage['metadata'] & object }),
      };
      if (parent && threadTs) {
        threadOf(channel, threadTs).push(msg);
        parent.thread_ts = threadTs;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
      } else msgs.push(msg);
      return ok({ channel, ts: msg.ts, message: view(msg, false) });
    },

    'chat.update': (b) => {
      const msgs = typeof b.channel === 'string' ? state.channels.get(b.channel) : undefined;
      if (!msgs) return fail('channel_not_found');
      const msg = findAnywhere(b.channel as string, b.ts);
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

    'conversations.replies': (b) => {
      const channel = typeof b.channel === 'string' ? b.channel : '';
      const msgs = state.channels.get(channel);
      if (!msgs) return fail('channel_not_found');
      const parent = msgs.find((m) => m.ts === b.ts);
      if (!parent) return fail('thread_not_found');
      const all = [parent, ...threadOf(channel, parent.ts)];
      const limit = Math.min(Math.max(Number(b.limit ?? 1000) || 1000, 1), 1000);
      const offset = typeof b.cursor === 'string' && b.cursor !== '' ? Number(Buffer.from(b.cursor, 'base64').toString().replace('offset:', '')) : 0;
      const page = all.slice(offset, offset + limit);
      const hasMore = offset + limit < all.length;
      return ok({
        messages: page.map((m) => view(m, truthy(b.include_all_metadata))),
        has_more: hasMore,
        response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
      });
    },

    'views.open': (b) => {
      const trigger = b.trigger_id;
      if (typeof trigger !== 'string' || trigger === '') return fail('invalid_arguments');
      // A trigger id is good for one view (and, in Slack, 3 seconds).
      if (usedTriggers.has(trigger) || (state.validTriggers.size > 0 && !state.validTriggers.has(trigger))) return fail('expired_trigger_id');
      const issuedAt = state.triggersIssuedAt.get(trigger);
      if (issuedAt !== undefined && Date.now() - issuedAt > state.triggerTtlMs) return fail('expired_trigger_id');
      usedTriggers.add(trigger);
      const v = viewOf(b);
      const e = v === undefined ? 'invalid_arguments' : validateModal(v);
      if (e) return fail(e);
      const opened = { id: `V${String(state.views.length + 1).padStart(8, '0')}`, trigger_id: trigger, view: v as Record<string, unknown> };
      state.views.push(opened);
      return ok({ view: { id: opened.id, ...opened.view } });
    },

    'views.update': (b) => {
      const id = typeof b.view_id === 'string' && b.view_id !== '' ? b.view_id : undefined;
      if (!id) return fail('invalid_arguments');
      const opened = state.views.find((x) => x.id === id);
      if (!opened) return fail('not_found');
      const v = viewOf(b);
      const e = v === undefined ? 'invalid_arguments' : validateModal(v);
      if (e) return fail(e);
      opened.view = v as Record<string, unknown>;
      opened.updates = (opened.updates ?? 0) + 1;
      return ok({ view: { id: opened.id, ...opened.view } });
    },

    'chat.postEphemeral': (b) => {
      const channel = typeof b.channel === 'string' ? b.channel : '';
      if (!state.channels.has(channel)) return fail('channel_not_found');
      if (typeof b.user !== 'string' || b.user === '') return fail('user_not_in_channel');
      const text = typeof b.text === 'string' ? b.text : '';
      if (text === '') return fail('no_text');
      state.ephemeral.push({ channel, user: b.user, text });
      return ok({ message_ts: newTs() });
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
    if (req.path.startsWith('/commands/') || req.path.startsWith('/actions/')) {
      // A response_url: at most 5 responses each; text or blocks; ephemeral or in_channel.
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as FakeSlackState['responses'][number]['body'];
      if (req.method !== 'POST') return { status: 404, body: 'Not Found' };
      if (state.responses.filter((r) => r.path === req.path).length >= 5) return { status: 404, body: 'used_url' };
      if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return { status: 400, body: 'no_text' };
      if (body.response_type !== undefined && body.response_type !== 'ephemeral' && body.response_type !== 'in_channel') return { status: 400, body: 'invalid_response_type' };
      state.responses.push({ path: req.path, body });
      return { status: 200, body: 'ok' };
    }
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
    thread: (channel, ts) => state.replies.get(channel)?.get(ts) ?? [],
    responseUrl: (id) => `${server.url}/commands/T0FAKE/${id}/hook-secret`,
    issueTrigger,
    messageShortcut: ({ callbackId, user, channel, message }) => ({
      type: 'message_action',
      token: 'legacy-verification-token-unused',
      action_ts: newTs(),
      team: { id: 'T0FAKE', domain: 'fake' },
      user,
      channel: { id: channel, name: channel.toLowerCase() },
      callback_id: callbackId,
      trigger_id: issueTrigger(),
      message_ts: message.ts,
      message,
      response_url: `${server.url}/actions/T0FAKE/${++hooks}/hook-secret`,
    }),
    viewSubmission: (viewId, user, inputs) => {
      const opened = state.views.find((v) => v.id === viewId);
      if (!opened) throw new Error(`no view ${viewId} was opened`);
      const blocks = (opened.view.blocks ?? []) as TObj[];
      const values: Record<string, Record<string, unknown>> = {};
      for (const [blockId, input] of Object.entries(inputs)) {
        const block = blocks.find((b) => b.type === 'input' && b.block_id === blockId);
        if (!block) throw new Error(`view ${viewId} has no input block ${blockId}`);
        const el = block.element as TObj;
        if (el.type === 'static_select') {
          const option = (el.options as TObj[]).find((o) => o.value === input);
          if (!option) throw new Error(`${blockId} has no option ${input}`);
          values[blockId] = { [el.action_id as string]: { type: 'static_select', selected_option: option } };
        } else {
          values[blockId] = { [el.action_id as string]: { type: el.type, value: input } };
        }
      }
      // Inputs left empty are in state.values too: null value / selected_option.
      for (const b of blocks.filter((x) => x.type === 'input' && typeof x.block_id === 'string' && !(x.block_id in values))) {
        const el = b.element as TObj;
        values[b.block_id as string] = { [el.action_id as string]: el.type === 'static_select' ? { type: 'static_select', selected_option: null } : { type: el.type, value: null } };
      }
      return {
        type: 'view_submission',
        team: { id: 'T0FAKE', domain: 'fake' },
        user: { id: user.id, username: user.name, name: user.name, team_id: 'T0FAKE' },
        api_app_id: 'A0LOOPWRIGHT',
        token: 'legacy-verification-token-unused',
        trigger_id: issueTrigger(),
        view: { ...opened.view, id: opened.id, team_id: 'T0FAKE', state: { values }, hash: `${opened.id}.hash`, app_id: 'A0LOOPWRIGHT', bot_id: 'B0BOT' },
        response_urls: [],
      };
    },
  };
}
