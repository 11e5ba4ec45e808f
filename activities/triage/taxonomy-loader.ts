// Loads taxonomy YAML into a validated `TTaxonomy`, or fails with every problem located as
// `file:line: field.path: message`. Owns YAML parsing, zod validation and error location only.
// It must not fill in missing categories, coerce bad values or return a partially valid taxonomy:
// an operator's typo has to stop the worker at start-up, never silently change classification.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import { ZTaxonomy, type TTaxonomy } from '../../workflows/domain/taxonomy.js';

export type BundledTaxonomy = 'general' | 'banking';

const BUNDLED: Record<BundledTaxonomy, string> = {
  general: 'general.v2.yaml',
  banking: 'banking.v1.yaml',
};

/** Absolute path of a taxonomy shipped in taxonomies/, independent of the process's cwd. */
export function bundledTaxonomyPath(name: BundledTaxonomy): string {
  const file = BUNDLED[name];
  if (file === undefined) throw new LoopwrightError('invalid_config', `unknown bundled taxonomy "${String(name)}" (known: ${Object.keys(BUNDLED).join(', ')})`);
  // From source (tsx) the file is two levels up; from a `tsc` build in dist/ it is three, because
  // YAML is not copied into dist. Checking both keeps one code path for dev and production.
  const candidates = [`../../taxonomies/${file}`, `../../../taxonomies/${file}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export interface TaxonomyProblem {
  file: string;
  /** 1-based; 0 when the problem has no position (e.g. an empty file). */
  line: number;
  path: string;
  message: string;
}

/** Reads and validates a taxonomy file. Errors are `invalid_config` naming the file. */
export function loadTaxonomyFile(path: string): TTaxonomy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new LoopwrightError('invalid_config', `${path}: cannot read taxonomy file (${code})`, { details: { file: path }, cause: e });
  }
  return parseTaxonomy(text, path);
}

/**
 * Parses taxonomy YAML. `fileName` is only used in messages. Throws LoopwrightError('invalid_config')
 * whose message lists every problem as `file:line: path: message`, first problem first; the same
 * problems are in `details.problems`.
 */
export function parseTaxonomy(yamlText: string, fileName: string): TTaxonomy {
  const lineCounter = new LineCounter();
  // uniqueKeys is the default, but a duplicated category key silently overriding the first is
  // exactly the half-load we refuse, so keep it explicit.
  const doc = parseDocument(yamlText, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 0 : lineCounter.linePos(offset).line);

  if (doc.errors.length > 0) {
    fail(
      fileName,
      doc.errors.map((e) => ({ file: fileName, line: e.linePos?.[0].line ?? lineOf(e.pos[0]), path: '(yaml)', message: firstLine(e.message) })),
    );
  }
  if (doc.contents === null) fail(fileName, [{ file: fileName, line: 0, path: '(root)', message: 'taxonomy file is empty' }]);

  const result = ZTaxonomy.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (result.success) {
    const semantic = semanticProblems(result.data).map((p) => ({ file: fileName, line: lineOf(nodeOffset(doc, p.path)), path: p.path.join('.'), message: p.message }));
    if (semantic.length > 0) fail(fileName, semantic);
    return result.data;
  }

  const problems: TaxonomyProblem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : p));
    if (issue.code === 'unrecognized_keys') {
      // One problem per key, located at the key itself: that is the line the operator must fix.
      for (const key of issue.keys) {
        problems.push({ file: fileName, line: lineOf(keyOffset(doc, path, key)), path: [...path, key].join('.'), message: 'unrecognized key' });
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && path.length > 0 && !exists(doc, path);
    problems.push({
      file: fileName,
      line: lineOf(nodeOffset(doc, path)),
      path: path.length ? path.join('.') : '(root)',
      message: missing ? `required field is missing (${issue.message})` : issue.message,
    });
  }
  fail(fileName, problems.sort((a, b) => a.line - b.line));
}

/**
 * What the schema cannot express: severity patterns must compile (they are evaluated on every
 * message later, where a SyntaxError would be far from its cause), and one example text must not
 * train two categories (the model would learn a contradiction).
 */
function semanticProblems(t: TTaxonomy): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  t.severityHints.forEach((h, i) => {
    try {
      new RegExp(h.pattern, 'i');
    } catch (e) {
      problems.push({ path: ['severityHints', i, 'pattern'], message: `invalid regular expression (${(e as Error).message})` });
    }
  });
  const owner = new Map<string, string>();
  t.categories.forEach((c, i) => {
    c.examples.forEach((example, j) => {
      const key = example.trim().toLowerCase();
      const first = owner.get(key);
      if (first !== undefined && first !== c.id) {
        problems.push({ path: ['categories', i, 'examples', j], message: `example "${example}" is also an example of "${first}"` });
      }
      if (first === undefined) owner.set(key, c.id);
    });
  });
  return problems;
}

function fail(fileName: string, problems: TaxonomyProblem[]): never {
  const lines = problems.map((p) => `${p.file}:${p.line}: ${p.path}: ${p.message}`);
  throw new LoopwrightError('invalid_config', lines.join('\n'), { details: { file: fileName, problems } });
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** Offset of the deepest node that exists along `path`, so a missing field points at its parent. */
function nodeOffset(doc: Document, path: ReadonlyArray<string | number>): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    const next = child(node, segment);
    if (next === undefined) break;
    node = next;
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function exists(doc: Document, path: ReadonlyArray<string | number>): boolean {
  let node: unknown = doc.contents;
  for (const segment of path) {
    node = child(node, segment);
    if (node === undefined) return false;
  }
  return true;
}

function keyOffset(doc: Document, path: ReadonlyArray<string | number>, key: string): number | undefined {
  let node: unknown = doc.contents;
  for (const segment of path) {
    node = child(node, segment);
    if (node === undefined) return nodeOffset(doc, path);
  }
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) return pair.key.range?.[0];
  }
  return nodeOffset(doc, path);
}

function child(node: unknown, segment: string | number): unknown {
  if (isMap(node)) {
    const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
    return pair?.value ?? undefined;
  }
  if (isSeq(node) && typeof segment === 'number') return node.items[segment];
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
