// The baseline's worker process: the bare two-activity workflow on its own task queue, with the
// SDK's default worker options, which is what worker/main.ts uses for Loopwright's workers, and the
// same payload codec (LOOPWRIGHT_PAYLOAD_KEYS), so the ratio compares like with like.
// Started by bench/loop.ts as a separate process (like the real worker) from TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE and BARE_TASK_QUEUE; stops on SIGTERM.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBareActivities } from './activities.js';
import { createDataConverter, payloadKeysFromEnv } from '../../worker/data-converter.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '' });
const worker = await Worker.create({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: process.env.BARE_TASK_QUEUE ?? 'bench-bare',
  workflowsPath: path.join(import.meta.dirname, 'workflows.ts'),
  activities: createBareActivities(),
  dataConverter: createDataConverter(payloadKeysFromEnv() ?? (() => { throw new Error('LOOPWRIGHT_PAYLOAD_KEYS is required'); })()),
});
process.once('SIGTERM', () => worker.shutdown());
process.stdout.write('bare worker: running\n');
await worker.run();
await connection.close();
