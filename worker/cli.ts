// `loopwright <command> [...args]`: the command-line entry point. Each command is one module in
// worker/commands/<name>.ts exporting `command: CliCommand`; this file only dispatches, so adding
// a command never touches it.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isLoopwrightError } from '../workflows/domain/errors.js';
import type { CliCommand } from './commands/types.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

function listCommands(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => /^[a-z][a-z-]*\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && f !== 'types.ts' && f !== 'types.js')
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
}

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  if (!listCommands().includes(name)) return undefined;
  const mod = (await import(`./commands/${name}.js`)) as { command: CliCommand };
  return mod.command;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const lines = await Promise.all(listCommands().map(async (n) => `  ${n.padEnd(10)} ${(await loadCommand(n))?.summary ?? ''}`));
    process.stdout.write(`usage: loopwright <command> [options]\n\ncommands:\n${lines.join('\n')}\n`);
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
