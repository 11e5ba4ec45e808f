// Parses one operator-edited YAML file against a zod schema and turns every failure into a
// LoopwrightError naming the file, line, column and field. Shared by the playbook and policy
// loaders; it reads nothing itself (callers pass the text) and never returns partial data.
import { isNode, isScalar, LineCounter, parseDocument, Scalar, type Document } from 'yaml';
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
  const loc = locate(doc, lineCounter, fileName, first?.path ?? [], templatePosition(first), text.split('\n'));
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

/** A template problem's line and column inside the text (playbooks/schema.ts puts them in params). */
function templatePosition(issue: z.core.$ZodIssue | undefined): { row: number; col: number } | undefined {
  const t = (issue as { params?: { template?: { row?: unknown; col?: unknown } } } | undefined)?.params?.template;
  return typeof t?.row === 'number' && typeof t.col === 'number' ? { row: t.row, col: t.col } : undefined;
}

/**
 * The node at `path`, or its deepest existing ancestor when the field is missing. With `inText`
 * (a position inside a template string) the location is that line of the file: a block scalar's
 * text starts on the line after its `|` or `>`, a flow scalar's on its own line.
 */
function locate(doc: Document, lc: LineCounter, file: string, path: ReadonlyArray<PropertyKey>, inText?: { row: number; col: number }, source: readonly string[] = []): TYamlLocation {
  const keys = path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = doc.getIn(keys.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      if (inText && depth === keys.length && isScalar(node)) {
        const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
        if (block) {
          // The text's first line: the line after the indicator; its indentation is the content's.
          const textStart = lc.linePos(node.range[0]).line + inText.row;
          const indent = /^[ \t]*/.exec(source[textStart - 1] ?? '')?.[0].length ?? 0;
          return { file, line: textStart, column: indent + inText.col, field: fieldName(path) };
        }
        const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
        return { file, line: pos.line + inText.row - 1, column: inText.row === 1 ? pos.col + inText.col - (quoted ? 0 : 1) : inText.col, field: fieldName(path) };
      }
      return { file, line: pos.line, column: pos.col, field: fieldName(path) };
    }
  }
  return { file, line: 1, column: 1, field: fieldName(path) };
}
