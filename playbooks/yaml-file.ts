// Parses one operator-edited YAML file against a zod schema and turns every failure into a
// LoopwrightError naming the file, line, column and field. Shared by the playbook and policy
// loaders; it reads nothing itself (callers pass the text) and never returns partial data.
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { LoopwrightError } from '../workflows/domain/errors.js';

export interface TYamlLocation {
  file: string;
  line: number;
  column: number;
  field: string;
}

export function parseYamlFile<S extends z.ZodType>(text: string, fileName: string, schema: S): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lineCounter.linePos(syntax.pos[0]);
    throw configError({ file: fileName, line: pos.line, column: pos.col, field: '(syntax)' }, syntax.message.split('\n')[0] ?? 'YAML syntax error');
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  // The first issue carries the location; all of them go into the message so one edit fixes all.
  const issues = parsed.error.issues;
  const first = issues[0];
  const loc = locate(doc, lineCounter, fileName, first?.path ?? []);
  const all = issues.map((i) => `${fieldName(i.path)}: ${i.message}`).join('; ');
  throw configError(loc, all, issues.length);
}

function configError(loc: TYamlLocation, message: string, issueCount = 1): LoopwrightError {
  return new LoopwrightError('invalid_config', `${loc.file}:${loc.line}:${loc.column}: ${loc.field}: ${message}`, {
    retryable: false,
    details: { ...loc, issueCount },
  });
}

function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

/** The node at `path`, or its deepest existing ancestor when the field is missing. */
function locate(doc: Document, lc: LineCounter, file: string, path: ReadonlyArray<PropertyKey>): TYamlLocation {
  const keys = path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = doc.getIn(keys.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { file, line: pos.line, column: pos.col, field: fieldName(path) };
    }
  }
  return { file, line: 1, column: 1, field: fieldName(path) };
}
