/**
 * The visibility filter: parses the subset of Temporal's list query language this service
 * supports and evaluates it against one execution's indexed fields.
 *
 * Supported: `=` and `!=` comparisons joined by AND / OR (AND binds tighter) and parentheses,
 * on WorkflowType, WorkflowId, RunId, TaskQueue, ExecutionStatus and custom keyword search
 * attributes. It must not silently ignore anything else: unsupported syntax is an error, so a
 * test never passes against a filter that matched everything.
 */

export interface IndexedFields {
  /** Builtin fields (WorkflowType, WorkflowId, RunId, TaskQueue, ExecutionStatus). */
  builtin: Record<string, string>;
  /** Decoded custom search attribute values; keyword lists are arrays. */
  custom: Record<string, unknown>;
}

type Node =
  | { kind: 'cmp'; field: string; op: '=' | '!='; value: string }
  | { kind: 'and' | 'or'; left: Node; right: Node };

export type Filter = (fields: IndexedFields) => boolean;

export class VisibilityQueryError extends Error {}

const STATUS_NAMES: Record<string, string> = {
  Running: 'WORKFLOW_EXECUTION_STATUS_RUNNING',
  Completed: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
  Failed: 'WORKFLOW_EXECUTION_STATUS_FAILED',
  Canceled: 'WORKFLOW_EXECUTION_STATUS_CANCELED',
  Terminated: 'WORKFLOW_EXECUTION_STATUS_TERMINATED',
  ContinuedAsNew: 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW',
  TimedOut: 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT',
};

function tokenize(query: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:(\(|\))|(!=|=)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_.]*|-?[0-9]+(?:\.[0-9]+)?))/y;
  let pos = 0;
  while (pos < query.length) {
    if (/^\s*$/.test(query.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(query);
    if (!m) throw new VisibilityQueryError(`unsupported syntax at offset ${pos}: ${query.slice(pos, pos + 20)}`);
    pos = re.lastIndex;
    if (m[1] ?? m[2]) tokens.push((m[1] ?? m[2])!);
    else if (m[3] !== undefined) tokens.push(`\u0000${m[3].replace(/\\(.)/g, '$1')}`);
    else if (m[4] !== undefined) tokens.push(`\u0000${m[4].replace(/\\(.)/g, '$1')}`);
    else tokens.push(m[5]!);
  }
  return tokens;
}

/** Parses a list query; an empty query matches every execution. */
export function parseVisibilityQuery(query: string): Filter {
  const tokens = tokenize(query);
  if (tokens.length === 0) return () => true;
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (what: string): string => {
    const t = tokens[i++];
    if (t === undefined) throw new VisibilityQueryError(`unexpected end of query, expected ${what}`);
    return t;
  };
  const parseTerm = (): Node => {
    const t = next('a field or "("');
    if (t === '(') {
      const inner = parseOr();
      if (next('")"') !== ')') throw new VisibilityQueryError('expected ")"');
      return inner;
    }
    if (t.startsWith('\u0000') || t === ')') throw new VisibilityQueryError(`expected a field name, got ${t.replace('\u0000', '')}`);
    const op = next('"=" or "!="');
    if (op !== '=' && op !== '!=') throw new VisibilityQueryError(`unsupported operator "${op}" after ${t}`);
    const raw = next('a value');
    if (raw === '(' || raw === ')') throw new VisibilityQueryError(`expected a value after ${t} ${op}`);
    return { kind: 'cmp', field: t, op, value: raw.startsWith('\u0000') ? raw.slice(1) : raw };
  };
  const parseAnd = (): Node => {
    let left = parseTerm();
    while (peek()?.toUpperCase() === 'AND') {
      i++;
      left = { kind: 'and', left, right: parseTerm() };
    }
    return left;
  };
  const parseOr = (): Node => {
    let left = parseAnd();
    while (peek()?.toUpperCase() === 'OR') {
      i++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const ast = parseOr();
  if (i < tokens.length) throw new VisibilityQueryError(`unsupported syntax near "${tokens[i]!.replace('\u0000', '')}"`);
  return (fields) => evaluate(ast, fields);
}

function evaluate(node: Node, fields: IndexedFields): boolean {
  if (node.kind !== 'cmp') {
    return node.kind === 'and' ? evaluate(node.left, fields) && evaluate(node.right, fields) : evaluate(node.left, fields) || evaluate(node.right, fields);
  }
  let matches: boolean;
  if (node.field === 'ExecutionStatus') {
    const wanted = STATUS_NAMES[node.value];
    if (!wanted) throw new VisibilityQueryError(`unknown ExecutionStatus "${node.value}"`);
    matches = fields.builtin['ExecutionStatus'] === wanted;
  } else if (node.field in fields.builtin) {
    matches = fields.builtin[node.field] === node.value;
  } else {
    const v = fields.custom[node.field];
    matches = Array.isArray(v) ? v.map(String).includes(node.value) : v !== undefined && v !== null && String(v) === node.value;
  }
  return node.op === '=' ? matches : !matches;
}
