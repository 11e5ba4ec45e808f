// What `snooze`, `close`, `reclassify`, `merge` and `split` share: each is one operator command sent through the
// authenticated HTTP API (POST /v1/issues/:id/<verb>), which runs the workflow's Update as the API
// token's principal; the workflow audits what it recorded, and a refusal comes back as 409 with the
// validator's code. Not a command itself: cli.ts lists only modules that export `command`.
// Must not: exit 0 when nothing was recorded.
import { parseArgs } from 'node:util';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { DEFAULT_API_URL } from './approve.js';
import { CLI_USER_AGENT, type CliCommand, type CliIo } from './types.js';
import { describeCommand, type TOperatorCommand } from '../http/operator-commands.js';

export interface TIssueCommandSpec {
  verb: TOperatorCommand;
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' }>;
  /** The request body from the options, or a usage error message. */
  body(values: Record<string, string | undefined>): Record<string, unknown> | string;
}

export function createIssueCommand(spec: TIssueCommandSpec, http: typeof fetch = fetch): CliCommand {
  const usage = `${spec.usage}
environment: LOOPWRIGHT_API_URL (default ${DEFAULT_API_URL}), LOOPWRIGHT_API_TOKEN (a token bound to you)
exit status: 0 recorded, 1 refused or unreachable, 2 usage error.
`;
  return {
    name: spec.verb,
    summary: spec.summary,
    async run(argv: string[], io: CliIo) {
      let parsed;
      try {
        parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...spec.options, help: { type: 'boolean', short: 'h', default: false } } });
      } catch (e) {
        io.stderr.write(`loopwright ${spec.verb}: ${(e as Error).message}\n\n${usage}`);
        return 2;
      }
      if (parsed.values.help) {
        io.stdout.write(usage);
        return 0;
      }
      const [raw, ...extra] = parsed.positionals;
      const body = spec.body(parsed.values as unknown as Record<string, string | undefined>);
      if (!raw || extra.length > 0 || typeof body === 'string') {
        io.stderr.write(`loopwright ${spec.verb}: ${typeof body === 'string' ? body : 'expected one issue id'}\n\n${usage}`);
        return 2;
      }
      const id = raw.startsWith('issue:') ? raw : `issue:${raw}`;
      try {
        const base = (io.env['LOOPWRIGHT_API_URL'] || DEFAULT_API_URL).replace(/\/+$/, '');
        const token = io.env['LOOPWRIGHT_API_TOKEN'];
        if (!token) throw new LoopwrightError('invalid_config', 'set LOOPWRIGHT_API_TOKEN to an API token bound to you (API_TOKENS entry U…:Name:TOKEN)');
        let res: Response;
        try {
          res = await http(`${base}/v1/issues/${encodeURIComponent(id)}/${spec.verb}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': `${CLI_USER_AGENT}/1` },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(30_000),
          });
        } catch (e) {
          throw new LoopwrightError('upstream_unavailable', `cannot reach the Loopwright API at ${base} (set LOOPWRIGHT_API_URL)`, { cause: e });
        }
        const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string }; refusal?: string };
        if (res.status === 200) {
          io.stdout.write(`${describeCommand(spec.verb, id, json)}\n`);
          return 0;
        }
        io.stderr.write(`loopwright ${spec.verb}: not recorded${json.refusal ? ` (${json.refusal})` : ''}: ${json.error?.message ?? `HTTP ${res.status}`}\n`);
        return 1;
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright ${spec.verb}: ${e.message}\n`);
        return 1;
      }
    },
  };
}
