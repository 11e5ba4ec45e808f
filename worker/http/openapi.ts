// The HTTP API's contract, generated: every route carries its zod schemas in fastify's `schema`
// option (query, headers, body and its media types, every status it answers with), fastify
// serialises answers through them (fastify-type-provider-zod's serializerCompiler: a handler whose
// answer drifts from its schema answers 500, fields outside it are not sent), and @fastify/swagger
// builds /openapi.json (OpenAPI 3.1, schemas as JSON Schema 2020-12 through the type provider's
// transform) from the routes the app actually registered. This module holds what the routes share:
// the answers (errors.ts's envelope per status), the security requirements, the plugin's options.
// Request schemas: fastify validates them with the type provider's validatorCompiler (the query
// strings of GET /v1/issues, /v1/themes, /v1/review; errors.ts answers 400 with each field, as a
// handler's own parse does), except on a route whose handler parses its own input: the signed
// Slack and Zendesk routes verify the raw body first, Slack sends form encoding, intake answers per
// batch item, operator commands audit every refusal, some check the principal first (403 before
// 400) or fill defaults, codec and rehearsal say what they expect. Those register with
// `parsedByHandler(schema)`, a pass-through validator: the schema documents exactly what the
// handler parses with, and fastify changes nothing.
// Must not: document a body other than the one the handler parses or the serializer enforces.
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ZError } from './schemas.js';

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** One documented answer: a body (JSON unless said), or none (`z.undefined()`, e.g. 204). */
export type TAnswer = { description: string; content: Record<string, { schema: z.ZodType }> } | z.ZodUndefined;

export const answer = (description: string, schema: z.ZodType, contentType = JSON_TYPE): TAnswer => ({ description, content: { [contentType]: { schema } } });
export const noBody = (description: string): TAnswer => z.undefined().meta({ description });
export const errorAnswer = (description: string): TAnswer => answer(description, ZError);

// The error answers shared by many routes (errors.ts maps codes to these statuses).
export const E400 = errorAnswer('Invalid input: `error.fields` names each offending field (path and message)');
export const E401 = errorAnswer('Missing or wrong bearer token (`WWW-Authenticate: Bearer`)');
export const E401_SIGNED = errorAnswer('Signature missing, wrong or outside the replay window');
export const E403 = errorAnswer('Not allowed: the token is not bound to a person who may do this');
export const E404 = errorAnswer('Unknown issue, theme or playbook');
export const E409 = errorAnswer('Refused by the workflow: `refusal` says why (e.g. closed, no_open_request, not_eligible)');
export const E413 = errorAnswer('Body larger than the configured limit');
export const E415 = errorAnswer('Unsupported Content-Type');
export const E503 = errorAnswer('Temporal (or the model) unavailable; retry');
export const JSON_BODY_ERRORS = { 400: E400, 413: E413, 415: E415 } as const;
/** Every route may fail unexpectedly; its body then says nothing about internals. */
const E500 = errorAnswer('Internal error (details only in the log, under the request id)');

/** A route's answers, with the 500 every route can give. */
export const answers = (byStatus: Record<number, TAnswer>): Record<number, TAnswer> => ({ 500: E500, ...byStatus });

/** Security requirements (OpenAPI): the default is the bearer token; signed webhooks check their own signatures. */
export const SECURITY = {
  none: [],
  /** METRICS_TOKEN when configured. */
  optionalBearer: [{}, { bearer: [] }],
  codec: [{ bearer: [] }, { codecSession: [] }],
} as const satisfies Record<string, FastifySchema['security']>;

/** Documents what the handler parses itself; fastify validates nothing (see the header). */
const passThrough: FastifySchemaCompiler<unknown> = () => (data) => ({ value: data });
export const parsedByHandler = (schema: FastifySchema) => ({ schema, validatorCompiler: passThrough });

const operationId = (method: string, url: string): string =>
  `${method.toLowerCase()}${url.replace(/[:/{}._-]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;

type TOpenApi = { paths?: Record<string, Record<string, { parameters?: unknown[]; responses?: Record<string, { headers?: unknown }> }>>; components?: { schemas?: Record<string, unknown> } };

/** Requests validated and answers serialised through the routes' zod schemas; call before registering any route. */
export function useZodCompilers(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
}

/** @fastify/swagger, which records each route registered from now on; `app.swagger()` then returns the document. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Loopwright API',
        version,
        description:
          "Every response carries X-Request-Id (the caller's, when it sent a safe one: 1-128 of A-Z a-z 0-9 . _ : -). Errors share one body: `{ error: { code, message, fields? } }`. Every GET also answers HEAD. The service applies no rate limit of its own: a 429 (with Retry-After) passes on an upstream's, the LLM classifier's provider.",
      },
      security: [{ bearer: [] }],
      tags: ['operations', 'intake', 'issues', 'brain', 'webhooks', 'slack', 'codec'].map((name) => ({ name })),
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API_TOKENS entry; a token bound to a person (U…:Name:TOKEN) acts as that person' },
          codecSession: { type: 'apiKey', in: 'cookie', name: 'loopwright_codec', description: 'Set by POST /codec/session' },
        },
        parameters: {
          RequestId: { name: 'X-Request-Id', in: 'header', required: false, description: 'Echoed back; generated when absent or unsafe', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
        },
        headers: { RequestId: { description: "The request's id (the caller's or a generated UUID); logged as reqId", schema: { type: 'string' } } },
      },
    },
    transform: (input) => {
      const method = [input.route.method].flat()[0] ?? 'GET';
      if (!input.schema) return { schema: { summary: 'Undocumented', 'x-undocumented': true } as FastifySchema, url: input.url };
      const out = jsonSchemaTransform(input);
      return { ...out, schema: { ...out.schema, operationId: operationId(method, input.url) } };
    },
    transformObject: (input) => {
      const doc = jsonSchemaTransformObject(input) as TOpenApi;
      // Every request may carry, and every answer carries, X-Request-Id (app.ts).
      for (const item of Object.values(doc.paths ?? {})) {
        for (const op of Object.values(item)) {
          op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/RequestId' }];
          for (const r of Object.values(op.responses ?? {})) r.headers = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
        }
      }
      // Named schemas (z.meta({ id })) come in an input and an output variant; keep those in use.
      const text = JSON.stringify(doc.paths);
      for (const id of Object.keys(doc.components?.schemas ?? {})) if (!text.includes(`"#/components/schemas/${id}"`)) delete doc.components!.schemas![id];
      return doc as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
}
