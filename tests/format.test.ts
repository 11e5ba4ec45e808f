// The formatter stays applied to workflow code (prettier, .prettierrc.json: the samples' style with
// printWidth 120): every workflows/**/*.ts file must be exactly what prettier would write, and so must
// the files outside workflows/ listed in FORMATTED_OUTSIDE_WORKFLOWS (added one at a time as each is
// formatted, so no one's work in progress is reformatted under them; keep it in step with the
// `lint`/`format` scripts of package.json). `npm run format` fixes them; `npm run format:check` is
// the same check from the command line.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const FORMATTED_OUTSIDE_WORKFLOWS = ['activities/grouping/route.ts'];
const files = [
  ...(readdirSync(path.join(root, 'workflows'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, 'workflows', f)),
  ...FORMATTED_OUTSIDE_WORKFLOWS.map((f) => path.join(root, f)),
].sort();

describe('workflow code formatting', () => {
  it('every workflows/**/*.ts file (and each listed file elsewhere) is formatted with the repository prettier config', async () => {
    expect(files.length).toBeGreaterThan(20);
    const unformatted: string[] = [];
    for (const file of files) {
      const options = await resolveConfig(file, { editorconfig: false });
      expect(options?.printWidth).toBe(120);
      if (!(await check(readFileSync(file, 'utf8'), { ...options, filepath: file }))) unformatted.push(path.relative(root, file));
    }
    expect(unformatted, 'run `npm run format`').toEqual([]);
    // The scripts check the same files as this test.
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['lint', 'format', 'format:check']) for (const f of FORMATTED_OUTSIDE_WORKFLOWS) expect(scripts[name], name).toContain(f);
  }, 120_000);

  it('the check does refuse code the formatter would change', async () => {
    const file = path.join(root, 'workflows/issue.ts');
    const options = await resolveConfig(file, { editorconfig: false });
    expect(await check('export const a = {b:1}\n', { ...options, filepath: file })).toBe(false);
    expect(await check("export const a = { b: 1 };\n", { ...options, filepath: file })).toBe(true);
  });
});
