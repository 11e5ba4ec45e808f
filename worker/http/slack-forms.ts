// The form bodies Slack posts (application/x-www-form-urlencoded), as zod schemas: app.ts parses
// each verified raw body with them and /openapi.json documents them (the routes' `schema.body`). Only the fields
// we read are constrained; Slack sends more (team_domain, channel_name, api_app_id, …) and may add
// fields at any time, so unknown ones are accepted and ignored.
// Must not: be read before the request's signature is verified (the signature covers the raw body).
import { z } from 'zod';

/** A slash command (https://api.slack.com/interactivity/slash-commands#app_command_handling). */
export const ZSlackCommandForm = z.looseObject({
  user_id: z.string().min(1).meta({ description: 'The Slack user who ran the command: who acts' }),
  user_name: z.string().optional(),
  command: z.string().optional().meta({ description: 'e.g. /loopwright' }),
  text: z.string().optional().meta({ description: '`<verb> <issue> [args]`: snooze 2h, close <reason>, reclassify <category>, merge <into>, split …' }),
  response_url: z.string().optional().meta({ description: 'Where the result is posted (ephemeral); must be on hooks.slack.com' }),
  trigger_id: z.string().optional(),
  team_id: z.string().optional(),
  channel_id: z.string().optional(),
});

/** An interaction (https://api.slack.com/interactivity/handling#payloads): one field, `payload`, holding JSON. */
export const ZSlackInteractionForm = z.looseObject({
  payload: z.string().min(1).meta({ description: 'JSON: block_actions (Approve, Reject, Preview), message_action (the loopwright_issue shortcut) or view_submission (the Reject reason modal, the issue shortcut modal)' }),
});

/** The form's fields, first value of each. */
export function formFields(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) if (!Object.hasOwn(out, k)) out[k] = v;
  return out;
}
