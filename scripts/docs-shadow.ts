// The example outputs in docs/shadow.md, produced by `loopwright shadow` itself (worker/commands/shadow.ts,
// run in-process with a fixed clock over the bundled sample, TF-IDF model) and spliced between the
// `<!-- docs:examples NAME -->` … `<!-- /docs:examples -->` markers of the committed page. The
// replay rate varies from run to run and machine to machine, so it is written as "… messages/s"
// (the Speed section quotes the benchmark). Pure apart from reading the sample and the configuration:
// `npm run docs:examples` writes the page, tests/docs-examples.test.ts checks it is current.
import { PassThrough } from 'node:stream';
import { createShadowCommand } from '../worker/commands/shadow.js';

const NOW = Date.parse('2026-11-27T09:00:00Z');
const SAMPLE = 'samples/feedback-sample.jsonl';

interface TExample {
  /** The command as a reader types it (after `npm run cli -- shadow`). */
  argv: string[];
  /** How the command line is shown (wrapped); defaults to the argv on one line. */
  shown?: string;
  /** Keep only the first rows of each table, and no prompt lines. */
  abridge?: number;
}

const EXAMPLES: Record<string, TExample> = {
  'shadow-policy': {
    argv: ['--tfidf', '--input', SAMPLE, '--policy', 'tests/fixtures/shadow/policy-auto-reply.v1.1.yaml', '--fail-on', 'auto-customer-facing,reclassified>5%'],
    shown: `npm run cli -- shadow --tfidf --input ${SAMPLE} \\\n    --policy tests/fixtures/shadow/policy-auto-reply.v1.1.yaml --fail-on 'auto-customer-facing,reclassified>5%'`,
  },
  'shadow-taxonomy': {
    argv: ['--tfidf', '--input', SAMPLE, '--taxonomy', 'taxonomies/general.v1.yaml', '--fail-on', 'reclassified>5%'],
    abridge: 3,
  },
};

async function runShadowCli(argv: string[], root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const chunks = { stdout: '', stderr: '' };
  const stream = (k: keyof typeof chunks) => {
    const s = new PassThrough();
    s.on('data', (c) => (chunks[k] += String(c)));
    return s;
  };
  const io = { stdin: new PassThrough(), stdout: stream('stdout'), stderr: stream('stderr'), env: {} };
  const cwd = process.cwd();
  // File arguments are relative to the repository, as a reader runs them.
  process.chdir(root);
  try {
    const code = await createShadowCommand(undefined, () => NOW).run(argv, io);
    return { code, ...chunks };
  } finally {
    process.chdir(cwd);
  }
}

/** The first `rows` rows of every table (header and rule kept), the headline whole. */
function abridgeText(text: string, rows: number): string {
  const out: string[] = [];
  let inTable = 0;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line) || line === '') inTable = 0;
    else if (/^ {2}-{3,}/.test(line)) inTable = 1;
    else if (inTable > 0 && inTable++ > rows) continue;
    out.push(line);
  }
  return out.join('\n');
}

async function renderExample(e: TExample, root: string): Promise<string> {
  const r = await runShadowCli(e.argv, root);
  const stdout = r.stdout.replace(/, [\d.]+ messages\/s/, ', … messages/s').trimEnd();
  if (e.abridge !== undefined) {
    // From the headline on: the configuration lines say what the flags say.
    const body = stdout.split('\n').slice(stdout.split('\n').findIndex((l) => /messages replayed/.test(l)));
    return `${abridgeText(body.join('\n'), e.abridge).replace(/\n{3,}/g, '\n\n')}\n`;
  }
  return [`$ ${e.shown ?? `npm run cli -- shadow ${e.argv.join(' ')}`}`, stdout, r.stderr.trimEnd(), '$ echo $?', String(r.code), ''].filter((l, i, a) => l !== '' || i === a.length - 1).join('\n');
}

/** docs/shadow.md with every marked example replaced by what the command prints today. */
export async function shadowDoc(current: string, root: string): Promise<string> {
  let doc = current;
  for (const [name, example] of Object.entries(EXAMPLES)) {
    const re = new RegExp(`(<!-- docs:examples ${name} -->\\n\`\`\`text\\n)[\\s\\S]*?(\`\`\`\\n<!-- /docs:examples -->)`);
    if (!re.test(doc)) throw new Error(`docs/shadow.md has no <!-- docs:examples ${name} --> block`);
    const text = await renderExample(example, root);
    doc = doc.replace(re, (_m, open: string, close: string) => `${open}${text}${close}`);
  }
  return doc;
}
