// A fake OpenAI-compatible Chat Completions endpoint that the real `openai` package talks to
// unmodified (construct the client with `baseURL: fake.baseURL`). Documentation followed:
//   Chat Completions (request body, response envelope, usage):
//     https://platform.openai.com/docs/api-reference/chat/create
//   Structured Outputs (response_format { type: 'json_schema', json_schema: { name, strict, schema } }):
//     https://platform.openai.com/docs/guides/structured-outputs
//   Error envelope `{ error: { message, type, param, code } }` and codes:
//     https://platform.openai.com/docs/guides/error-codes
//   Rate limits (429, retry-after / x-ratelimit-* headers):
//     https://platform.openai.com/docs/guides/rate-limits
// Replies come from a script (`enqueue`) or, by default, from a small deterministic "model": it
// picks the schema enum value whose words best overlap the user message. Usage tokens are counted
// as ceil(chars / 4), the usual rule of thumb, so budgets can be tested with predictable numbers.
// Test-only: product code must never import this file.
import { startHttpFake, type FakeReply, type FakeServer, type RecordedRequest } from './http-fake.js';

export interface ScriptedCompletion {
  /** Raw assistant message content (may be deliberately malformed). */
  content?: string;
  refusal?: string;
  finishReason?: 'stop' | 'length' | 'content_filter';
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface FakeOpenAiState {
  apiKey: string;
  /** Model names the server knows; others get 404 model_not_found. */
  models: Set<string>;
  script: ScriptedCompletion[];
  completions: number;
}

export interface FakeOpenAi extends FakeServer {
  state: FakeOpenAiState;
  /** `${url}/v1`, the value for the client's `baseURL`. */
  baseURL: string;
  enqueue(...replies: ScriptedCompletion[]): void;
}

const apiError = (status: number, message: string, type: string, code: string | null, param: string | null = null, headers?: Record<string, string>): FakeReply => ({
  status,
  body: { error: { message, type, param, code } },
  ...(headers ? { headers } : {}),
});

const tokens = (s: string): number => Math.ceil(s.length / 4);

/** The default "model": the enum category whose id words (split on _) appear most in the message. */
function keywordAnswer(schema: unknown, userText: string): string {
  const props = (schema as { properties?: { category?: { enum?: unknown[] } } } | undefined)?.properties;
  const options = (props?.category?.enum ?? []).filter((v): v is string => typeof v === 'string' && v !== 'needs_review');
  const words = new Set(userText.toLowerCase().split(/[^a-z0-9]+/));
  let best = 'needs_review';
  let bestScore = 0;
  for (const o of options) {
    const score = o.split('_').filter((w) => words.has(w)).length;
    if (score > bestScore) {
      best = o;
      bestScore = score;
    }
  }
  return JSON.stringify({ category: best, confidence: bestScore > 0 ? 0.9 : 0.2, alternatives: [] });
}

export async function startFakeOpenAi(opts: { apiKey?: string; models?: string[] } = {}): Promise<FakeOpenAi> {
  const state: FakeOpenAiState = {
    apiKey: opts.apiKey ?? 'sk-test-key',
    models: new Set(opts.models ?? ['gpt-4o-mini', 'llama3.1:8b']),
    script: [],
    completions: 0,
  };

  const handle = (req: RecordedRequest): FakeReply => {
    if (req.headers.authorization !== `Bearer ${state.apiKey}`) {
      return apiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return apiError(404, `Unknown request URL: ${req.method} ${req.path}.`, 'invalid_request_error', 'unknown_url');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return apiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    if (typeof body.model !== 'string') return apiError(400, "you must provide a model parameter", 'invalid_request_error', null, 'model');
    if (!state.models.has(body.model)) return apiError(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) return apiError(400, "'messages' must contain at least one message", 'invalid_request_error', null, 'messages');
    for (const [i, m] of (messages as Array<Record<string, unknown>>).entries()) {
      if (!['system', 'developer', 'user', 'assistant'].includes(String(m.role)) || typeof m.content !== 'string') {
        return apiError(400, `Invalid value for 'messages[${i}]'.`, 'invalid_request_error', 'invalid_value', `messages[${i}]`);
      }
    }
    const rf = body.response_format as { type?: string; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } } | undefined;
    if (rf !== undefined) {
      if (rf.type === 'json_schema') {
        if (typeof rf.json_schema?.name !== 'string' || typeof rf.json_schema.schema !== 'object') {
          return apiError(400, "Missing required parameter: 'response_format.json_schema.name'.", 'invalid_request_error', 'missing_required_parameter', 'response_format.json_schema');
        }
        const s = rf.json_schema.schema as { additionalProperties?: unknown };
        if (rf.json_schema.strict === true && s.additionalProperties !== false) {
          return apiError(400, "Invalid schema for response_format: 'additionalProperties' is required to be supplied and to be false.", 'invalid_request_error', 'invalid_value', 'response_format');
        }
      } else if (rf.type !== 'json_object' && rf.type !== 'text') {
        return apiError(400, `Invalid value: '${String(rf.type)}'.`, 'invalid_request_error', 'invalid_value', 'response_format.type');
      }
    }
    const typed = messages as Array<{ role: string; content: string }>;
    const promptText = typed.map((m) => m.content).join('\n');
    const lastUser = [...typed].reverse().find((m) => m.role === 'user')?.content ?? '';
    const scripted = state.script.shift();
    const content = scripted?.refusal ? null : (scripted?.content ?? keywordAnswer(rf?.json_schema?.schema, lastUser));
    state.completions++;
    const usage = scripted?.usage ?? { prompt_tokens: tokens(promptText), completion_tokens: tokens(content ?? scripted?.refusal ?? '') };
    return {
      status: 200,
      headers: { 'x-request-id': `req_${state.completions}`, 'x-ratelimit-remaining-tokens': '100000' },
      body: {
        id: `chatcmpl-fake${state.completions}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: `${body.model}-2024-07-18`,
        system_fingerprint: 'fp_fake',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: scripted?.refusal ?? null },
            logprobs: null,
            finish_reason: scripted?.finishReason ?? 'stop',
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      },
    };
  };

  const server = await startHttpFake(handle, (status) =>
    status === 429
      ? { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }
      : { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } },
  );
  return {
    ...server,
    state,
    baseURL: `${server.url}/v1`,
    enqueue: (...replies) => {
      state.script.push(...replies);
    },
  };
}
