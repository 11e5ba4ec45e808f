// Loads versioned playbook YAML files from a directory. The only I/O in playbooks/: it reads the
// files, validates each with ZPlaybook and returns them with version and sha256 content hash.
// All or nothing: one bad file (or a duplicate id@version) fails the whole load, naming the file.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoopwrightError } from '../workflows/domain/errors.js';
import { playbookVersionTag, ZPlaybook, type TLoadedPlaybook } from './schema.js';
import { parseYamlFile } from './yaml-file.js';

export function parsePlaybook(bytes: Buffer | string, fileName: string): TLoadedPlaybook {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const playbook = parseYamlFile(buf.toString('utf8'), fileName, ZPlaybook);
  return { playbook, version: playbookVersionTag(playbook), contentHash: createHash('sha256').update(buf).digest('hex'), fileName };
}

/** Every `*.yaml` / `*.yml` file in `dir` (not recursive), sorted by file name. */
export async function loadPlaybookDir(dir: string): Promise<TLoadedPlaybook[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new LoopwrightError('invalid_config', `cannot read playbook directory: ${(e as NodeJS.ErrnoException).code ?? 'read error'}`, {
      retryable: false,
      details: { dir },
      cause: e,
    });
  }
  if (names.length === 0) {
    throw new LoopwrightError('invalid_config', 'playbook directory holds no .yaml files', { retryable: false, details: { dir } });
  }
  const loaded: TLoadedPlaybook[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const entry = parsePlaybook(await readFile(join(dir, name)), name);
    const first = seen.get(entry.version);
    if (first !== undefined) {
      throw new LoopwrightError('invalid_config', `${name}: playbook ${entry.version} is already defined in ${first}`, {
        retryable: false,
        details: { file: name, field: 'version', firstFile: first },
      });
    }
    seen.set(entry.version, name);
    loaded.push(entry);
  }
  return loaded;
}
