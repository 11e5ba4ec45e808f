// Bearer-token authentication for the intake and API routes. Tokens come from configuration
// (env or files, read by worker/config.ts); they are compared as SHA-256 digests with
// timingSafeEqual, so neither the length nor a matching prefix leaks through timing.
// Must not: log the Authorization header or say which part of a token was wrong.
import { createHash, timingSafeEqual } from 'node:crypto';
import { LoopwrightError } from '../../workflows/domain/errors.js';

export interface BearerAuth {
  /** Throws `unauthorized` unless the header carries one of the configured tokens. */
  check(authorization: string | undefined): void;
}

/** Marks the error so the error mapper adds `WWW-Authenticate: Bearer`. */
const BEARER = { scheme: 'bearer' };
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function createBearerAuth(tokens: readonly string[]): BearerAuth {
  const usable = tokens.filter((t) => t.length > 0);
  if (usable.length === 0) {
    throw new LoopwrightError('invalid_config', 'at least one API token is required (config.apiTokens)', { details: { field: 'apiTokens' } });
  }
  const known = usable.map(digest);
  return {
    check(authorization) {
      const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '');
      if (!m) throw new LoopwrightError('unauthorized', authorization ? 'Authorization must be "Bearer <token>"' : 'missing bearer token', { details: BEARER });
      const given = digest(m[1]!);
      // Compare against every token, no early exit: the time does not depend on which one matched.
      let ok = false;
      for (const k of known) ok = timingSafeEqual(k, given) || ok;
      if (!ok) throw new LoopwrightError('unauthorized', 'invalid bearer token', { details: BEARER });
    },
  };
}
