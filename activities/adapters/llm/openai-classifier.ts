// The LLM classifier: masked text in, a taxonomy category out, through any OpenAI-compatible Chat
// Completions endpoint (OpenAI, Azure OpenAI's /openai/v1, Ollama, vLLM) via the `openai` package.
// Owns the call, output validation, the malformed-output retry and usage recording.
// Contract with callers (the `Classifier` port): ordinary text never throws — malformed, refused or
// out-of-taxonomy answers become needs_review with a reviewReason. Transport failures (429, 5xx,
// auth, network) do throw coded LoopwrightErrors, so the activity retries or the cascade falls back.
// Must only ever receive masked text, and never logs the prompt, the answer or the API key.
import OpenAI from 'openai';
import { z } from 'zod';
import { LoopwrightError, formatIssues } from '../../../workflows/domain/errors.js';
import { taxonomyVersionTag, type TTaxonomy } from '../../../workflows/domain/taxonomy.js';
import { NEEDS_REVIEW, type TClassification, type TUsage } from '../../../workflows/domain/triage.js';
import type { Classifier } from '../../triage/ports.js';
import { errorFromHttpStatus, networkError, unexpectedError } from '../http-errors.js';
import { PROMPT_VERSION, buildAnswerSchema, buildResponseSchema, buildSystemPrompt, buildUserPrompt } from './classification-prompt.js';

export const ZOpenAiClassifierConfig = z.strictObject({
  /** e.g. https://api.openai.com/v1, https://<resource>.openai.azure.com/openai/v1, http://localhost:11434/v1 */
  baseUrl: z.url(),
  /** From env or a secrets file. Local servers (Ollama, vLLM) accept any non-empty string. */
  apiKey: z.string().min(1),
  model: z.string().min(1),
  /** Structured Outputs where supported; `json_object` for servers that only offer JSON mode. */
  responseFormat: z.enum(['json_schema', 'json_object']).default('json_schema'),
  /** Total attempts when the answer is malformed or names an unknown category (then needs_review). */
  maxAttempts: z.number().int().min(1).max(5).default(2),
  /** Transport retries inside the SDK (it honours Retry-After); 0 leaves them to the activity. */
  maxRetries: z.number().int().min(0).max(5).default(0),
  timeoutMs: z.number().int().positive().default(30_000),
  maxCompletionTokens: z.number().int().positive().default(300),
  /** Below this confidence the answer is needs_review; defaults to the taxonomy's threshold. */
  threshold: z.number().min(0).max(1).optional(),
  /** Extra headers/query (e.g. Azure's `api-version` on the legacy deployments API). */
  defaultHeaders: z.record(z.string(), z.string()).optional(),
  defaultQuery: z.record(z.string(), z.string()).optional(),
});
export type TOpenAiClassifierConfig = z.input<typeof ZOpenAiClassifierConfig>;

export interface LlmClassifier extends Classifier {
  readonly promptVersion: string;
  readonly model: string;
}

/** Maps the SDK's errors to coded errors; the message never includes the request. */
export function mapOpenAiError(e: unknown): LoopwrightError {
  if (e instanceof LoopwrightError) return e;
  if (e instanceof OpenAI.APIConnectionError || e instanceof OpenAI.APIUserAbortError) return networkError('openai', 'chat.completions', e);
  if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
    const err = e.error as { code?: unknown; message?: unknown } | undefined;
    const upstream = [err?.code, err?.message].filter((x): x is string => typeof x === 'string').join(': ');
    const retryAfter = e.headers?.get('retry-after-ms') ? String(Number(e.headers.get('retry-after-ms')) / 1000) : e.headers?.get('retry-after');
    return errorFromHttpStatus({ system: 'openai', operation: 'chat.completions', status: e.status, retryAfter, upstreamMessage: upstream || undefined });
  }
  return unexpectedError('openai', 'chat.completions', e);
}

