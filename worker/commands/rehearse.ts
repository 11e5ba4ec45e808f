// `loopwright rehearse <issue> --playbook FILE`: what the playbook would do on one live issue if its
// round started now: each step's rendered texts, its policy verdict and who would be asked. The issue
// comes from the audit store (activities/shadow/rehearse.ts); the policy is the worker's POLICY_FILE
// unless --policy names another. Must not: run, send or record anything.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openAuditStore, parseAuditUrl, type AuditStore } from '../../activities/audit/index.js';
import { formatRehearsal, loadIssueSnapshot, normalizeIssueId, readOnlyAudit, rehearsePlaybook } from '../../activities/shadow/index.js';
import { parsePlaybook } from '../../playbooks/loader.js';
import { loadPolicyFile } from '../../policies/loader.js';
import { isLoopwrightError, LoopwrightError } from '../../workflows/domain/errors.js';
import { liveConfigFiles } from '../shadow-config.js';
import { readInputBytes, UsageError } from './args.js';
import { resolveAuditDbUrl } from './audit.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright rehearse ISSUE --playbook FILE [--policy FILE] [--db URL] [--json]

Show what the playbook would do on the issue if its round started now: the steps, their rendered
texts, the policy verdict of each and who would be asked. Runs, sends and records nothing.

  ISSUE            the issue's workflow id (issue:<fingerprint>) or its fingerprint
  --playbook FILE  the playbook YAML to rehearse ("-" for stdin)
  --policy FILE    policy to judge with (default: $POLICY_FILE, else policies/default.v1.yaml)
  --db URL         audit store (default: $AUDIT_DB_URL, a postgres $DATABASE_URL, ./data/audit.sqlite)
  --json           the rehearsal as JSON
`;

export function createRehearseCommand(openAudit: (url: string) => Promise<AuditStore> = (url) => openAuditStore(url), now: () => number = Date.now): CliCommand {
  return {
    name: 'rehearse',
    summary: 'show what a playbook would do on one live issue (steps, texts, verdicts, approvers) without running it',
    async run(argv: string[], io: CliIo) {
      let v;
      let issue: string;
      try {
        const parsed = parseArgs({
          args: argv,
          allowPositionals: true,
          strict: true,
          options: { playbook: { type: 'string' }, policy: { type: 'string' }, db: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
        });
        v = parsed.values;
        if (v.help) {
          io.stdout.write(USAGE);
          return 0;
        }
        if (parsed.positionals.length !== 1) throw new UsageError('expected exactly one ISSUE');
        if (!v.playbook) throw new UsageError('--playbook FILE is required');
        issue = normalizeIssueId(parsed.positionals[0]!);
      } catch (e) {
        io.stderr.write(`loopwright rehearse: ${(e as Error).message}\n\n${USAGE}`);
        return 2;
      }
      try {
        const playbook = parsePlaybook(await readInputBytes(v.playbook, io.stdin), v.playbook === '-' ? 'stdin' : path.basename(v.playbook));
        const policy = await loadPolicyFile(v.policy ?? liveConfigFiles(io.env).policy);
        const url = resolveAuditDbUrl(v.db, io.env);
        const target = parseAuditUrl(url);
        if (target.backend === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) throw new LoopwrightError('not_found', `no audit database at ${target.path} (set --db or AUDIT_DB_URL)`);
        const audit = readOnlyAudit(await openAudit(url));
        try {
          const snapshot = await loadIssueSnapshot(audit, issue);
          if (!snapshot) throw new LoopwrightError('not_found', `the audit store links no message to ${issue}`);
          const r = await rehearsePlaybook(audit, snapshot, playbook, policy, now());
          io.stdout.write(v.json ? `${JSON.stringify(r, null, 2)}\n` : formatRehearsal(r));
          return 0;
        } finally {
          await audit.close();
        }
      } catch (e) {
        if (!isLoopwrightError(e)) throw e;
        io.stderr.write(`loopwright rehearse: ${e.code}: ${e.message}\n`);
        return 1;
      }
    },
  };
}

export const command: CliCommand = createRehearseCommand();
