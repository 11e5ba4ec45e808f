#!/usr/bin/env node
// `loopwright <command> [...args]`: the command-line entry point (package.json "bin", compiled to
// dist/worker/cli.js). Each command is one module in worker/commands/<name>.ts exporting
// `command: CliCommand`; this file only dispatches, so adding a command never touches it.
// Helper modules in commands/ (no `command` export) are not listed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoopwrightError } from '../workflows/domain/errors.js';
import type { CliCommand } from './commands/types.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));
const HELPERS = new Set(['types', 'args']);

function listCommands(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => /^[a-z][a-z-]*\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .filter((n) => !HELPERS.has(n))
    .sort();
}

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  if (!listCommands().includes(name)) return undefined;
  const mod = (await import(`./commands/${name}.js`)) as { command?: CliCommand };
  return mod.command;
}

/** The version in package.json, from the sources (worker/) or the compiled tree (dist/worker/). */
export function packageVersion(): string {
  for (const rel of ['..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, rel, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'loopwright' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next level up
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`loopwright ${packageVersion()}\n`);
    return 0;
  }
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    // Only modules that export a command: helpers shared by commands (issue-command, …) are not listed.
    const listed = (await Promise.all(listCommands().map(async (n) => [n, await loadCommand(n)] as const))).filter((e): e is readonly [string, CliCommand] => e[1] !== undefined);
    const width = Math.max(...listed.map(([n]) => n.length));
    const lines = listed.map(([n, c]) => `  ${n.padEnd(width)} ${c.summary}`);
    process.stdout.write(`usage: loopwright <command> [options]\n       loopwright --version\n\ncommands:\n${lines.join('\n')}\n\n"loopwright <command> --help" tells more.\n`);
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`loopwright: unknown command "${name}" (try: loopwright help)\n`);
    return 2;
  }
  return command.run(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isLoopwrightError(err)) {
      process.stderr.write(`loopwright: ${err.code}: ${err.message}\n`);
    } else {
      process.stderr.write(`loopwright: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