export function createOpenAiClassifier(config: TOpenAiClassifierConfig, taxonomy: TTaxonomy, client?: OpenAI): LlmClassifier {
  const parsed = ZOpenAiClassifierConfig.safeParse(config);
  if (!parsed.success) throw new LoopwrightError('invalid_config', `openai classifier config: ${formatIssues(parsed.error.issues)}`);
  const cfg = parsed.data;
  const openai =
    client ??
    new OpenAI({
      baseURL: cfg.baseUrl,
      apiKey: cfg.apiKey,
      maxRetries: cfg.maxRetries,
      timeout: cfg.timeoutMs,
      ...(cfg.defaultHeaders ? { defaultHeaders: cfg.defaultHeaders } : {}),
      ...(cfg.defaultQuery ? { defaultQuery: cfg.defaultQuery } : {}),
    });
  const threshold = cfg.threshold ?? taxonomy.confidenceThreshold;
  const taxonomyVersion = taxonomyVersionTag(taxonomy);
  const system = buildSystemPrompt(taxonomy);
  const answerSchema = buildAnswerSchema(taxonomy);
  const responseFormat =
    cfg.responseFormat === 'json_schema'
      ? ({ type: 'json_schema', json_schema: { name: 'triage_classification', strict: true, schema: buildResponseSchema(taxonomy) } } as const)
      : ({ type: 'json_object' } as const);

  return {
    modelVersion: `openai-compatible:${cfg.model}`,
    promptVersion: PROMPT_VERSION,
    model: cfg.model,

    async classify(maskedText: string): Promise<TClassification> {
      const started = performance.now();
      const usage: TUsage = { promptTokens: 0, completionTokens: 0, latencyMs: 0 };
      const messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }> = [
        { role: 'system', content: system },
        { role: 'user', content: buildUserPrompt(maskedText) },
      ];
      let servedModel = cfg.model;
      let lastProblem = 'no answer';

      const result = (c: Omit<TClassification, 'source' | 'taxonomyVersion' | 'modelVersion' | 'promptVersion' | 'usage'>): TClassification => ({
        ...c,
        source: 'llm',
        taxonomyVersion,
        // The served model (e.g. gpt-4o-mini-2024-07-18) is what actually decided; record it.
        modelVersion: `openai-compatible:${servedModel}`,
        promptVersion: PROMPT_VERSION,
        usage: { ...usage, latencyMs: Math.round(performance.now() - started) },
      });

      for (let attempt = 1; attempt <= cfg.maxAttempts; attempt++) {
        let completion: OpenAI.Chat.Completions.ChatCompletion;
        try {
          completion = await openai.chat.completions.create({
            model: cfg.model,
            messages,
            temperature: 0,
            max_completion_tokens: cfg.maxCompletionTokens,
            response_format: responseFormat,
          });
        } catch (e) {
          throw mapOpenAiError(e);
        }
        servedModel = completion.model || cfg.model;
        usage.promptTokens += completion.usage?.prompt_tokens ?? 0;
        usage.completionTokens += completion.usage?.completion_tokens ?? 0;
        const choice = completion.choices[0];
        if (choice?.message.refusal) {
          return result({ category: NEEDS_REVIEW, confidence: 0, alternatives: [], reviewReason: 'llm_refused' });
        }
        const content = choice?.message.content ?? '';
        const problem = (() => {
          if (choice?.finish_reason === 'length') return 'answer truncated (finish_reason=length)';
          let json: unknown;
          try {
            json = JSON.parse(content);
          } catch {
            return 'answer is not JSON';
          }
          const a = answerSchema.safeParse(json);
          return a.success ? a.data : formatIssues(a.error.issues);
        })();
        if (typeof problem !== 'string') {
          const alternatives = problem.alternatives.filter((x) => x.category !== problem.category).slice(0, 3);
          if (problem.category === NEEDS_REVIEW) {
            return result({ category: NEEDS_REVIEW, confidence: problem.confidence, alternatives, reviewReason: 'llm_out_of_scope: no category fits' });
          }
          if (problem.confidence < threshold) {
            return result({
              category: NEEDS_REVIEW,
              confidence: problem.confidence,
              alternatives: [{ category: problem.category, confidence: problem.confidence }, ...alternatives].slice(0, 3),
              reviewReason: `low_confidence: ${problem.confidence} < threshold ${threshold}`,
            });
          }
          return result({ category: problem.category, confidence: problem.confidence, alternatives });
        }
        lastProblem = problem;
        // Show the model its own invalid answer and what was wrong: cheaper and likelier to converge
        // than resending the same prompt.
        messages.push(
          { role: 'assistant', content: content.slice(0, 2_000) },
          { role: 'user', content: `That answer was invalid (${problem.slice(0, 300)}). Answer again with JSON only, using one of the listed category ids.` },
        );
      }
      return result({ category: NEEDS_REVIEW, confidence: 0, alternatives: [], reviewReason: `llm_malformed_output: ${lastProblem.slice(0, 200)}` });
    },
  };
}
