/**
 * Programmatic entry point: start the in-memory service inside a process (most users launch
 * the `temporal-test-server` bin through @temporalio/testing instead).
 */
export { startTestServer, type RunningTestServer, type TestServerOptions } from './server.js';
export { parseArgs, UsageError } from './args.js';
