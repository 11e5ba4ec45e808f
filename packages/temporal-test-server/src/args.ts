/**
 * Command-line parsing for the server executable. Accepts the time-skipping test server form
 * `<port> [--search-attribute name=Type ...]` and the Temporal CLI dev server form
 * `server start-dev --port N [--ip H] [--namespace NS] [--search-attribute name=Type] ...`
 * (which runs without time skipping; other dev-server flags are accepted and ignored).
 * Pure: it must not start anything.
 */
import type { TestServerOptions } from './server.js';
import { indexedValueType } from './store.js';

export class UsageError extends Error {}

/** Parses either argv form into server options. Unknown dev-server flags are ignored. */
export function parseArgs(argv: string[]): TestServerOptions {
  if (argv[0] === 'server' && argv[1] === 'start-dev') {
    const opts: TestServerOptions = { port: 7233, timeSkipping: false, namespaces: ['default'], searchAttributes: {} };
    for (let i = 2; i < argv.length; i++) {
      const flag = argv[i]!;
      const [name, inline] = flag.includes('=') && flag.startsWith('--') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
      const takesValue = ['--port', '-p', '--ip', '--namespace', '-n', '--search-attribute', '--log-format', '--log-level', '--dynamic-config-value', '--db-filename', '-f', '--ui-port', '--ui-ip', '--http-port', '--metrics-port', '--sqlite-pragma', '--log-config'].includes(name);
      const value = inline ?? (takesValue ? argv[++i] : undefined);
      if (takesValue && value === undefined) throw new UsageError(`${name} needs a value`);
      if (name === '--port' || name === '-p') {
        opts.port = Number(value);
        if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new UsageError(`invalid --port ${String(value)}`);
      } else if (name === '--ip') opts.host = value!;
      else if (name === '--namespace' || name === '-n') opts.namespaces = [...new Set([...(opts.namespaces ?? []), value!])];
      else if (name === '--search-attribute') {
        const [saName, saType] = value!.split('=');
        const type = saType ? indexedValueType(saType) : undefined;
        if (!saName || !type) throw new UsageError(`invalid --search-attribute ${value!} (expected name=Type)`);
        opts.searchAttributes![saName] = type;
      }
    }
    return opts;
  }
  const port = Number(argv[0]);
  if (argv.length === 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError('usage: temporal-test-server <port> | temporal-test-server server start-dev --port <port> [...]');
  }
  // The testing API appends `--search-attribute name=Type` pairs after the port when asked to.
  const searchAttributes: Record<string, string> = {};
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] !== '--search-attribute') continue;
    const value = argv[++i] ?? '';
    const [saName, saType] = value.split('=');
    const type = saType ? indexedValueType(saType) : undefined;
    if (!saName || !type) throw new UsageError(`invalid --search-attribute ${value} (expected name=Type)`);
    searchAttributes[saName] = type;
  }
  return { port, timeSkipping: true, namespaces: ['default'], searchAttributes };
}
