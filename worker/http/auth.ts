// Bearer-token authentication for the intake and API routes. Tokens come from configuration
// (env or files, read by worker/config.ts); they are compared as SHA-256 digests with
// timingSafeEqual, so neither the length nor a matching prefix leaks through timing.
// A token may be bound to a principal (a Slack user id and name): requests made with it act as that
// person, e.g. an approval through the API or the CLI; the identity is never taken from the request.
// Must not: log the Authorization header or say which part of a token was wrong.
import { createHash, timingSafeEqual } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';

export interface TApiPrincipal {
  id: string;
  name: string;
}

/** A bare token (intake, read-only use) or one bound to the person it acts as. */
export type TApiToken = string | { token: string; principal: TApiPrincipal };

export interface BearerAuth {
  /** Throws `unauthorized` unless the header carries one of the configured tokens; returns its principal. */
  check(authorization: string | undefined): TApiPrincipal | null;
}

/** Marks the error so the error mapper adds `WWW-Authenticate: Bearer`. */
const BEARER = { scheme: 'bearer' };
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Parses one API_TOKENS entry: `TOKEN`, or `<SlackUserId>:<Display name>:TOKEN` for a token that
 * acts as that approver.
 */
export function parseApiToken(entry: string): TApiToken {
  const m = /^([UW][A-Z0-9]{2,}):([^:]+):(.+)$/.exec(entry);
  return m ? { token: m[3]!, principal: { id: m[1]!, name: m[2]!.trim() } } : entry;
}

export function createBearerAuth(tokens: readonly TApiToken[]): BearerAuth {
  const usable = tokens.map((t) => (typeof t === 'string' ? { token: t, principal: null } : t)).filter((t) => t.token.length > 0);
  if (usable.length === 0) {
    throw new LoopwrightError('invalid_config', 'at least one API token is required (config.apiTokens)', { details: { field: 'apiTokens' } });
  }
  const known = usable.map((t) => ({ digest: digest(t.token), principal: t.principal }));
  return {
    check(authorization) {
      const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '');
      if (!m) throw new LoopwrightError('unauthorized', authorization ? 'Authorization must be "Bearer <token>"' : 'missing bearer token', { details: BEARER });
      const given = digest(m[1]!);
      // Compare against every token, no early exit: the time does not depend on which one matched.
      let match: (typeof known)[number] | null = null;
      for (const k of known) if (timingSafeEqual(k.digest, given)) match = k;
      if (!match) throw new LoopwrightError('unauthorized', 'invalid bearer token', { details: BEARER });
      return match.principal;
    },
  };
}
