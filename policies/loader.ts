// Loads the policy file. The only I/O in policies/: it reads one YAML file, validates it with
// ZPolicy and returns it with its content hash. A bad file throws (file, line, field); callers
// must treat that as "no policy", which evaluatePolicy turns into deny for every step.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { parseYamlFile } from '../playbooks/yaml-file.js';
import { policyVersionTag, ZPolicy, type TPolicy } from './schema.js';

export interface TLoadedPolicy {
  policy: TPolicy;
  /** `id@version`, recorded in every verdict. */
  version: string;
  /** sha256 of the file bytes, hex: proves which exact file decided. */
  contentHash: string;
  fileName: string;
}

export function parsePolicy(bytes: Buffer | string, fileName: string): TLoadedPolicy {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const policy = parseYamlFile(buf.toString('utf8'), fileName, ZPolicy);
  return { policy, version: policyVersionTag(policy), contentHash: createHash('sha256').update(buf).digest('hex'), fileName };
}

export async function loadPolicyFile(path: string): Promise<TLoadedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new LoopwrightError('invalid_config', `cannot read policy file ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? 'read error'}`, {
      retryable: false,
      details: { file: basename(path) },
      cause: e,
    });
  }
  return parsePolicy(bytes, basename(path));
}
