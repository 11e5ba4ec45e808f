/**
 * The Temporal CLI argv form (`server start-dev --port N ...`) used by createLocal: a server
 * without time skipping, plus the argument parser for both forms.
 */
import { expect, test } from 'vitest';
import { Worker } from '@temporalio/worker';
import { localEnv, taskQueue, workflowBundle } from './harness.js';
import { parseArgs } from '../src/args.js';

test('createLocal launches it as a dev server: real time, workflows run', async () => {
  const env = await localEnv();
  try {
    expect(env.supportsTimeSkipping).toBe(false);
    const tq = taskQueue('local');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: tq, workflowBundle: await workflowBundle() });
    const elapsed = await worker.runUntil(env.client.workflow.execute('sleeper', { args: [300], taskQueue: tq, workflowId: `local-${tq}` }));
    expect(elapsed).toBeGreaterThanOrEqual(300);
  } finally {
    await env.teardown();
  }
});

test('argv: time-skipping form and dev-server form', () => {
  expect(parseArgs(['7233'])).toMatchObject({ port: 7233, timeSkipping: true });
  expect(parseArgs(['0', '--search-attribute', 'LoopwrightCategory=Keyword'])).toMatchObject({ searchAttributes: { LoopwrightCategory: 'INDEXED_VALUE_TYPE_KEYWORD' } });
  const dev = parseArgs([
    'server', 'start-dev', '--port', '7999', '--namespace', 'loopwright', '--ip', '127.0.0.1', '--log-format', 'pretty', '--log-level', 'warn',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true', '--headless', '--search-attribute', 'LoopwrightSeverity=Keyword',
  ]);
  expect(dev).toMatchObject({ port: 7999, timeSkipping: false, host: '127.0.0.1', namespaces: ['default', 'loopwright'], searchAttributes: { LoopwrightSeverity: 'INDEXED_VALUE_TYPE_KEYWORD' } });
  expect(() => parseArgs([])).toThrow(/usage/);
  expect(() => parseArgs(['server', 'start-dev', '--port'])).toThrow(/--port needs a value/);
  expect(() => parseArgs(['server', 'start-dev', '--search-attribute', 'X=Nope'])).toThrow(/invalid --search-attribute/);
});
