/**
 * One call to get a Temporal test environment for workflow tests.
 *
 *   const env = await createTestEnv({ searchAttributes: [CATEGORY_KEY, STATUS_KEY] });
 *   const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('feedback'), ... });
 *   await worker.runUntil(env.client.workflow.execute(feedbackWorkflow, { taskQueue, workflowId, args }));
 *   await env.teardown();
 *
 * By default it launches the in-memory service from packages/temporal-test-server through the
 * official `TestWorkflowEnvironment.createTimeSkipping` API (time skipping on: `env.sleep`
 * and waiting on `result()` skip timers). When TEMPORAL_ADDRESS is set (host:port of a real
 * server, TEMPORAL_NAMESPACE optional, default "default"), it connects to that server instead,
 * registers the requested search attributes there, and time passes for real, so tests that
 * must run against both should not depend on skipped hours.
 *
 * It must not start anything else and must not read other configuration: no Docker, no
 * downloads. The in-memory service needs its dist built (`npm run build -w
 * @loopwright/temporal-test-server`, done by the root `pretest` script).
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { isGrpcServiceError } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
// Default import: @temporalio/proto is CommonJS, and plain Node ESM (a worker child process) has no named export for it.
import proto from '@temporalio/proto';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';

export interface TestEnvOptions {
  /** Custom search attributes the workflows under test upsert or are started with. */
  searchAttributes?: SearchAttributeKey<SearchAttributeType>[];
}

/** Path of the in-memory server's launcher, resolved through the workspace package. */
export function inMemoryServerPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@loopwright/temporal-test-server/package.json');
  return path.join(path.dirname(pkg), 'bin', 'temporal-test-server');
}

export async function createTestEnv(opts: TestEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const searchAttributes = opts.searchAttributes ?? [];
  const address = process.env['TEMPORAL_ADDRESS'];
  if (!address) {
    return TestWorkflowEnvironment.createTimeSkipping({
      server: {
        executable: { type: 'existing-path', path: inMemoryServerPath() },
        // The same flag the dev server takes; the in-memory service registers them at start-up.
        extraArgs: searchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${TypedSearchAttributes.toMetadataType(k.type)}`]),
      },
    });
  }
  const namespace = process.env['TEMPORAL_NAMESPACE'] || 'default';
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
  if (searchAttributes.length > 0) {
    try {
      await env.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(searchAttributes.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]])),
      });
    } catch (e) {
      // Already registered by an earlier run: that is the state we want.
      if (!(isGrpcServiceError(e) && e.code === GrpcStatus.ALREADY_EXISTS)) throw e;
    }
  }
  return env;
}

/** A task queue name no other test (or earlier run against a shared server) uses. */
export function uniqueTaskQueue(name: string): string {
  return `${name}-${randomUUID()}`;
}
