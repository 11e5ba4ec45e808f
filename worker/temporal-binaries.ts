// Where the official Temporal server programs are on this machine. Used by `npm start` (the dev
// server) and by the tests (the dev server and the Java time-skipping test server).
//
// Order, for each program: the executable named by an environment variable; the program on PATH
// (the CLI only); the cache that scripts/install-temporal.sh fills; else null, and the caller may
// fall back to the SDK's own download (which needs internet). This module never downloads or
// builds anything and never substitutes another program.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const INSTALL_HINT = 'bash scripts/install-temporal.sh';

function executable(candidate: string | undefined): string | null {
  if (!candidate) return null;
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return null;
  }
}

function onPath(binary: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const found = executable(path.join(dir, binary));
    if (found) return found;
  }
  return null;
}

/** The cache scripts/install-temporal.sh installs into (same rule as the script). */
export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOOPWRIGHT_TOOLS_DIR) return env.LOOPWRIGHT_TOOLS_DIR;
  const cache = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'loopwright');
}

export interface FoundBinary {
  path: string;
  /** Where it was found, for the start-up log line. */
  via: string;
}

/** The Temporal CLI (`temporal server start-dev`). */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): FoundBinary | null {
  const named = env.LOOPWRIGHT_TEMPORAL_CLI;
  if (named) {
    const p = executable(named);
    if (!p) throw new Error(`LOOPWRIGHT_TEMPORAL_CLI=${named} is not an executable file`);
    return { path: p, via: 'LOOPWRIGHT_TEMPORAL_CLI' };
  }
  const pathHit = onPath('temporal', env);
  if (pathHit) return { path: pathHit, via: 'PATH' };
  const cached = executable(path.join(toolsCacheDir(env), 'bin', 'temporal'));
  if (cached) return { path: cached, via: `${INSTALL_HINT} cache` };
  return null;
}

/** The official Java time-skipping test server, behind the wrapper the install script writes. */
export function findTimeSkippingServer(env: NodeJS.ProcessEnv = process.env): FoundBinary | null {
  const named = env.LOOPWRIGHT_TEMPORAL_TEST_SERVER;
  if (named) {
    const p = executable(named);
    if (!p) throw new Error(`LOOPWRIGHT_TEMPORAL_TEST_SERVER=${named} is not an executable file`);
    return { path: p, via: 'LOOPWRIGHT_TEMPORAL_TEST_SERVER' };
  }
  const cached = executable(path.join(toolsCacheDir(env), 'bin', 'temporal-test-server'));
  if (cached) return { path: cached, via: `${INSTALL_HINT} cache` };
  return null;
}
