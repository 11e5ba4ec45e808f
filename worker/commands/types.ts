// The contract every CLI command implements. Commands get their streams and environment
// injected so tests run them in-process without touching the real terminal.
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Returns the process exit code: 0 ok, 1 failure, 2 usage error. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** What the CLI sends as User-Agent (`loopwright-cli/<version>`): the API records its decisions as via "cli". */
export const CLI_USER_AGENT = 'loopwright-cli';
