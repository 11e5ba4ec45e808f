// A ContextSource over a YAML or JSON file (`events: [...]`) that operators or a CI job keep up to
// date. Validated at worker start-up (`check`, called by validateContextSources from
// worker/bootstrap.ts), then re-read on every call so edits apply without a restart; a bad file
// fails with file, line and field rather than silently dropping events.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { parseYamlFile } from '../../playbooks/yaml-file.js';
import { eventsInRange, ZContextDocument, type TContextEvent, type TTimeRange } from './events.js';
import type { ContextSource } from './ports.js';

export interface FileContextSourceOptions {
  name?: string;
}

export function createFileContextSource(path: string, options: FileContextSourceOptions = {}): ContextSource {
  const fileName = basename(path);
  const read = async (): Promise<TContextEvent[]> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new LoopwrightError('invalid_config', `cannot read context file ${fileName}: ${(e as NodeJS.ErrnoException).code ?? 'read error'}`, {
        retryable: false,
        details: { file: fileName },
        cause: e,
      });
    }
    // YAML is a superset of JSON, so one parser serves both and gives line numbers for either.
    return parseYamlFile(text, fileName, ZContextDocument).events;
  };
  return {
    name: options.name ?? `file:${fileName}`,
    async check(): Promise<void> {
      await read();
    },
    async listEvents(range: TTimeRange): Promise<TContextEvent[]> {
      return eventsInRange(await read(), range);
    },
  };
}
